"""English: everything the attendant needs to understand and speak English.

normalize.py (questions -> Normalized), intents.py (example phrases, mirror words),
wording.py (answer templates), numbers.py (number words both ways), speech.py (text for the
voice); the recogniser's phrase forms, the kiosk texts and the owner's daily summary are here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from laundrybot.lang import Language, read_talk
from laundrybot.lang.en import cues, intents, speech
from laundrybot.lang.en.normalize import Normalizer
from laundrybot.lang.en.numbers import number_value, number_words, recognised_number
from laundrybot.lang.en.wording import ENGLISH

# Words our normaliser makes up, back to what a customer says.
_SPOKEN = {"lostandfound": "lost and found", "phonepay": "apple pay"}


def recognised(phrase: str) -> str:
    """A phrase as Vosk writes it: lowercase, no punctuation, numbers in words."""
    words = re.sub(r"[^a-z0-9' ]+", " ", phrase.lower()).split()
    words = [_SPOKEN.get(w, recognised_number(int(w)) if w.isdigit() else w) for w in words]
    return " ".join(words)


def machine_phrases(kind: str, number: int) -> tuple[str, ...]:
    """("washer", 12) -> ("washer twelve", "machine twelve")."""
    said = recognised_number(number)
    return (f"{kind} {said}", f"machine {said}")


def summary_text(figures: Mapping[str, Any]) -> str:
    """The owner's daily summary."""
    esc = figures.get("escalations", {})
    escalations = ", ".join(f"{v} {k.replace('-', ' ')}" for k, v in sorted(esc.items()))
    notes = figures.get("notifications", {})
    return (
        f"In the last 24 hours: {figures.get('turns', 0)} questions answered; "
        f"escalations: {escalations or 'none'}; unit failures: "
        f"{figures.get('unit_failures', 0)}; notifications: {notes.get('delivered', 0)} "
        f"delivered, {notes.get('collapsed', 0)} folded into others, "
        f"{notes.get('pending', 0)} waiting, {notes.get('expired', 0)} given up."
    )


LANGUAGE = Language(
    code="en",
    name="English",
    privacy="Your questions and answers are kept as text for {days} days to improve the "
    "service. Your voice is never recorded or stored.",
    examples=intents.EXAMPLES,
    mirror=intents.MIRROR,
    normalizer=Normalizer,
    cues=cues.CUES,
    wording=ENGLISH,
    number_words=number_words,
    number_value=number_value,
    machine_phrases=machine_phrases,
    recognised=recognised,
    speech=speech.speak,
    summary=summary_text,
    talk=read_talk(__name__),
)
