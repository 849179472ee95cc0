"""Korean text for the voice: numbers (Sino-Korean, with native hours for clock times), prices,
machine numbers and symbols written the way they are said ("#3" -> "삼 번", "$3.50" -> "삼
달러 오십 센트", "7:30" -> "일곱 시 삼십 분").

``speak`` is this language's hook into the shared pipeline (tts/normalize.py), which cleans the
text before and the spaces after; the number words are lang/ko/numbers.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from laundrybot.lang.ko.numbers import SINO_DIGITS, korean_number, native_words


def _ko_decimal(text: str) -> str:
    whole, _, frac = text.replace(",", "").partition(".")
    said = korean_number(int(whole or 0))
    if frac:
        said += " 점 " + "".join(SINO_DIGITS[int(d)] or "영" for d in frac)
    return said


def _ko_money(whole: str, cents: str | None) -> str:
    said = f"{korean_number(int(whole.replace(',', '')))} 달러"
    if cents and int(cents.ljust(2, "0")):
        said += f" {korean_number(int(cents.ljust(2, '0')))} 센트"
    return said


def _ko_clock(match: re.Match[str]) -> str:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    prefix = ""
    if match["ap"]:
        prefix = "오후 " if match["ap"].lower() == "p" else "오전 "
    if hour > 12:
        hour, prefix = hour - 12, prefix or "오후 "
    said = f"{prefix}{native_words(hour) if hour else '영'} 시"
    return said + (f" {korean_number(minute)} 분" if minute else "")


_KO_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\b24\s*[/x]\s*7\b"), "이십사 시간 연중무휴"),
    (re.compile(r"\$\s?(\d[\d,]*)(?:\.(\d{1,2}))?"), lambda m: _ko_money(m[1], m[2])),
    (re.compile(r"₩\s?(\d[\d,]*)"), lambda m: f"{_ko_decimal(m[1])} 원"),
    (re.compile(r"#\s?(\d+)"), lambda m: f"{korean_number(int(m[1]))} 번"),
    (re.compile(r"(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s?(?P<ap>[AaPp])\.?[Mm]\.?)?"),
     _ko_clock),
    (re.compile(r"(\d+)\s?(?=시(?!간))"), lambda m: f"{native_words(int(m[1]))} "
     if 0 < int(m[1]) <= 12 else f"{korean_number(int(m[1]))} "),
    (re.compile(r"(\d+)\s?(?:min|mins)\b"), lambda m: f"{korean_number(int(m[1]))} 분"),
    (re.compile(r"(\d+)\s?%"), lambda m: f"{korean_number(int(m[1]))} 퍼센트"),
    (re.compile(r"(\d[\d,]*(?:\.\d+)?)"), lambda m: _ko_decimal(m[1])),
]  # fmt: skip


def speak(text: str) -> str:
    """Cleaned Korean text -> as it is said."""
    for pattern, replacement in _KO_RULES:
        text = pattern.sub(replacement, text)
    return text.replace("/", " ").replace("&", " 그리고 ").replace("%", " 퍼센트")
