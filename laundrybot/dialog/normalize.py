"""Normalisation shared by every language: what a normaliser returns, and the speller.

A language's normaliser (laundrybot/lang/<code>/normalize.py) turns a typed or recognised
question into a Normalized: its words, the features the matcher compares, the machine it names
and the machine kinds it mentions. The symmetric-delete Speller here corrects near-misses
against a vocabulary; Korean runs it on decomposed jamo.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NUM = "NUM"  # stands for "some machine number" in features


def word_set(words: str) -> frozenset[str]:
    """Word lists as one space-separated string: easier to read and edit than a literal."""
    return frozenset(words.split())


@dataclass(frozen=True, slots=True)
class MachineRef:
    kind: str | None  # "washer" | "dryer" | None ("machine 4", "number 4")
    number: int | None  # None: a machine word without a number ("is the dryer free")


@dataclass(frozen=True, slots=True)
class Normalized:
    words: tuple[str, ...]  # corrected words, numbers as digits, machine number -> NUM
    features: tuple[str, ...]  # stemmed content words and bigrams, for matching
    machine: MachineRef | None  # the first machine mentioned (with its number if given)
    kinds: frozenset[str]  # every machine kind mentioned ("washer", "dryer", by word or verb)


class Speller:
    """Corrects a word to the nearest known word, using a precomputed deletion index.

    The symmetric-delete trick (SymSpell): index every known word under each of its 1- and
    2-character deletions; a typo is looked up by its own deletions. Lookup costs a few
    dictionary probes, not a scan of the vocabulary, which keeps answer() well under 1 ms.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.words = frozenset(w for w in vocabulary if w.isalpha())
        self._index: dict[str, set[str]] = {}
        for word in self.words:
            for variant in _deletes(word, _limit(len(word))):
                self._index.setdefault(variant, set()).add(word)
        self._cache: dict[str, str] = {}

    def correct(self, word: str) -> str:
        if word in self.words or not word.isalpha():
            return word
        if len(word) < 4:
            # Short words: too many near neighbours to guess, but for a vowel left out.
            return _typed_without_vowel(word, self.words)
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        limit = _limit(len(word))
        best, best_distance = word, limit + 1
        candidates: set[str] = set()
        for variant in _deletes(word, limit):
            candidates |= self._index.get(variant, set())
        for candidate in sorted(candidates):  # sorted: the same input always gives the same fix
            if candidate[0] != word[0]:
                # Typos rarely hit the first letter, while real words we don't know often sit
                # one letter from one we do ("tell"/"sell", "tall"/"call"): leave those alone.
                continue
            distance = _osa_distance(word, candidate)
            if len(word) == 4 and sorted(word) != sorted(candidate) and candidate[:4] != word:
                # 4 letters: only a swap ("wsah") or the last letter left off ("larg"); a
                # changed letter is often a real word.
                continue
            if distance < best_distance or (
                distance == best_distance and best != word and len(candidate) > len(best)
            ):
                best, best_distance = candidate, distance
        if len(self._cache) < 10_000:  # bounded: input is from strangers
            self._cache[word] = best
        return best


def _limit(length: int) -> int:
    """Edits allowed: 2 only for long words, where two slips still leave the word recognisable
    ("detergant", "availible"); 7-letter words are too close to each other ("weather"/"washer").
    """
    return 2 if length >= 8 else 1


_VOWELS = "aeiou"


def _typed_without_vowel(word: str, known: frozenset[str]) -> str:
    """ "hw" -> "how", "lng" -> "long": a short word typed with no vowel at all, when one vowel
    put back makes exactly one known word."""
    if not word.isascii() or any(c in _VOWELS for c in word):
        return word
    found = {word[:i] + v + word[i:] for i in range(len(word) + 1) for v in _VOWELS} & known
    return found.pop() if len(found) == 1 else word


def _deletes(word: str, depth: int) -> set[str]:
    result = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        result |= frontier
    return result


def _osa_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit ("teh" -> "the")."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
