"""English number words: the one table that both the dialogue and the voice read.

Written out (digits -> words) for speech synthesis ("forty-two", "one hundred twenty-five"),
for the recogniser's phrase list ("twenty one", "one two five": Vosk writes no hyphens and
says long machine numbers digit by digit), and read back (words -> digits) by the dialogue's
normaliser and ``number_value``.

Why not num2words (LGPL): its English says "one hundred and twenty-five" (we say it without
"and"), it only goes one way (no words -> digits, which the dialogue needs) and knows nothing
of the recogniser's digit-by-digit form; its Korean (0.5.14) fails outright on 0, 100, 1000
and 10000 and has no native numbers. The tables here are some forty lines and do all of it.
"""

from __future__ import annotations

ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
# A machine's number in words, as a regular expression's alternatives (up to twenty: no shop
# has more); matched between word boundaries, so "seven" never stops "seventeen".
MACHINE_NUMBER_WORDS = "|".join((*ONES[1:], "twenty"))
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

# Words -> values, for reading numbers back: 0-19 ("oh" as said in "seven oh five") and tens.
UNIT_VALUES = {word: n for n, word in enumerate(ONES)} | {"oh": 0}
TENS_VALUES = {word: n * 10 for n, word in enumerate(TENS) if word}


def number_words(n: int) -> str:
    """42 -> "forty-two", 1250 -> "one thousand two hundred fifty"."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return TENS[tens] + (f"-{ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for scale, word in _SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return f"{number_words(high)} {word}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    """3 -> "third", 21 -> "twenty-first"."""
    words = number_words(n)
    head, sep, last = words.rpartition("-" if "-" in words.split()[-1] else " ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def digits_words(digits: str) -> str:
    """ "555" -> "five five five" (phone numbers, codes)."""
    return " ".join(ONES[int(d)] for d in digits if d.isdigit())


def recognised_number(n: int) -> str:
    """A machine number as the recogniser writes it: "twelve", "twenty one", "one two five"."""
    return number_words(n).replace("-", " ") if n < 100 else digits_words(str(n))


def number_value(text: str) -> int | None:
    """ "forty-two" -> 42, "one hundred twenty five" -> 125; None if it is not a number."""
    words = text.lower().replace("-", " ").split()
    if not words:
        return None
    sign = 1
    if words[0] == "minus":
        sign, words = -1, words[1:]
    scales = {word: scale for scale, word in _SCALES}
    total = current = 0
    seen = False
    for word in words:
        if word in UNIT_VALUES and word != "oh":
            current += UNIT_VALUES[word]
        elif word in TENS_VALUES:
            current += TENS_VALUES[word]
        elif word == "hundred" and current:
            current *= 100
        elif word in scales and current:
            total += current * scales[word]
            current = 0
        else:
            return None
        seen = True
    return sign * (total + current) if seen else None
