"""Scoring conversations by what the answers say, not by which intent the matcher picked.

A conversation file (``heldout_*.yaml``, the schema is in its header) lists turns with the facts
an answer must hold (``must``), facts it must not (``must_not``) and what must happen about staff
reports. ``score`` plays every conversation against an ``Attendant`` (a fresh session each) and
counts each turn right or wrong with the reason, by tag.
"""

from __future__ import annotations

import collections
import dataclasses
import pathlib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import yaml

HERE = pathlib.Path(__file__).resolve().parent

# How an answer says it cannot help, or asks for the machine number, per language. Kept short
# and generic: they judge the answer's content, whatever wording the attendant chooses.
DECLINE_MARKERS = {
    "en": ("don't know", "do not know", "can't help", "cannot help", "can't do", "not able to",
           "don't have", "not something", "only help", "can't order", "can't call", "i'm not sure"),
    "ko": ("모르", "도와드리기 어려", "도와드릴 수 없", "알 수 없", "할 수 없", "어려워요"),
}  # fmt: skip
ASK_MACHINE_MARKERS = {
    "en": ("which machine", "machine number", "what number", "which washer", "which dryer",
           "number of the", "which one"),
    "ko": ("몇 번",),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Reply:
    text: str
    # A staff report was filed by this turn.
    reported: bool
    # The machine the session's open report names now (None: no report, or no machine).
    report_machine: int | None


class Attendant(Protocol):
    def ask(self, text: str) -> Reply: ...


# Makes a fresh session for one conversation, given its machine states {number: (state, minutes)}.
SessionFactory = Callable[[Mapping[int, tuple[str, float | None]]], Attendant]


@dataclasses.dataclass
class TurnResult:
    conversation: str
    tags: tuple[str, ...]
    index: int
    say: str
    answer: str
    problems: list[str]

    @property
    def right(self) -> bool:
        return not self.problems


def load(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    conversations: list[dict[str, Any]] = data["conversations"]
    return conversations


def _alternatives(entry: str) -> list[str]:
    return [alt.strip().lower() for alt in str(entry).split(" | ") if alt.strip()]


# "$8" and "8 dollars" say 8.00: money is compared as amounts, however the answer writes it.
_WHOLE_DOLLARS = re.compile(
    r"(?<![\d.,])(\$\s?\d+|\d+\s?(?:dollars?|달러))(?![\d.,]*\d)(?!\s*(?:and\s*)?\d)"
)


def _money_as_written_in_facts(text: str) -> str:
    def cents(match: re.Match[str]) -> str:
        amount = re.sub(r"\D", "", match.group(1))
        return f"{match.group(1)} ({amount}.00)"

    return _WHOLE_DOLLARS.sub(cents, text)


def judge(turn: Mapping[str, Any], reply: Reply, lang: str) -> list[str]:
    """What is wrong with ``reply`` to ``turn``: empty when it is right."""
    problems = []
    text = _money_as_written_in_facts(reply.text.lower())
    for entry in turn.get("must", ()):
        if not any(alt in text for alt in _alternatives(entry)):
            problems.append(f"lacks {entry!r}")
    for entry in turn.get("must_not", ()):
        for alt in _alternatives(entry):
            if alt in text:
                problems.append(f"says wrong {alt!r}")
    if turn.get("report"):
        if not reply.reported:
            problems.append("filed no report")
    elif reply.reported:
        problems.append("false report")
    machine = turn.get("report_machine")
    if machine is not None and reply.report_machine != machine:
        problems.append(f"report names machine {reply.report_machine}, not {machine}")
    if turn.get("decline") and not any(m in text for m in DECLINE_MARKERS[lang]):
        problems.append("does not decline")
    if turn.get("ask_machine") and not any(m in text for m in ASK_MACHINE_MARKERS[lang]):
        problems.append("does not ask which machine")
    return problems


def machine_states(conversation: Mapping[str, Any]) -> dict[int, tuple[str, float | None]]:
    out = {}
    for number, spec in (conversation.get("machines") or {}).items():
        out[int(number)] = (str(spec["state"]), spec.get("minutes"))
    return out


def score(
    conversations: Iterable[Mapping[str, Any]], session: SessionFactory, lang: str
) -> list[TurnResult]:
    results = []
    for conversation in conversations:
        attendant = session(machine_states(conversation))
        tags = tuple(conversation.get("tags", ()))
        for index, turn in enumerate(conversation["turns"]):
            reply = attendant.ask(str(turn["say"]))
            results.append(
                TurnResult(
                    conversation=str(conversation["id"]),
                    tags=tags,
                    index=index,
                    say=str(turn["say"]),
                    answer=reply.text,
                    problems=judge(turn, reply, lang),
                )
            )
    return results


@dataclasses.dataclass(frozen=True)
class Figures:
    turns: int
    right: int
    by_tag: dict[str, tuple[int, int]]  # tag -> (right, turns)
    chains_right: int  # follow-up conversations with every turn right
    chains: int
    false_reports: int

    @property
    def rate(self) -> float:
        return self.right / self.turns if self.turns else 0.0

    def tag_rate(self, tag: str) -> float:
        right, total = self.by_tag.get(tag, (0, 0))
        return right / total if total else 0.0

    def lines(self, title: str) -> list[str]:
        out = [f"{title}: {self.right}/{self.turns} turns right ({self.rate:.1%})"]
        for tag, (right, total) in sorted(self.by_tag.items()):
            out.append(f"  {tag:<14} {right:>4}/{total:<4} {right / total:.1%}")
        out.append(f"  follow-up chains wholly right: {self.chains_right}/{self.chains}")
        out.append(f"  false staff reports: {self.false_reports}")
        return out


def figures(results: list[TurnResult]) -> Figures:
    by_tag: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    chains: dict[str, bool] = {}
    for result in results:
        for tag in result.tags:
            by_tag[tag][0] += result.right
            by_tag[tag][1] += 1
        if "follow-up" in result.tags:
            chains[result.conversation] = chains.get(result.conversation, True) and result.right
    return Figures(
        turns=len(results),
        right=sum(r.right for r in results),
        by_tag={tag: (right, total) for tag, (right, total) in by_tag.items()},
        chains_right=sum(chains.values()),
        chains=len(chains),
        false_reports=sum("false report" in r.problems for r in results),
    )
