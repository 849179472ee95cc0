"""Text normalisation before synthesis: write out what the attendant says the way it is said.

Piper (through espeak-ng) reads raw text badly: "$3.50" -> "dollar three point five zero",
"#7" -> "hash seven", "24/7" -> "twenty four slash seven", "12 min" -> "min", and "No. 4" is
split into two sentences at the period. So prices, machine numbers, times, durations, units
and symbols are spelt out before the text reaches the voice.

The pipeline is shared: Unicode forms, control characters and spaces are cleaned here, then
the language's own rules run (``Language.speech``, laundrybot/lang/<code>/speech.py), then the
spaces are tidied. A language without a unit gets only the clean-up.
"""

from __future__ import annotations

import unicodedata

from laundrybot.lang import find


def _clean(text: str) -> str:
    """Unicode forms, control characters and runs of spaces; what every language needs."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(text.split())


def normalize(text: str, lang: str) -> str:
    """Text as it should be spoken in ``lang`` ("en", "en-US", "ko", ...)."""
    language = find(lang)
    text = _clean(text)
    if language is not None:
        text = language.speech(text)
    return " ".join(text.split())
