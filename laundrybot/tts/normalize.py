"""Text normalisation before synthesis: write out what a laundromat says the way it is said.

Piper (through espeak-ng) reads raw text badly: "$3.50" -> "dollar three point five zero",
"#7" -> "hash seven", "24/7" -> "twenty four slash seven", "12 min" -> "min", and "No. 4" is
split into two sentences at the period. So prices, machine numbers, times, durations, units
and symbols are spelt out here, per language, before the text reaches the voice.

English is complete for what the attendant says; Korean reads numbers (Sino-Korean, with
native hours for clock times), prices, machine numbers and symbols. Other languages get only
the symbol and whitespace clean-up.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from laundrybot.lang.en.numbers import digits_words, number_words, ordinal_words
from laundrybot.lang.ko.numbers import SINO_DIGITS, korean_number, native_words


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def _plural(n: float, singular: str, plural: str | None = None) -> str:
    return singular if n == 1 else plural or singular + "s"


# -- English rules, applied in this order --------------------------------------------------------

_CURRENCIES = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds")}
_NUM = r"\d{1,3}(?:,\d{3})+|\d+"


def _money(match: re.Match[str]) -> str:
    singular, plural = _CURRENCIES[match["cur"]]
    whole = _int(match["whole"]) if match["whole"] else 0
    cents_text = match["cents"] or ""
    cents = int(cents_text.ljust(2, "0")) if cents_text else 0
    if whole == 0 and cents:
        return f"{number_words(cents)} {_plural(cents, 'cent')}"
    said = f"{number_words(whole)} {_plural(whole, singular, plural)}"
    if not cents:
        return said
    if cents < 10:
        return f"{said} and {number_words(cents)} {_plural(cents, 'cent')}"
    return f"{said} {number_words(cents)}"


def _cents(match: re.Match[str]) -> str:
    n = _int(match[1])
    return f"{number_words(n)} {_plural(n, 'cent')}"


def _clock(hour: int, minute: int) -> str:
    if minute == 0:
        return number_words(hour)
    if minute < 10:
        return f"{number_words(hour)} oh {number_words(minute)}"
    return f"{number_words(hour)} {number_words(minute)}"


def _time_ampm(match: re.Match[str]) -> str:
    hour, minute = int(match["h"]), int(match["m"] or 0)
    return f"{_clock(hour, minute)} {match['ap'].lower()} m" + _keep_period(match)


def _time_24(match: re.Match[str]) -> str:
    hour, minute = int(match["h"]), int(match["m"])
    if minute == 0:
        return (
            f"{number_words(hour)} o'clock" if 0 < hour <= 12 else f"{number_words(hour)} hundred"
        )
    return _clock(hour, minute)


def _keep_period(match: re.Match[str]) -> str:
    """Put back an abbreviation's period when it also ended the sentence."""
    if not match.group(0).endswith("."):
        return ""
    rest = match.string[match.end() :]
    return "." if not rest.strip() or re.match(r"\s+[A-Z\"'(]", rest) else ""


_UNITS = {
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "minute": ("minute", "minutes"),
    "minutes": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "h": ("hour", "hours"),
    "hour": ("hour", "hours"),
    "hours": ("hour", "hours"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "s": ("second", "seconds"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "kg": ("kilogram", "kilograms"),
    "kgs": ("kilogram", "kilograms"),
    "oz": ("ounce", "ounces"),
    "gal": ("gallon", "gallons"),
    "ft": ("foot", "feet"),
    "mi": ("mile", "miles"),
    "km": ("kilometre", "kilometres"),
    "mb": ("megabyte", "megabytes"),
    "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°c": ("degree Celsius", "degrees Celsius"),
    "°": ("degree", "degrees"),
    "%": ("percent", "percent"),
    "x": ("times", "times"),
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))


def _decimal_words(text: str) -> str:
    whole, _, frac = text.partition(".")
    said = number_words(_int(whole)) if whole else "zero"
    return f"{said} point {digits_words(frac)}" if frac else said


def _quantity(match: re.Match[str]) -> str:
    number = match["n"]
    value = float(number.replace(",", ""))
    singular, plural = _UNITS[match["u"].lower()]
    unit = singular if value == 1 else plural
    if match["u"] == "x":  # "2x" -> "two times"
        unit = "times" if value != 1 else "time"
    return f"{_decimal_words(number)} {unit}" + _keep_period(match)


def _range(match: re.Match[str]) -> str:
    return f"{match[1]} to {match[2]}"


_I = re.IGNORECASE
# Abbreviations with a period, which would otherwise end a sentence there.
_ABBREVIATIONS = [
    (r"\be\.g\.", "for example", _I),
    (r"\bi\.e\.", "that is", _I),
    (r"\betc\.", "et cetera.", _I),
    (r"\bapprox\.?(?=\s)", "about", _I),
    (r"\bvs\.?(?=\s)", "versus", _I),
    (r"\bMr\.", "Mister", 0),
    (r"\bMrs\.", "Missus", 0),
    (r"\bDr\.", "Doctor", 0),
    (r"\bSt\.(?=\s+[A-Z])", "Saint", 0),
    (r"(?<=[a-z] )St\.?(?=[\s,]|$)", "Street", 0),
    (r"(?<=[a-z] )Ave\.?(?=[\s,]|$)", "Avenue", 0),
    (r"\bw/o\b", "without", _I),
    (r"\bw/(?=\s)", "with", _I),
    (r"\band/or\b", "and or", _I),
]
_DAYS = {
    "Mon": "Monday", "Tue": "Tuesday", "Tues": "Tuesday", "Wed": "Wednesday",
    "Thu": "Thursday", "Thur": "Thursday", "Thurs": "Thursday", "Fri": "Friday",
    "Sat": "Saturday", "Sun": "Sunday",
}  # fmt: skip
_DAY_RE = re.compile(r"\b(" + "|".join(sorted(_DAYS, key=len, reverse=True)) + r")\b\.?")
_WORD_RANGE = re.compile(r"\b([A-Z][a-z]+day)\s*[-–]\s*([A-Z][a-z]+day)\b")

_EMAIL = re.compile(r"\b([\w.+-]+)@([\w-]+(?:\.[\w-]+)+)\b")
_WEB = re.compile(r"\b(?:https?://)?(www\.[\w-]+(?:\.[\w-]+)+)(/\S*)?")
_PHONE = re.compile(r"(?<!\d)(?:\+?1[ .-]?)?\(?(\d{3})\)?[ .-](\d{3})[ .-](\d{4})(?!\d)")
_SHORT_PHONE = re.compile(r"(?<![\d$])(\d{3})-(\d{4})(?!\d)")

_EN_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(pattern, flags), replacement) for pattern, replacement, flags in _ABBREVIATIONS
] + [
    (_DAY_RE, lambda m: _DAYS[m[1]]),
    (_WORD_RANGE, r"\1 to \2"),
    (_EMAIL, lambda m: f"{m[1].replace('.', ' dot ')} at {m[2].replace('.', ' dot ')}"),
    (_WEB, lambda m: m[1].replace("www.", "w w w dot ").replace(".", " dot ")),
    (_PHONE, lambda m: ", ".join(digits_words(g) for g in m.groups())),
    (_SHORT_PHONE, lambda m: ", ".join(digits_words(g) for g in m.groups())),
    # 24/7 and 24x7: "open all the time".
    (re.compile(r"\b24\s*[/x]\s*7\b"), "twenty-four seven"),
    # Price ranges: "$3-$5", "$3-5".
    (re.compile(rf"(\$\s?(?:{_NUM})(?:\.\d{{1,2}})?)\s*[-–]\s*\$?\s?((?:{_NUM})(?:\.\d{{1,2}})?)"),
     lambda m: f"{m[1]} to ${m[2]}"),
    (re.compile(rf"(?P<cur>[$€£])\s?(?P<whole>{_NUM})?(?:\.(?P<cents>\d{{1,2}}))?(?!\d)"), _money),
    (re.compile(r"(\d+)\s?(?:¢|c\b|cents?\b)"), _cents),
    # Machine numbers: "#7", "No. 4", "no 4", "Nr. 4".
    (re.compile(r"#\s?(\d+)"), r"number \1"),
    (re.compile(r"\b(?:No|NO|no|Nr|nr)\.?\s?(?=\d)"), "number "),
    # Numeric ranges: "6-10", "30–45 min".
    (re.compile(r"(?<![\d-])(\d+(?:\.\d+)?)\s?[-–]\s?(?=\d+(?:\.\d+)?(?![\d-]))"), r"\1 to "),
    # Rates: "$1.50/lb" -> "... per pound".
    (re.compile(r"(?<=\w)\s?/\s?(lbs?|kg|load|hr|hour|min|minute|item|bag|cycle|day|week|month)\b"),
     lambda m: " per " + _UNITS.get(m[1].lower(), (m[1],))[0]),
    # Clock times: "7:30 pm", "7pm", "7 a.m.", "19:30".
    (re.compile(r"\b(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s?(?P<ap>[AaPp])\.?\s?[Mm]\b\.?"),
     _time_ampm),
    (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)\b"), _time_24),
    (re.compile(r"\b([ap] m)\s?[-–]\s?"), r"\1 to "),  # "7am-10pm"
    # Quantities with units: "12 min", "1 hr", "20 lbs", "40%", "2x", "60°F".
    (re.compile(rf"(?P<n>(?:{_NUM})(?:\.\d+)?)\s?(?P<u>{_UNIT_RE})(?:\b|(?<=[%°]))\.?",
                re.IGNORECASE), _quantity),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal_words(int(m[1]))),
    (re.compile(rf"(?<![\d.])((?:{_NUM})\.\d+)"), lambda m: _decimal_words(m[1])),
    (re.compile(rf"(?<![\d.])({_NUM})(?![\d])"), lambda m: number_words(_int(m[1]))),
]  # fmt: skip

_SYMBOLS = {
    "&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "%": " percent ",
    "~": " about ", "°": " degrees ", "×": " times ", "…": ". ", "–": ", ", "—": ", ",
    "*": " ", "_": " ", "|": ", ", "<": " ", ">": " ", "#": " ", "^": " ", "`": "",
    "“": '"', "”": '"', "‘": "'", "’": "'", "/": " ", "\\": " ", "[": " ", "]": " ",
    "{": " ", "}": " ",
}  # fmt: skip
_SYMBOL_RE = re.compile("|".join(re.escape(s) for s in _SYMBOLS))


def _clean(text: str) -> str:
    """Unicode forms, control characters and runs of spaces; what every language needs."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    return " ".join(text.split())


def _symbols(text: str) -> str:
    text = re.sub(r"(?<=[^\W\d])/(?=[^\W\d])", " or ", text)  # "washer/dryer"
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS[m[0]], text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    return " ".join(text.split())


def normalize_en(text: str) -> str:
    text = _clean(text)
    for pattern, replacement in _EN_RULES:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    return _symbols(text)


# -- Korean ------------------------------------------------------------------------------------


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


def normalize_ko(text: str) -> str:
    text = _clean(text)
    for pattern, replacement in _KO_RULES:
        text = pattern.sub(replacement, text)  # type: ignore[arg-type]
    text = text.replace("/", " ").replace("&", " 그리고 ").replace("%", " 퍼센트")
    return " ".join(text.split())


def normalize_other(text: str) -> str:
    return " ".join(_clean(text).split())


NORMALIZERS: dict[str, Callable[[str], str]] = {"en": normalize_en, "ko": normalize_ko}


def normalize(text: str, lang: str) -> str:
    """Text as it should be spoken in ``lang`` ("en", "en-US", "ko", ...)."""
    return NORMALIZERS.get(lang.partition("-")[0].lower(), normalize_other)(text)
