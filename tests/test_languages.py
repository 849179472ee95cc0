"""What a language must provide, checked for every registered language unit (laundrybot/lang/).

A new language is one new unit plus its knowledge file; these tests are the contract it is held
to, so they run over ``LANGUAGES`` rather than naming English or Korean (the dialogue accuracy
of each language is measured by its own question set: tests/test_dialog*.py).
"""

from __future__ import annotations

import datetime
import pathlib
import re
import string
from decimal import Decimal

import pytest

from laundrybot import lang
from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.intents import ESCALATIONS, INTENTS, KIND_AGNOSTIC, USES_MACHINE
from laundrybot.dialog.knowledge import SUPPORTED_LANGUAGES, Knowledge, load_knowledge_set
from laundrybot.lang import LANGUAGES, Language
from laundrybot.notify.summary import summary_text
from laundrybot.tts.normalize import normalize

CONF = pathlib.Path(__file__).resolve().parent.parent / "conf"
MAIN = CONF / "knowledge.yaml"
ENGLISH = lang.get("en")
CODES = sorted(LANGUAGES)
MONDAY_AFTERNOON = datetime.datetime(2025, 3, 3, 15, 30, tzinfo=datetime.UTC)
FIGURES = {
    "turns": 123,
    "escalations": {"call-staff": 2, "money-taken": 1},
    "unit_failures": 1,
    "notifications": {"delivered": 3, "collapsed": 1, "pending": 0, "expired": 0},
}


@pytest.fixture(params=CODES)
def language(request: pytest.FixtureRequest) -> Language:
    return LANGUAGES[request.param]


@pytest.fixture(scope="module")
def knowledge() -> dict[str, Knowledge]:
    return load_knowledge_set(MAIN)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- the registry ---------------------------------------------------------------------------


def test_registry_finds_every_unit() -> None:
    units = sorted(p.name for p in (pathlib.Path(lang.__file__).parent).iterdir() if p.is_dir())
    assert [u for u in units if not u.startswith("_")] == CODES
    assert {"en", "ko"} <= set(CODES)
    assert tuple(LANGUAGES) == SUPPORTED_LANGUAGES  # the knowledge loader accepts exactly these


def test_get_and_find(language: Language) -> None:
    assert lang.get(language.code) is language
    assert lang.get(f"{language.code}-XX") is language  # "ko-KR" is Korean
    assert lang.find("zz") is None
    with pytest.raises(KeyError):
        lang.get("zz")


def test_kiosk_texts(language: Language) -> None:
    assert language.name and language.name != language.code
    privacy = language.privacy_text(30)
    assert "30" in privacy and "{" not in privacy


# --- understanding --------------------------------------------------------------------------


def test_every_intent_has_examples(language: Language) -> None:
    assert set(language.examples) == set(INTENTS)
    for intent in INTENTS:
        phrases = language.examples[intent]
        assert len(phrases) >= 3, intent
        assert len(set(phrases)) == len(phrases), f"{intent}: a phrase given twice"
        assert all(p.strip() == p and p for p in phrases), intent
    for intent in ESCALATIONS + USES_MACHINE + KIND_AGNOSTIC:
        assert intent in INTENTS


def test_mirror_swaps_washer_and_dryer_words(language: Language) -> None:
    assert language.mirror
    for word, other in language.mirror.items():
        assert language.mirror.get(other) == word, f"{word} -> {other} is not mirrored back"
    kinds = language.wording.kinds
    assert language.mirror.get(kinds["washer"]) == kinds["dryer"]


def test_normaliser_reads_machine_numbers(language: Language) -> None:
    phrases = [p for ps in language.examples.values() for p in ps]
    normalize_question = language.normalizer(phrases)
    for kind in ("washer", "dryer"):
        for number in (3, 12, 21):
            said = language.machine_phrases(kind, number)
            assert said, (kind, number)
            for phrase in said:
                ref = normalize_question(phrase).machine
                assert ref is not None and ref.number == number, phrase
            first = normalize_question(said[0]).machine
            assert first is not None and first.kind == kind, said[0]
            written = normalize_question(language.wording.machine(kind, number)).machine
            assert written is not None and written.number == number


def test_machine_status_examples_name_a_machine(language: Language) -> None:
    normalize_question = language.normalizer([])
    for phrase in language.examples["machine-status"]:
        if "7" in phrase:
            ref = normalize_question(phrase).machine
            assert ref is not None and ref.number == 7, phrase


def test_recognition_phrases_are_written_as_the_recogniser_writes(
    language: Language, knowledge: dict[str, Knowledge]
) -> None:
    """The phrase list biasing speech recognition: numbers in words, no punctuation."""
    phrases = Dialog(knowledge[language.code]).phrases
    assert phrases
    for phrase in phrases:
        assert not re.search(r"[0-9?!.,]", phrase), phrase
    assert language.recognised("12") in language.machine_phrases("washer", 12)[0]


# --- numbers --------------------------------------------------------------------------------


def test_number_words_round_trip(language: Language) -> None:
    for n in range(1000):
        words = language.number_words(n)
        assert words and not re.search(r"\d", words), n
        assert language.number_value(words) == n, (n, words)
    assert language.number_value("") is None


# --- saying ---------------------------------------------------------------------------------


def test_wording_has_every_english_template(language: Language) -> None:
    say = language.wording
    assert say.language == language.code
    assert set(say.templates) == set(ENGLISH.wording.templates)
    for key, template in say.templates.items():
        # The engine fills a template with the values the English one takes: no others.
        extra = _fields(template) - _fields(ENGLISH.wording.templates[key])
        assert not extra, f"{key}: {extra} is never filled in"
    assert set(say.kinds) == {"washer", "dryer", "machine"}
    assert len(say.day_names) == 7 and len(set(say.day_names)) == 7


def test_wording_helpers(language: Language) -> None:
    say = language.wording
    for text in (
        say.money(Decimal("3.50")),
        say.money(Decimal("0.25")),
        say.minutes(1),
        say.minutes(12),
        say.time(0),
        say.time(19 * 60 + 30),
        say.join_and(["a", "b", "c"]),
        say.join_or(["a", "b"]),
        say.number_list([1, 2, 3]),
        say.number_ranges([1, 2, 3, 4, 9]),
        say.plural(say.kinds["washer"], 2),
        say.finish(say("machine", kind=say.kinds["washer"], number=7)),
    ):
        assert text.strip(), text


def test_dialog_speaks_the_language(language: Language, knowledge: dict[str, Knowledge]) -> None:
    """Every language has a knowledge file in conf/ (knowledge.yaml or knowledge.<code>.yaml)."""
    assert language.code in knowledge, f"no conf/knowledge.{language.code}.yaml"
    dialog = Dialog(knowledge[language.code])
    greeting = language.examples["greeting"][0]
    answer = dialog.answer(greeting, {}, MONDAY_AFTERNOON)
    assert answer.intent == "greeting"
    assert knowledge[language.code].shop_name in answer.text
    assert dialog.phrases


# --- speech synthesis -----------------------------------------------------------------------


def test_tts_reads_prices_times_and_machine_numbers(language: Language) -> None:
    say = language.wording
    for text in (
        say.money(Decimal("3.50")),
        say.money(Decimal("12")),
        say.time(7 * 60 + 30),
        say.time(19 * 60),
        say.minutes(45),
        say.machine("washer", 7),
        say.machine("dryer", 12),
        "#7",
        "$3.50",
        "24/7",
    ):
        spoken = normalize(text, language.code)
        assert spoken.strip(), text
        assert not re.search(r"[0-9$#/]", spoken), f"{text!r} -> {spoken!r}"
    assert normalize("  a\u00a0\x07b  ", language.code) == "a b"  # the shared clean-up runs


# --- the owner's daily summary --------------------------------------------------------------


def test_summary_text(language: Language) -> None:
    text = language.summary(FIGURES)
    assert "123" in text
    assert text.strip() == text
    assert language.summary({})


def test_notify_sends_the_summary_in_the_shops_language() -> None:
    assert summary_text(FIGURES, "en") == ENGLISH.summary(FIGURES)
    assert summary_text(FIGURES, "ko") == lang.get("ko").summary(FIGURES)
    assert summary_text(FIGURES, "xx") == ENGLISH.summary(FIGURES)  # unknown: English
