"""Understanding, scored by what the answers say, through an Attendant over Dialog that carries
the dialogue state from turn to turn, both languages: the tuning sets (written with the matcher
in view), the second to fifth tuning sets (written from the facts only by someone who
never saw the code; free to tune on) and the held-out sets (written by someone who never saw
it; never to be tuned on).

Run with `pytest -s tests/test_understanding.py` to see the figures side by side. Only totals
are printed for the held-out sets, never a question: they must not be tuned on.
"""

from __future__ import annotations

import datetime
import statistics
import time
import zoneinfo
from collections.abc import Mapping
from typing import Any

import pytest

from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import load_knowledge_set
from laundrybot.dialog.state import DialogueState
from laundrybot.machines.state import MachineState, MachineStatus
from tests.understanding import scoring

ROOT = scoring.HERE.parent.parent
KNOWLEDGE = ROOT / "conf" / "knowledge.yaml"  # and its language files (knowledge.ko.yaml)
# Wednesday 5 March 2025, 15:30 in the shop: staff are in (08:00-20:00), the shop is 24/7.
NOW = datetime.datetime(2025, 3, 5, 15, 30, tzinfo=zoneinfo.ZoneInfo("America/Chicago"))

# Bars, set honestly. Tuning: a little under what the tuning sets score (they were written
# alongside the code, so they must stay high). Held-out: a few points under the figures
# measured once, at the end of the work, without looking at a single held-out question.
BARS: dict[str, dict[str, float]] = {
    # A bar that a set's smallest tags (4 to 19 turns) meet with one miss.
    "tuning_en": {"rate": 0.98, "follow-up": 0.98, "two-part": 0.91},
    "tuning_ko": {"rate": 0.98, "follow-up": 0.94, "two-part": 0.75},
    # Tuning set 2 (written from the facts only, by someone who never saw the code; free to
    # tune on): a little under what it scores after the understanding5 work (en 356/358 99.4%,
    # follow-up 98.8%, two-part 100%, no false report; ko 177/178 99.4%, follow-up 98.7%,
    # two-part 100%, no false report; after understanding4: en 354/358 98.9%, ko 99.4%; after
    # understanding3: en 88.5%, ko 89.3%).
    "tuning2_en": {"rate": 0.98, "follow-up": 0.97, "two-part": 0.94},
    "tuning2_ko": {"rate": 0.98, "follow-up": 0.97, "two-part": 0.87},
    # Tuning set 3 (written from the facts only, by someone who never saw the code or the
    # other sets' questions; free to tune on). First seen, before any tuning on it (the
    # generalisation figure, code of understanding4 after its tuning2 work): en 239/287 83.3%,
    # follow-up 87.9%, two-part 78.9%, no false report; ko 103/127 81.1%, follow-up 88.1%,
    # two-part 71.4%, 1 false report. After understanding4: en 279/287 97.2%, follow-up
    # 99.1%, two-part 94.7%; ko 124/127 97.6%, follow-up 97.6%, two-part 85.7%. After
    # understanding5: en 287/287 100%, follow-up 100%, two-part 100%, no false report; ko
    # 127/127 100%, follow-up 100%, two-part 100%, no false report.
    "tuning3_en": {"rate": 0.98, "follow-up": 0.98, "two-part": 0.94},
    "tuning3_ko": {"rate": 0.98, "follow-up": 0.97, "two-part": 0.85},
    # Tuning set 4 (written from the facts only, by someone who never saw the code or the
    # other sets' questions; free to tune on). First seen, before any tuning on it (code of
    # understanding5 after its tuning3 work): en 294/368 79.9%, follow-up 78.3%, two-part
    # 87.0%, 1 false report; ko 166/201 82.6%, follow-up 79.2%, two-part 84.2%, no false
    # report. After tuning on it: en 359/368 97.6%, follow-up 99.1%, two-part 95.7%, no false
    # report; ko 197/201 98.0%, follow-up 100%, two-part 100%, no false report. After the
    # understanding6 work on tuning5: en 361/368 98.1%, follow-up 99.1%, two-part 97.1%.
    "tuning4_en": {"rate": 0.95, "follow-up": 0.96, "two-part": 0.93},
    "tuning4_ko": {"rate": 0.96, "follow-up": 0.97, "two-part": 0.94},
    # Tuning set 5, English (written from the facts only, by someone who never saw the code or
    # the other sets' questions; free to tune on). First seen, before any tuning on it (code of
    # understanding5 after its tuning4 work): 334/401 83.3%, follow-up 88.3%, two-part 83.3%,
    # 2 false reports. After tuning on it (understanding6): 392/401 97.8%, follow-up 100%,
    # two-part 96.2%, no false report.
    "tuning5_en": {"rate": 0.95, "follow-up": 0.97, "two-part": 0.93},
    # Tuning set 6, English (written from the facts only, by someone who never saw the code or
    # the other sets' questions; free to tune on). First seen, before any tuning on it (code of
    # cbae6d3): 267/297 89.9%, follow-up 95.7%, two-part 86.5%, no false report. After tuning
    # on it (understanding7, its two-part, follow-up, report, what-if and not-covered misses;
    # its single questions on main): 295/297 99.3%, follow-up 100%, two-part 100%, no false
    # report (tuning5 393/401 with it).
    "tuning6_en": {"rate": 0.96, "follow-up": 0.97, "two-part": 0.96},
    # Tuning sets 7, 8 and 9, English (each written from the facts only, by someone who never
    # saw the code or the other sets' questions; free to tune on). First seen, before any
    # tuning on them: tuning7 262/299 87.6%, follow-up 90.7%, two-part 86.5%, 2 false
    # reports; tuning8 246/279 88.2%, follow-up 91.0%, two-part 90.2%, 1 false report (code of
    # 84a3874); tuning9 214/261 82.0%, follow-up 83.3%, two-part 76.6%, no false report (code
    # of cf91ddb). After tuning on 7 and 8 (understanding8, 9 and main): tuning7 294/299
    # 98.3%, follow-up 98.7%, two-part 97.3%; tuning8 272/279 97.5%, follow-up 98.7%,
    # two-part 96.7%; no false report (tuning9 then 215/261).
    # After tuning on 9 and 10 too (understanding10-12 and main): tuning7 294/299; tuning8
    # 274/279 98.2%; tuning9 248/261 95.0%, follow-up 95.7%, two-part 93.8%.
    "tuning7_en": {"rate": 0.96, "follow-up": 0.96, "two-part": 0.94},
    "tuning8_en": {"rate": 0.96, "follow-up": 0.96, "two-part": 0.95},
    "tuning9_en": {"rate": 0.94, "follow-up": 0.95, "two-part": 0.92},
    # Tuning set 10, English, two-part questions only (written from the facts only, by someone
    # who never saw the code or the other sets' questions). First seen (code of 4e6b911):
    # 124/160 77.5%, no false report. After tuning on it: 142/160 88.8%, no false report.
    "tuning10_en": {"rate": 0.93, "follow-up": 0.85, "two-part": 0.93},
    # Tuning sets 11 (two-part questions in conversation), 12 (a week's mix) and 13 (two-part
    # questions of less common shapes), English, each written from the facts only by someone
    # who never saw the code or the other sets' questions. First seen: tuning11 126/155
    # 81.3%, follow-up 81.6%, no false report (code of aaf6620); tuning12 200/226 88.5%,
    # follow-up 85.5%, two-part 98.0%, no false report (code of 09d4fe9);
    # tuning13 107/130 82.3%, 2 false reports (code of 8146528). After tuning on 11 and 12:
    # tuning11 140/155 90.3%, follow-up 88.6%; tuning12 205/226 90.7%, follow-up 91.6%;
    # tuning10 then 153/160 95.6%, tuning9 251/261 96.2%.
    "tuning11_en": {"rate": 0.88, "follow-up": 0.86, "two-part": 0.88},
    "tuning12_en": {"rate": 0.88, "follow-up": 0.89, "two-part": 0.95},
    # After understanding17 (its false reports first): tuning13 109/130, no false report;
    # after understanding18: 122/130 93.8%.
    "tuning13_en": {"rate": 0.91, "follow-up": 0.92, "two-part": 0.91},
    # Tuning set 14 (two-part questions in conversation, a quarter single requests), written
    # the same way (its writer read tuning13's questions, none of its code). First seen:
    # 112/151 74.2%, follow-up 72.2%, two-part 72.2%, 1 false report (code of 1c344b3).
    # After tuning on it: 133/151 88.1%, follow-up 87.5%, two-part 87.3%.
    "tuning14_en": {"rate": 0.85, "follow-up": 0.84, "two-part": 0.84},
    # Tuning set 15 (a mixed week of customers, a third two-part), written the same way.
    # First seen: 170/210 81.0%, follow-up 82.5%, two-part 73.8%, no false report (code of
    # d5fd0b3).
    # After tuning on it: 191/210 91.0%, follow-up 92.9%, two-part 89.2%.
    "tuning15_en": {"rate": 0.88, "follow-up": 0.90, "two-part": 0.86},
    # Measured once at the end of each round's work (Wednesday 15:30), totals only. After
    # understanding17 (tuning13): unchanged. After understanding13 to 16 (arithmetic, tuning10 to
    # 12): en 244/255 95.7%, follow-up 100%, two-part 26/29 89.7%, no false report; ko unchanged.
    # After understanding10 to 12 (tuning9, tuning10): unchanged (en 243/255, two-part 26/29; ko
    # 96/98). After understanding8 and 9 (tuning7, tuning8): en 243/255 95.3%, follow-up 100%
    # (82/82), two-part 89.7% (26/29), no false report; ko 96/98 98.0%, follow-up 100%, two-part
    # 90.0%, no false report. After understanding7 (tuning6): the same as after understanding6.
    # After understanding6 (tuning5): en 237/255 92.9%, follow-up 95.1%, two-part 89.7% (26/29), no
    # false report; ko 96/98 98.0%, follow-up 100%, two-part 90.0% (9/10), no false report. After
    # understanding5 (tuning3, tuning4): en 233/255 91.4%, two-part 86.2%; ko 96/98 98.0%. After
    # understanding4: en 231/255 90.6%, two-part 82.8%; ko 93/98 94.9%, two-part 80.0% (after
    # understanding3: en 84.3%, two-part 75.9%, 1 false report; ko 88.8%, 80.0%; at the start: en
    # 55.7%, ko 64.3%).
    "heldout_en": {"rate": 0.93, "follow-up": 0.96, "two-part": 0.85},
    "heldout_ko": {"rate": 0.95, "follow-up": 0.95, "two-part": 0.80},
}
# None anywhere: every set, the held-out ones too, is at the goal of no false staff report.
MAX_FALSE_REPORTS = {
    "tuning_en": 0,
    "tuning_ko": 0,
    "tuning2_en": 0,
    "tuning2_ko": 0,
    "tuning3_en": 0,
    "tuning3_ko": 0,
    "tuning4_en": 0,  # first seen: 1
    "tuning4_ko": 0,
    "tuning5_en": 0,  # first seen: 2
    "tuning6_en": 0,
    "tuning7_en": 0,  # first seen: 2
    "tuning8_en": 0,  # first seen: 1
    "tuning9_en": 0,
    "tuning10_en": 0,
    "tuning11_en": 0,
    "tuning12_en": 0,
    "tuning13_en": 0,  # first seen: 2
    "tuning14_en": 0,  # first seen: 1
    "tuning15_en": 0,
    "heldout_en": 0,
    "heldout_ko": 0,
}
P99_MS = 10.0


class DialogAttendant:
    """One kiosk session: the dialogue state and the open staff report, as the gateway keeps
    them (a report filed by a turn; later machine numbers added to it by report updates)."""

    def __init__(self, dialog: Dialog, machines: Mapping[int, MachineStatus]) -> None:
        self.dialog = dialog
        self.machines = machines
        self.state = DialogueState()
        self.open_report = False
        self.report_machine: int | None = None
        self.times: list[float] = []

    def ask(self, text: str) -> scoring.Reply:
        # The least of three runs: answer() is pure, so this is its time without the noise of
        # whatever else the machine is doing (a GC pause, another test process).
        took = []
        for _ in range(3):
            start = time.perf_counter()
            answer = self.dialog.answer(text, self.machines, NOW, self.state)
            took.append(time.perf_counter() - start)
        self.times.append(min(took))
        self.state = answer.state
        reported = answer.escalation is not None
        if reported:
            self.open_report = True
            self.report_machine = answer.machine
        if answer.report_update is not None and self.open_report:
            self.report_machine = answer.report_update
        return scoring.Reply(answer.text, reported, self.report_machine)


def statuses(spec: Mapping[int, tuple[str, float | None]]) -> dict[int, MachineStatus]:
    now = NOW.timestamp()
    out = {}
    for number, (state, minutes) in spec.items():
        until = None if minutes is None else now + float(minutes) * 60
        out[number] = MachineStatus(number, MachineState(state), until, now - 60)
    return out


_DIALOGS: dict[str, Dialog] = {}


def dialog_for(language: str) -> Dialog:
    if language not in _DIALOGS:
        _DIALOGS[language] = Dialog(load_knowledge_set(KNOWLEDGE)[language])
    return _DIALOGS[language]


def run(name: str) -> tuple[list[scoring.TurnResult], list[float]]:
    language = name.rsplit("_", 1)[1]
    dialog = dialog_for(language)
    sessions: list[DialogAttendant] = []

    def session(spec: Mapping[int, tuple[str, float | None]]) -> DialogAttendant:
        attendant = DialogAttendant(dialog, statuses(spec))
        sessions.append(attendant)
        return attendant

    results = scoring.score(scoring.load(f"{name}.yaml"), session, language)
    return results, [t for s in sessions for t in s.times]


_RUNS: dict[str, tuple[scoring.Figures, dict[str, float]]] = {}


def measured(name: str) -> tuple[scoring.Figures, dict[str, float]]:
    if name not in _RUNS:
        results, times = run(name)
        ordered = sorted(times)
        extra = {
            "median_chars": statistics.median(len(r.answer) for r in results),
            "p50_ms": ordered[len(ordered) // 2] * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        }
        _RUNS[name] = (scoring.figures(results), extra)
    return _RUNS[name]


NAMES = (
    "tuning_en",
    "tuning2_en",
    "tuning3_en",
    "tuning4_en",
    "tuning5_en",
    "tuning6_en",
    "tuning7_en",
    "tuning8_en",
    "tuning9_en",
    "tuning10_en",
    "tuning11_en",
    "tuning12_en",
    "tuning13_en",
    "tuning14_en",
    "tuning15_en",
    "heldout_en",
    "tuning_ko",
    "tuning2_ko",
    "tuning3_ko",
    "tuning4_ko",
    "heldout_ko",
)


def test_print_figures_side_by_side() -> None:
    rows: list[list[str]] = [["", *NAMES]]
    figures = {name: measured(name) for name in NAMES}

    def row(label: str, value: Any) -> None:
        rows.append([label, *(value(*figures[name]) for name in NAMES)])

    row("answer right", lambda f, e: f"{f.right}/{f.turns} {f.rate:.1%}")
    row("follow-up turns", lambda f, e: _tag(f, "follow-up"))
    row("follow-up chains", lambda f, e: f"{f.chains_right}/{f.chains}")
    row("two-part", lambda f, e: _tag(f, "two-part"))
    row("vague-problem", lambda f, e: _tag(f, "vague-problem"))
    row("false reports", lambda f, e: str(f.false_reports))
    row("median chars", lambda f, e: f"{e['median_chars']:.0f}")
    row("time p50 ms", lambda f, e: f"{e['p50_ms']:.2f}")
    row("time p99 ms", lambda f, e: f"{e['p99_ms']:.2f}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)))
    tuning = (
        "tuning_en", "tuning2_en", "tuning3_en", "tuning4_en", "tuning5_en", "tuning6_en",
        "tuning7_en", "tuning8_en", "tuning9_en", "tuning10_en", "tuning11_en", "tuning12_en",
        "tuning13_en", "tuning14_en", "tuning15_en",
        "tuning_ko", "tuning2_ko", "tuning3_ko", "tuning4_ko",
    )  # fmt: skip
    for name in tuning:  # tuning sets only
        print("\n".join(figures[name][0].lines(name)))


def _tag(figures: scoring.Figures, tag: str) -> str:
    right, total = figures.by_tag.get(tag, (0, 0))
    return f"{right}/{total} {figures.tag_rate(tag):.1%}" if total else "-"


@pytest.mark.parametrize("name", NAMES)
def test_bars(name: str) -> None:
    figures, extra = measured(name)
    bars = BARS[name]
    assert figures.rate >= bars["rate"], f"{name}: {figures.rate:.1%} right"
    for tag in ("follow-up", "two-part"):
        if tag in figures.by_tag:
            assert figures.tag_rate(tag) >= bars[tag], f"{name} {tag}: {figures.tag_rate(tag):.1%}"
    assert figures.false_reports <= MAX_FALSE_REPORTS[name]
    assert extra["p99_ms"] <= P99_MS


# --- reports: only for real problems, and the follow-up machine number lands on them --------

OUT_OF_SCOPE = {
    "en": (
        "can you order me a pizza", "can you call me an uber", "call a taxi", "what's the "
        "weather like", "order food for me", "can you call my wife", "book me a table",
        "call the police about my neighbour's dog", "i need a ride home", "can you play music",
        "is it going to rain", "can you get me a coffee", "help me with my homework",
    ),
    "ko": ("피자 주문해 주세요", "택시 불러 주세요", "오늘 날씨 어때요", "우버 불러 줘",
           "음식 배달시켜 주세요", "노래 틀어 주세요"),
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ko"])
def test_out_of_scope_never_files_a_report(language: str) -> None:
    dialog = dialog_for(language)
    for question in OUT_OF_SCOPE[language]:
        answer = dialog.answer(question, {}, NOW, DialogueState())
        assert answer.escalation is None, (question, answer.text)
        markers = scoring.DECLINE_MARKERS[language]
        assert any(m in answer.text.lower() for m in markers), (question, answer.text)


@pytest.mark.parametrize(
    ("language", "report", "number"),
    [("en", "the washer took my money", "its number 3"), ("en", "the dryer ate my quarters",
     "dryer 12"), ("ko", "세탁기가 돈을 먹었어요", "3번이에요")],
)  # fmt: skip
def test_a_problem_without_its_machine_is_filed_once_the_machine_is_named(
    language: str, report: str, number: str
) -> None:
    dialog = dialog_for(language)
    first = dialog.answer(report, {}, NOW, DialogueState())
    assert first.escalation is None  # not yet: staff need the machine number
    assert any(m in first.text.lower() for m in scoring.ASK_MACHINE_MARKERS[language])
    second = dialog.answer(number, {}, NOW, first.state)
    expected = int("".join(c for c in number if c.isdigit()))
    assert second.escalation == "money-taken"
    assert second.machine == expected
    assert second.report_update is None


@pytest.mark.parametrize(
    ("language", "report", "number"),
    [("en", "there's water all over the floor", "its number 3"), ("en", "call the staff",
     "dryer 12"), ("ko", "직원 불러 주세요", "3번이에요")],
)  # fmt: skip
def test_follow_up_machine_number_lands_on_the_open_report(
    language: str, report: str, number: str
) -> None:
    dialog = dialog_for(language)
    first = dialog.answer(report, {}, NOW, DialogueState())
    assert first.escalation is not None  # urgent, or a person asked for: filed at once
    assert first.state.report is not None
    second = dialog.answer(number, {}, NOW, first.state)
    expected = int("".join(c for c in number if c.isdigit()))
    assert second.report_update == expected
    assert second.escalation is None  # the same report, not a second one
    assert str(expected) in second.text
