"""Text normalisation before synthesis: what a laundromat says, spelt out per language."""

from __future__ import annotations

import pytest

from laundrybot.lang.en.numbers import number_words, ordinal_words
from laundrybot.lang.ko.numbers import korean_number
from laundrybot.tts.normalize import normalize


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # prices
        ("A big wash is $3.50.", "A big wash is three dollars fifty."),
        ("$1", "one dollar"),
        ("$1.00", "one dollar"),
        ("$2", "two dollars"),
        ("$0.75", "seventy-five cents"),
        ("$.25", "twenty-five cents"),
        ("$3.05", "three dollars and five cents"),
        ("$1,250", "one thousand two hundred fifty dollars"),
        ("$3-$5", "three dollars to five dollars"),
        ("$3-5", "three dollars to five dollars"),
        ("75¢", "seventy-five cents"),
        ("Wash & fold: $1.50/lb", "Wash and fold: one dollar fifty per pound"),
        ("€2.50", "two euros fifty"),
        # machine numbers
        ("Machine #7 is free.", "Machine number seven is free."),
        ("Washer No. 4 is broken.", "Washer number four is broken."),
        ("dryer no 12", "dryer number twelve"),
        # durations and units
        ("It takes 12 min.", "It takes twelve minutes."),
        ("It takes 12 min. Then dry it.", "It takes twelve minutes. Then dry it."),
        ("about 1 min", "about one minute"),
        ("45 mins", "forty-five minutes"),
        ("2 hrs", "two hours"),
        ("1 hr", "one hour"),
        ("30–45 min", "thirty to forty-five minutes"),
        ("20 lbs", "twenty pounds"),
        ("3.5 kg", "three point five kilograms"),
        ("40% off", "forty percent off"),
        ("2x", "two times"),
        ("wash at 60°F", "wash at sixty degrees Fahrenheit"),
        # times
        ("We're open 24/7.", "We're open twenty-four seven."),
        ("We close at 7:30 pm.", "We close at seven thirty p m."),
        ("at 7 P.M. Then", "at seven p m. Then"),
        ("at 7 a.m. sharp", "at seven a m sharp"),
        ("Open 7am-10pm.", "Open seven a m to ten p m."),
        ("Mon-Fri 6-10 am", "Monday to Friday six to ten a m"),
        ("at 9:05", "at nine oh five"),
        ("at 19:30", "at nineteen thirty"),
        ("12:00", "twelve o'clock"),
        # numbers, ordinals, contact details, symbols, abbreviations
        ("the 3rd dryer", "the third dryer"),
        ("22nd", "twenty-second"),
        ("Dryers 1-6 take quarters", "Dryers one to six take quarters"),
        ("1,000 loads", "one thousand loads"),
        ("call 555-1234", "call five five five, one two three four"),
        (
            "Call (555) 123-4567.",
            "Call five five five, one two three, four five six seven.",
        ),
        ("help@wash.example.com", "help at wash dot example dot com"),
        ("see www.washy.com/help", "see w w w dot washy dot com"),
        ("Soap & softener", "Soap and softener"),
        ("washer/dryer", "washer or dryer"),
        ("e.g. towels", "for example towels"),
        ("approx. 30 minutes", "about thirty minutes"),
        ("  lots   of\tspace\n", "lots of space"),
        ("**Hello** <there>", "Hello there"),
    ],
)
def test_english(text: str, spoken: str) -> None:
    assert normalize(text, "en") == spoken


def test_english_variants_and_plain_text() -> None:
    assert normalize("Machine #4", "en-US") == "Machine number four"
    plain = "Hello! How can I help you today?"
    assert normalize(plain, "en") == plain


def test_no_digits_or_symbols_left_for_the_voice() -> None:
    text = "Washer #3: $4.25, 35 min, open 24/7 (6am-11pm). Call 555-0199 & ask for No. 2!"
    spoken = normalize(text, "en")
    assert not any(c.isdigit() for c in spoken), spoken
    assert not set("#$&%/") & set(spoken), spoken


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (101, "one hundred one"),
        (2024, "two thousand twenty-four"),
        (1_000_000, "one million"),
        (-5, "minus five"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (12, "twelfth"), (20, "twentieth"),
     (21, "twenty-first"), (100, "one hundredth")],
)  # fmt: skip
def test_ordinal_words(n: int, words: str) -> None:
    assert ordinal_words(n) == words


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("세탁기 #7 비었어요", "세탁기 칠 번 비었어요"),
        ("3,500원", "삼천오백원"),
        ("$3.50", "삼 달러 오십 센트"),
        ("12분", "십이분"),
        ("7:30 pm", "오후 일곱 시 삼십 분"),
        ("오후 7시", "오후 일곱 시"),
        ("24/7 영업", "이십사 시간 연중무휴 영업"),
        ("10%", "십 퍼센트"),
    ],
)
def test_korean(text: str, spoken: str) -> None:
    assert normalize(text, "ko") == spoken


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "영"), (1, "일"), (10, "십"), (12, "십이"), (3500, "삼천오백"), (10000, "만"),
     (15000, "만오천"), (123456789, "일억이천삼백사십오만육천칠백팔십구")],
)  # fmt: skip
def test_korean_numbers(n: int, words: str) -> None:
    assert korean_number(n) == words


def test_other_languages_only_get_cleaned() -> None:
    assert normalize("  Bonjour\u00a0 à tous  ", "fr") == "Bonjour à tous"
