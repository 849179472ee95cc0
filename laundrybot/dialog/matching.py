"""Intent matching: which example phrase is a question most like?

Each example is a bag of features (stemmed words and word pairs, see normalize.py) weighted by
how specific a feature is to one intent (inverse intent frequency: "price" says much, "how"
says little). A question's score for an intent is the best cosine similarity with any of its
examples. Below a threshold the matcher says "no idea" and the caller falls back.

Everything is precomputed into an inverted index, so a question costs a handful of dictionary
lookups however many examples there are.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# Below this similarity a match is more likely a coincidence than an understanding. Chosen on
# tests/dialog_questions.yaml so that the questions that must fall back do, with margin.
THRESHOLD = 0.34
# A word pair is stronger evidence than its two words apart ("not working" vs "working").
PAIR_WEIGHT = 1.3


@dataclass(frozen=True, slots=True)
class Match:
    intent: str
    score: float
    runner_up: str | None = None
    runner_up_score: float = 0.0


class IntentMatcher:
    def __init__(self, examples: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """`examples`: (intent, features of one example phrase) pairs."""
        rows = [(intent, frozenset(features)) for intent, features in examples if features]
        intents_with: dict[str, set[str]] = defaultdict(set)
        for intent, features in rows:
            for feature in features:
                intents_with[feature].add(intent)
        total = len({intent for intent, _ in rows}) or 1
        self.weight = {
            feature: math.log(1 + total / len(owners)) * (PAIR_WEIGHT if "_" in feature else 1)
            for feature, owners in intents_with.items()
        }
        self.intents = tuple(intent for intent, _ in rows)
        self.norms = tuple(
            math.sqrt(sum(self.weight[f] ** 2 for f in features)) for _, features in rows
        )
        index: dict[str, list[int]] = defaultdict(list)
        for row, (_, features) in enumerate(rows):
            for feature in features:
                index[feature].append(row)
        self.index = dict(index)  # a plain dict: lookups never add keys

    def match(self, features: Iterable[str]) -> Match | None:
        """The best intent, or None when nothing is similar enough (the caller falls back)."""
        ranked = self.scores(features)
        if not ranked or ranked[0][1] < THRESHOLD:
            return None
        intent, score = ranked[0]
        second, second_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
        return Match(intent, score, second, second_score)

    def scores(self, features: Iterable[str]) -> list[tuple[str, float]]:
        """Every intent sharing a feature with the question, with its score, best first."""
        query = set(features)
        known = [f for f in query if f in self.weight]
        if not known:
            return []
        # Unknown words still count in the question's length: "what is the weather like"
        # shares "what" with many examples but is mostly about something else.
        unknown = len(query) - len(known)
        norm = math.sqrt(sum(self.weight[f] ** 2 for f in known) + unknown * _UNKNOWN_WEIGHT**2)
        dots: dict[int, float] = defaultdict(float)
        for feature in known:
            w2 = self.weight[feature] ** 2
            for row in self.index[feature]:
                dots[row] += w2
        best: dict[str, float] = {}
        for row, dot in dots.items():
            score = dot / (norm * self.norms[row])
            intent = self.intents[row]
            if score > best.get(intent, 0.0):
                best[intent] = score
        # Ties broken by name so the same question always gets the same answer.
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))


# Weight of a word no example uses: like a fairly specific word, since it could mean anything.
_UNKNOWN_WEIGHT = 1.5
