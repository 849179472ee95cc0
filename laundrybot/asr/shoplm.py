"""A small shop-biased English n-gram language model for pocketsphinx, built from phrases.

pocketsphinx's general English 3-gram model knows 130k words and very little about laundromats
("is washer four free" comes out as "this water for free"). This module writes an ARPA model
from the shop's own phrases (the knowledge file's example questions plus a few templates filled
in with the shop's machine numbers, sizes and days), so the decoder expects shop talk.

The model: interpolated Witten-Bell smoothing of order 1..N (default 3), written in ARPA backoff
form (exact: each backoff weight is the interpolation weight that makes the backoff model give
the interpolated probability for unseen words). The order-0 distribution under the unigrams is
uniform over the shop words, optionally mixed with a "background" of common English words
weighted by the general model's unigram probabilities, so that words outside the phrases stay
possible (the "open vocabulary" variant; pass ``background``).

Words must have a pronunciation: words in the CMU dictionary are kept; a word the dictionary
lacks gets one when it can be assembled from dictionary words (compounds such as "laundrybot",
possessives such as "bubbles's" -> "+ Z"); other words are dropped from the phrases (reported in
``ShopLm.dropped``), because pocketsphinx has no letter-to-sound rules in its Python API.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BOS, EOS = "<s>", "</s>"

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> list[str]:
    """0..9999 as spoken English words ("twenty one", "fourteen twenty" for 1420)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [_ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    if n < 10000 and n % 1000 >= 100 and (n // 100) % 10 != 0:
        high, low = divmod(n, 100)  # 1420 -> fourteen twenty
        return number_words(high) + (number_words(low) if low else ["hundred"])
    if n < 10000:
        thousands, rest = divmod(n, 1000)
        return [*number_words(thousands), "thousand"] + (number_words(rest) if rest else [])
    return [w for d in str(n) for w in number_words(int(d))]


_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+")


def tokenize(text: str) -> list[str]:
    """Lower-case words as the recogniser spells them; numbers become words; "&" is "and"."""
    text = text.lower().replace("&", " and ").replace("’", "'")
    text = re.sub(r"\$(\d+)\.(\d\d)", r"\1 \2", text)  # $3.50 -> 3 50 (three fifty)
    out: list[str] = []
    for token in _TOKEN.findall(text):
        out.extend(number_words(int(token)) if token.isdigit() else [token])
    return out


# -- pronunciations -------------------------------------------------------------------------


def read_dictionary(path: str | Path) -> dict[str, list[str]]:
    """A CMU-format dictionary: word -> pronunciations ("word(2)" lines are alternatives)."""
    prons: dict[str, list[str]] = defaultdict(list)
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split(maxsplit=1)
            if len(parts) != 2:
                continue
            word = re.sub(r"\(\d+\)$", "", parts[0])
            prons[word].append(parts[1].split("#")[0].strip())
    return dict(prons)


def derive_pronunciation(word: str, dictionary: Mapping[str, list[str]]) -> str | None:
    """A pronunciation for a word the dictionary lacks, from dictionary words, or None.

    Tries a possessive/plural "'s" or "s" on a known word, then a split into two or three
    known words ("laundrybot" -> "laundry" + "bot"), longest first part first.
    """
    if word in dictionary:
        return dictionary[word][0]
    for suffix in ("'s", "s", "'"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and stem in dictionary:
            phones = dictionary[stem][0]
            if suffix == "'":
                return phones
            last = phones.split()[-1]
            if last in ("S", "Z", "SH", "ZH", "CH", "JH"):
                return phones + " AH Z"
            return phones + (" S" if last in ("P", "T", "K", "F", "TH") else " Z")
    return _split_compound(word, dictionary, depth=3)


def _split_compound(word: str, dictionary: Mapping[str, list[str]], depth: int) -> str | None:
    if word in dictionary and len(word) >= 2:
        return dictionary[word][0]
    if depth <= 1:
        return None
    for cut in range(len(word) - 2, 1, -1):
        head = word[:cut]
        if head in dictionary:
            tail = _split_compound(word[cut:], dictionary, depth - 1)
            if tail is not None:
                return f"{dictionary[head][0]} {tail}"
    return None


# -- the n-gram model -----------------------------------------------------------------------


@dataclass
class ShopLm:
    """An ARPA model and what went into it."""

    arpa: str
    order: int
    vocabulary: list[str]
    sentences: list[list[str]]
    # Words not in the dictionary: derived pronunciations to add to the decoder, and words that
    # were dropped because none could be derived.
    pronunciations: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.arpa, encoding="utf-8")
        return path


def witten_bell(
    sentences: Sequence[Sequence[str]],
    order: int = 3,
    base: Mapping[str, float] | None = None,
) -> dict[tuple[str, ...], tuple[float, float | None]]:
    """Interpolated Witten-Bell n-grams in backoff form: ngram -> (prob, backoff weight or None).

    ``base`` is the order-0 distribution over the vocabulary (it must sum to 1 and cover every
    word in ``sentences``); by default uniform over the sentence words and ``</s>``.
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    counts: list[dict[tuple[str, ...], dict[str, int]]] = [defaultdict(dict) for _ in range(order)]
    for sentence in sentences:
        tokens = [BOS, *sentence, EOS]
        for i in range(1, len(tokens)):
            for n in range(order):  # n = history length
                if i - n < 0:
                    break
                history = tuple(tokens[i - n : i])
                follow = counts[n][history]
                follow[tokens[i]] = follow.get(tokens[i], 0) + 1
    if base is None:
        words = sorted({w for s in sentences for w in s} | {EOS})
        base = {w: 1 / len(words) for w in words}
    missing = set(counts[0][()]) - set(base)
    if missing:
        raise ValueError(f"base distribution lacks {sorted(missing)[:5]}")

    cache: dict[tuple[str, ...], float] = {}

    def prob(history: tuple[str, ...], word: str) -> float:
        """The interpolated probability of ``word`` after ``history``."""
        key = (*history, word)
        if key in cache:
            return cache[key]
        lower = prob(history[1:], word) if history else base.get(word, 0.0)
        follow = counts[len(history)].get(history)
        if not follow:
            p = lower
        else:
            total, types = sum(follow.values()), len(follow)
            p = (follow.get(word, 0) + types * lower) / (total + types)
        cache[key] = p
        return p

    model: dict[tuple[str, ...], tuple[float, float | None]] = {}
    # Unigrams: every base word (so background words exist), plus <s> (never predicted).
    for word in base:
        model[(word,)] = (prob((), word), None)
    model[(BOS,)] = (0.0, None)
    for n in range(1, order):
        for history, follow in counts[n].items():
            for word in follow:
                model[(*history, word)] = (prob(history, word), None)
    # Backoff weights for every n-gram that is a history of a longer one.
    for n in range(1, order):
        for history, follow in counts[n].items():
            if history not in model:
                continue
            seen = sum(prob(history, w) for w in follow)
            seen_lower = sum(prob(history[1:], w) for w in follow)
            left, left_lower = 1.0 - seen, 1.0 - seen_lower
            weight = left / left_lower if left_lower > 1e-12 else 1.0
            p, _ = model[history]
            model[history] = (p, weight)
    return model


def to_arpa(model: Mapping[tuple[str, ...], tuple[float, float | None]], order: int) -> str:
    by_order: list[list[tuple[tuple[str, ...], tuple[float, float | None]]]] = [
        [] for _ in range(order)
    ]
    for ngram, value in model.items():
        by_order[len(ngram) - 1].append((ngram, value))
    lines = ["\\data\\"]
    lines += [f"ngram {n + 1}={len(items)}" for n, items in enumerate(by_order)]
    for n, items in enumerate(by_order):
        lines += ["", f"\\{n + 1}-grams:"]
        for ngram, (p, bow) in sorted(items):
            lp = -99.0 if ngram == (BOS,) or p <= 0 else math.log10(p)
            text = f"{lp:.6f}\t{' '.join(ngram)}"
            if bow is not None and n < order - 1:
                text += f"\t{math.log10(bow) if bow > 0 else -99.0:.6f}"
            elif n < order - 1 and ngram == (BOS,):
                text += "\t0.000000"
            lines.append(text)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def build(
    phrases: Iterable[str],
    dictionary: Mapping[str, list[str]],
    order: int = 3,
    background: Mapping[str, float] | None = None,
    background_weight: float = 0.3,
) -> ShopLm:
    """The shop LM for ``phrases`` (free text; numbers are spelt out).

    ``background``: word -> unnormalised probability (e.g. the general model's unigrams for the
    few thousand most common words); ``background_weight`` of the order-0 mass goes to them.
    """
    pronunciations: dict[str, str] = {}
    dropped: list[str] = []
    sentences: list[list[str]] = []
    for phrase in phrases:
        kept = []
        for word in tokenize(phrase):
            if word in dictionary:
                kept.append(word)
                continue
            if word not in pronunciations:
                derived = derive_pronunciation(word, dictionary)
                if derived is None:
                    if word not in dropped:
                        dropped.append(word)
                    continue
                pronunciations[word] = derived
            kept.append(word)
        if kept and kept not in sentences:
            sentences.append(kept)
    if not sentences:
        raise ValueError("no phrase has words with a pronunciation")
    shop_words = sorted({w for s in sentences for w in s} | {EOS})
    base = {w: 1 / len(shop_words) for w in shop_words}
    if background:
        extra = {w: p for w, p in background.items() if w in dictionary and p > 0}
        total = sum(extra.values())
        if total > 0:
            base = {w: (1 - background_weight) * p for w, p in base.items()}
            for w, p in extra.items():
                base[w] = base.get(w, 0.0) + background_weight * p / total
    model = witten_bell(sentences, order, base)
    return ShopLm(
        arpa=to_arpa(model, order),
        order=order,
        vocabulary=sorted(w for w in base if w != EOS),
        sentences=sentences,
        pronunciations=pronunciations,
        dropped=dropped,
    )


# -- phrases for a shop ---------------------------------------------------------------------

# Ways customers ask, with {kind} {n} {size} {day} slots filled from the knowledge file.
TEMPLATES = (
    "is {kind} {n} free",
    "is {kind} number {n} free",
    "is {kind} {n} available",
    "is {kind} {n} working",
    "{kind} {n} is broken",
    "{kind} {n} is not working",
    "{kind} {n} took my money",
    "the {kind} took my money",
    "how long is left on {kind} {n}",
    "when will {kind} {n} be done",
    "how much is {kind} {n}",
    "how much is a {size} wash",
    "how much is the {size} {kind}",
    "how long does the {size} {kind} take",
    "what time do you open on {day}",
    "what time do you close on {day}",
    "what time do staff come in on {day}",
    "is anyone here on {day}",
    "which machines are free",
    "which washers are free",
    "which dryers are free",
    "are any dryers free",
    "are any washers available",
    "how much is a wash",
    "how much is a dry",
    "how much does it cost to dry",
    "how long does a wash take",
    "how long does drying take",
    "how do i pay",
    "do you take cards",
    "do you take credit cards",
    "can i pay with my phone",
    "where can i get quarters",
    "where is the change machine",
    "the machine took my money",
    "my card was declined",
    "the coins did not count",
    "i want a refund",
    "how do i get a refund",
    "how do i use the washer",
    "how do i start the dryer",
    "where do i put the detergent",
    "where can i buy detergent",
    "do you sell detergent",
    "the washer is leaking",
    "there is water on the floor",
    "the dryer is not heating",
    "my clothes are still wet",
    "the door will not open",
    "i lost a sock",
    "is there a lost and found",
    "are you open now",
    "are you open twenty four hours",
    "when do you close",
    "what are your hours",
    "when is staff here",
    "is there an attendant",
    "can i talk to someone",
    "call staff",
    "what is the phone number",
    "what is the address",
    "yes",
    "no",
    "thank you",
    "thanks",
    "okay",
    "hello",
    "help",
)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def shop_phrases(
    questions: Iterable[str] = (),
    machines: Iterable[tuple[str, int]] = (),
    sizes: Iterable[tuple[str, str]] = (),
    templates: Sequence[str] = TEMPLATES,
) -> list[str]:
    """Phrases for the LM: ``questions`` as given, and ``templates`` filled in.

    ``machines``: (kind, number) pairs; ``sizes``: (kind, size name) pairs. A template with a
    slot that has no values is skipped.
    """
    machines, sizes = list(machines), list(sizes)
    out = list(questions)
    kinds = [*sorted({k for k, _ in machines} | {k for k, _ in sizes}), "machine"]
    for template in templates:
        fills: list[dict[str, str]] = [{}]
        if "{n}" in template:
            fills = [{"kind": k, "n": str(n)} for k, n in machines]
            fills += [{"kind": "machine", "n": str(n)} for _, n in machines]
        elif "{size}" in template:
            fills = [{"kind": k, "size": s} for k, s in sizes]
        elif "{kind}" in template:
            fills = [{"kind": k} for k in kinds]
        if "{day}" in template:
            fills = [{**f, "day": d} for f in fills for d in (*DAYS, "the weekend", "today")]
        for f in fills:
            try:
                out.append(template.format(**f))
            except KeyError:
                continue
    return out


def knowledge_phrases(knowledge: object) -> list[str]:
    """Phrases from a ``laundrybot.dialog.knowledge.Knowledge`` (duck-typed, no import cycle)."""
    questions: list[str] = list(getattr(knowledge, "quick_questions", ()))
    for entry in (*getattr(knowledge, "faq", ()), *getattr(knowledge, "rules", ())):
        questions.extend(entry.questions)
    machines = [(m.kind, m.number) for m in getattr(knowledge, "machines", ())]
    sizes = [
        (s.kind, s.name or s.size)
        for s in (*getattr(knowledge, "washers", ()), *getattr(knowledge, "dryers", ()))
    ]
    return shop_phrases(questions, machines, sizes)
