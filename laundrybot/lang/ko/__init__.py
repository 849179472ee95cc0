"""Korean (한국어): everything the attendant needs to understand and speak Korean.

normalize.py (questions -> Normalized, with its own lexicon and cut), intents.py (example
phrases, mirror words), wording.py (answer templates, particles), numbers.py (Sino-Korean and
native number words both ways), speech.py (text for the voice); the recogniser's phrase forms,
the kiosk texts and the owner's daily summary are here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from laundrybot.lang import Language
from laundrybot.lang.ko import cues, intents, speech
from laundrybot.lang.ko.normalize import KoreanNormalizer
from laundrybot.lang.ko.numbers import korean_number, number_value
from laundrybot.lang.ko.wording import KOREAN


def recognised(phrase: str) -> str:
    """A phrase as the Korean model writes it: digits as Sino-Korean words, Latin in capitals."""
    words = re.sub(r"[^0-9A-Za-z가-힣 ]+", " ", phrase).split()
    return " ".join(korean_number(int(w)) if w.isdigit() else w.upper() for w in words)


def machine_phrases(kind: str, number: int) -> tuple[str, ...]:
    """("washer", 12) -> ("세탁기 십이 번", "십이 번 세탁기", "십이 번 기계")."""
    word, said = KOREAN.kinds[kind], korean_number(number)
    return (f"{word} {said} 번", f"{said} 번 {word}", f"{said} 번 기계")


# Escalations as the owner reads them in the summary.
_ESCALATIONS = {"call-staff": "직원 호출", "money-taken": "돈 먹은 기계", "machine-broken": "고장"}


def summary_text(figures: Mapping[str, Any]) -> str:
    """The owner's daily summary (the same figures as the English one)."""
    esc = figures.get("escalations", {})
    escalations = ", ".join(f"{_ESCALATIONS.get(k, k)} {v}건" for k, v in sorted(esc.items()))
    notes = figures.get("notifications", {})
    return (
        f"지난 24시간: 답변한 질문 {figures.get('turns', 0)}개, "
        f"신고: {escalations or '없음'}, 장애 난 서비스: {figures.get('unit_failures', 0)}번, "
        f"알림: 보냄 {notes.get('delivered', 0)}건, "
        f"다른 알림에 합침 {notes.get('collapsed', 0)}건, 대기 {notes.get('pending', 0)}건, "
        f"포기 {notes.get('expired', 0)}건."
    )


LANGUAGE = Language(
    code="ko",
    name="한국어",
    privacy="질문과 답변은 서비스 개선을 위해 {days}일 동안 글로만 보관돼요. "
    "목소리는 녹음하거나 저장하지 않아요.",
    examples=intents.EXAMPLES,
    mirror=intents.MIRROR,
    normalizer=KoreanNormalizer,
    cues=cues.CUES,
    wording=KOREAN,
    number_words=korean_number,
    number_value=number_value,
    machine_phrases=machine_phrases,
    recognised=recognised,
    speech=speech.speak,
    summary=summary_text,
)
