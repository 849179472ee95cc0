"""The intent classifier: which topic is a whole utterance most like, and how sure is that?

Each example phrase becomes a sparse TF-IDF vector of two kinds of feature:
  - the normaliser's word features (stemmed content words and neighbouring pairs), and
  - character n-grams (3 to 5) of the content words run together with word boundaries marked,
    which catch what word matching misses: a misspelling the speller left alone, a compound
    ("drycleaning"), a Korean stem with an ending the lexicon did not cut.
A question is scored against every example (cosine similarity, the best example per intent:
nearest neighbour); ``centroid=True`` scores against each intent's mean vector instead.
Both were measured on the tuning sets (see tests/test_understanding.py and the commit that
chose the default): nearest neighbour kept single specific phrasings ("how much are dryer
sheets") that a centroid averages away.

Pure Python over dictionaries; an inverted index keeps a question to a few hundred lookups.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

CHAR_WEIGHT = 0.6  # character n-grams count less than whole words: they are weaker evidence
NGRAMS = (3, 4, 5)


def char_ngrams(words: Sequence[str]) -> list[str]:
    text = "#" + "#".join(words) + "#"
    return [f"c:{text[i : i + n]}" for n in NGRAMS for i in range(len(text) - n + 1)]


class TfidfClassifier:
    def __init__(
        self, examples: Iterable[tuple[str, Sequence[str]]], *, centroid: bool = False
    ) -> None:
        """``examples``: (intent, word features of one example phrase) pairs."""
        rows = [(intent, self.terms(features)) for intent, features in examples if features]
        df: dict[str, int] = defaultdict(int)
        for _, terms in rows:
            for term in terms:
                df[term] += 1
        n = len(rows) or 1
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        vectors = [(intent, self._vector(terms)) for intent, terms in rows]
        if centroid:
            sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            for intent, vec in vectors:
                for t, w in vec.items():
                    sums[intent][t] += w
            vectors = [(intent, _unit(dict(vec))) for intent, vec in sums.items()]
        self.intents = tuple(intent for intent, _ in vectors)
        index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row, (_, vec) in enumerate(vectors):
            for t, w in vec.items():
                index[t].append((row, w))
        self.index = dict(index)

    @staticmethod
    def terms(features: Sequence[str]) -> dict[str, float]:
        """Raw term weights of one utterance's word features: words, pairs and char n-grams."""
        out: dict[str, float] = defaultdict(float)
        words = [f for f in features if "_" not in f]
        for f in features:
            out[f] += 1.0
        for g in char_ngrams(words):
            out[g] += CHAR_WEIGHT
        return dict(out)

    def _vector(self, terms: dict[str, float]) -> dict[str, float]:
        return _unit({t: w * self.idf.get(t, 0.0) for t, w in terms.items()})

    def scores(self, features: Sequence[str]) -> list[tuple[str, float]]:
        """Every intent sharing a term with the utterance, best first, with its cosine."""
        terms = self.terms(features)
        # Unknown terms still lengthen the utterance: "order me a pizza" is mostly not ours.
        vec = {
            t: w * self.idf.get(t, max(self.idf.values(), default=1.0)) for t, w in terms.items()
        }
        vec = _unit(vec)
        dots: dict[int, float] = defaultdict(float)
        for t, w in vec.items():
            for row, rw in self.index.get(t, ()):
                dots[row] += w * rw
        best: dict[str, float] = {}
        for row, dot in dots.items():
            intent = self.intents[row]
            if dot > best.get(intent, 0.0):
                best[intent] = dot
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def _unit(vec: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vec.values())) or 1.0
    return {t: w / norm for t, w in vec.items()}
