"""Speech recognition: the Vosk unit (`laundrybot serve asr`) and its client."""
