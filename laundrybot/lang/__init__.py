"""Languages: one unit per language, and the registry of them.

A language is one package here, ``laundrybot/lang/<code>/`` (``en``, ``ko``), whose
``__init__`` defines ``LANGUAGE = Language(...)``: everything the attendant needs to understand
and speak it. The machinery that is the same in every language stays where it works: the
matcher and the Speller in dialog/, the synthesis pipeline in tts/normalize.py. Those modules
ask this registry for the rest, so a new language is a new unit plus its knowledge file
(``conf/knowledge.<code>.yaml``); tests/test_languages.py checks each unit against this contract
and the README's "Adding a language" says how to write one.

Units are found by looking at this package's subpackages: nothing to list by hand.

The dialogue engine looks at a few concept words in a Normalized's ``words`` whatever the
language (day names "monday".."sunday", "tomorrow", "how", "coin", the time words "long",
"until", "left", "done"...): a normaliser for another language emits those concept words for
its own forms of them, as the Korean lexicon does (see lang/ko/normalize.py).
"""

from __future__ import annotations

import importlib
import importlib.resources
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from laundrybot.dialog.cues import Cues
from laundrybot.dialog.normalize import Normalized
from laundrybot.dialog.wording import Wording


@dataclass(frozen=True)
class Language:
    """What a language must provide."""

    code: str  # ISO 639 code: the knowledge file's `language:` and the kiosk's `hello {code}`
    name: str  # the name in the language itself, for the kiosk's language button: "한국어"
    # The kiosk's privacy line, with {days} for how long question texts are kept.
    privacy: str

    # --- understanding (dialog/) ---
    # Example phrases of every built-in intent (dialog/intents.py INTENTS); "7" is any number.
    examples: Mapping[str, tuple[str, ...]]
    # Washer words <-> dryer words, to mirror the examples of KIND_AGNOSTIC intents.
    mirror: Mapping[str, str]
    # Built once per knowledge file from its phrases (the vocabulary): question -> Normalized.
    normalizer: Callable[[Iterable[str]], Callable[[str], Normalized]]
    # What the whole utterance says beyond its words (dialog/cues.py): a real problem, a
    # request the shop does not serve, a follow-up, a yes/no question, where a second starts.
    cues: Cues

    # --- saying (dialog/wording.py) ---
    wording: Wording  # templates (every key the English one has), money, times, lists, kinds

    # --- numbers: one table, both ways ---
    number_words: Callable[[int], str]  # 125 -> as the voice says it
    number_value: Callable[[str], int | None]  # ... and back; None if not a number

    # --- the recogniser's phrase list (the grammar-biased stream) ---
    # A machine as people say it, written as the recogniser writes words: ("washer", 12) ->
    # ("washer twelve", "machine twelve").
    machine_phrases: Callable[[str, int], tuple[str, ...]]
    recognised: Callable[[str], str]  # a phrase as the recogniser would write it

    # --- speech synthesis (tts/normalize.py) ---
    # Cleaned text -> as it is said: prices, machine numbers, times, symbols in words.
    speech: Callable[[str], str]

    # --- the owner's daily summary (notify) ---
    # The day's figures (turns, escalations, unit_failures, notifications) -> one message.
    summary: Callable[[Mapping[str, Any]], str]

    # --- the recogniser's language model (asr/) ---
    # How customers talk at a laundromat, beyond the knowledge file's examples: sentences that
    # widen the shop LM's words and word order (read_talk: the unit's talk.txt). Empty where
    # they measured no better (a grammar recogniser picks among phrases: more phrases, more
    # confusion). Not used for understanding.
    talk: tuple[str, ...] = ()

    def privacy_text(self, days: int) -> str:
        """The kiosk's privacy line for a retention of ``days`` days."""
        return self.privacy.format(days=days)


def read_talk(package: str) -> tuple[str, ...]:
    """The sentences of ``package``'s talk.txt: one per line; blank lines and ``#`` comments
    skipped."""
    text = (importlib.resources.files(package) / "talk.txt").read_text(encoding="utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(dict.fromkeys(line for line in lines if line and not line.startswith("#")))


def _discover() -> dict[str, Language]:
    found: dict[str, Language] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        language = getattr(module, "LANGUAGE", None)
        if not isinstance(language, Language) or language.code != info.name:
            raise TypeError(
                f"{module.__name__} must define LANGUAGE = Language({info.name!r}, ...)"
            )
        found[language.code] = language
    return found


# Every language with a unit, by code, in code order.
LANGUAGES: Mapping[str, Language] = _discover()


def codes() -> tuple[str, ...]:
    """The codes of the languages with a unit: ("en", "ko")."""
    return tuple(LANGUAGES)


def find(code: str) -> Language | None:
    """The language for ``code`` ("ko", or "ko" for "ko-KR"); None if it has no unit."""
    return LANGUAGES.get(code.partition("-")[0].lower())


def get(code: str) -> Language:
    """The language for ``code`` ("ko", or "ko" for "ko-KR"); KeyError if it has no unit."""
    language = find(code)
    if language is None:
        raise KeyError(f"no language unit for {code!r}; there are: {', '.join(LANGUAGES)}")
    return language
