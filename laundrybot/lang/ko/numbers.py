"""Korean number words: the one table that both the dialogue and the voice read.

Sino-Korean numbers (일, 이, 삼 ... 십, 백, 천, 만, 억) are how prices, minutes and machine
numbers are said, and how the Vosk Korean model writes digits; native numbers (하나, 둘, 셋;
before a counter 한, 두, 세) are how clock hours are said (세 시) and how some people name a
machine (세탁기 셋). Written out for speech synthesis and the recogniser's phrase list, read
back by the dialogue's normaliser.

Why not num2words (LGPL): its Korean (0.5.14) raises on 0, 100, 1000 and 10000, has no native
numbers and no words -> digits; see lang/en/numbers.py for English.
"""

from __future__ import annotations

import re

SINO_DIGITS = ("", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_SMALL = ((1000, "천"), (100, "백"), (10, "십"))
_LARGE = ((10**8, "억"), (10**4, "만"))
# Reading back: the digits, with the other spellings people and recognisers use.
SINO_VALUES = {word: n for n, word in enumerate(SINO_DIGITS) if word} | {
    "영": 0,
    "공": 0,
    "륙": 6,
}
_SINO = re.compile(
    r"^(?:([이삼사오육칠팔구])?(백))?(?:([이삼사오육칠팔구])?(십))?([일이삼사오육칠팔구])?$"
)

# Native numbers 1-9: the counting form, then the form before a counter (세 시, 두 번), then
# other spellings.
_NATIVE = (
    ("하나", "한"), ("둘", "두"), ("셋", "세", "석"), ("넷", "네", "넉"), ("다섯",), ("여섯",),
    ("일곱",), ("여덟",), ("아홉",),
)  # fmt: skip
NATIVE_UNITS = {word: n for n, forms in enumerate(_NATIVE, 1) for word in forms}
NATIVE_TENS = {"열": 10, "스물": 20, "스무": 20}


def korean_number(n: int) -> str:
    """Sino-Korean reading: 3500 -> "삼천오백", 12 -> "십이", 0 -> "영"."""
    if n == 0:
        return "영"
    if n < 0:
        return "마이너스 " + korean_number(-n)
    out = ""
    for scale, word in _LARGE:
        if n >= scale:
            high, n = divmod(n, scale)
            out += ("" if high == 1 and scale == 10**4 else _below_10000(high)) + word
    return out + _below_10000(n)


def _below_10000(n: int) -> str:
    out = ""
    for scale, word in _SMALL:
        digit, n = divmod(n, scale)
        if digit:
            out += ("" if digit == 1 else SINO_DIGITS[digit]) + word
    return out + SINO_DIGITS[n]


def sino_number(word: str) -> int | None:
    """ "삼" -> 3, "십이" -> 12, "이십일" -> 21, "백" -> 100; None if not a Sino-Korean number."""
    match = _SINO.match(word)
    if not word or not match:
        return None
    h_digit, h, t_digit, t, unit = match.groups()
    value = 0
    if h:
        value += 100 * (SINO_VALUES[h_digit] if h_digit else 1)
    if t:
        value += 10 * (SINO_VALUES[t_digit] if t_digit else 1)
    if unit:
        value += SINO_VALUES[unit]
    return value


def number_value(text: str) -> int | None:
    """Sino-Korean words -> digits, 0-999 ("영" and "공" included); None if not a number."""
    word = "".join(text.split())
    return 0 if word in ("영", "공") else sino_number(word)


def native_number(word: str) -> int | None:
    """ "셋" -> 3, "열둘"/"열두" -> 12, "스물" -> 20; None if not a native Korean number."""
    if word in NATIVE_UNITS:
        return NATIVE_UNITS[word]
    for tens, value in NATIVE_TENS.items():
        if word == tens:
            return value
        if word.startswith(tens) and word[len(tens) :] in NATIVE_UNITS:
            return value + NATIVE_UNITS[word[len(tens) :]]
    return None


def native_words(n: int, *, counter: bool = True) -> str:
    """1-29 in native numbers: 3 -> "세" before a counter (세 시), "셋" alone; 12 -> "열두"."""
    if not 0 < n < 30:
        raise ValueError(f"native numbers are said here for 1-29, not {n}")
    tens, unit = divmod(n, 10)
    if unit == 0:
        return "열" if tens == 1 else ("스무" if counter else "스물")
    forms = _NATIVE[unit - 1]
    word = forms[1] if counter and len(forms) > 1 else forms[0]
    return ("", "열", "스물")[tens] + word
