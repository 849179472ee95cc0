"""English text for the voice: prices, machine numbers, times, durations, units, symbols and
abbreviations written the way they are said ("$3.50" -> "three dollars fifty", "#7" ->
"number seven", "7:30 pm" -> "seven thirty p m", "12 min" -> "twelve minutes").

``speak`` is this language's hook into the shared pipeline (tts/normalize.py), which cleans the
text before and the spaces after; the number words are lang/en/numbers.py's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from laundrybot.lang.en.numbers import digits_words, number_words, ordinal_words


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


def _symbols(text: str) -> str:
    text = re.sub(r"(?<=[^\W\d])/(?=[^\W\d])", " or ", text)  # "washer/dryer"
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS[m[0]], text)
    text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    return " ".join(text.split())


def speak(text: str) -> str:
    """Cleaned English text -> as it is said."""
    for pattern, replacement in _EN_RULES:
        text = pattern.sub(replacement, text)
    return _symbols(text)
