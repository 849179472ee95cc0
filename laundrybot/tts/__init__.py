"""Speech synthesis: the Piper unit (`laundrybot serve tts`), its client and phrase cache."""
