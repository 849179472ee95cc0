"""What every answering part shares: the Answer a turn gives, what one question is about (Turn),
and the base the answer parts build on (the knowledge, the wording, the cues)."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from laundrybot import lang
from laundrybot.dialog.cues import Cues
from laundrybot.dialog.hours import DAY_NAMES
from laundrybot.dialog.intents import ESCALATIONS
from laundrybot.dialog.knowledge import Knowledge, MachineInfo, SizeInfo
from laundrybot.dialog.normalize import Normalized
from laundrybot.dialog.state import DialogueState
from laundrybot.dialog.wording import Wording
from laundrybot.machines.state import MachineState, MachineStatus

EXPRESSIONS = ("neutral", "happy", "thinking", "apologetic", "concerned")

DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
# Words of the night ("밤에도" is read "allday"): when staff are not in, the phone note.
NIGHT_WORDS = frozenset({"night", "late", "allday", "overnight", "midnight", "tonight"})
TIME_WORDS = frozenset(
    {"long", "longer", "until", "till", "left", "done", "finish", "finished", "when"}
)
# Feature words that name what a question is about but not a topic: an utterance made only of
# these ("and the giant one?", "what about sunday", "3번이요") leans on the turn before.
ENTITY_FEATURES = frozenset(
    [
        "wash",
        "dry",
        "washer",
        "dryer",
        "machine",
        "day",
        "one",
        "about",
        "what",
        "how",
        "that",
        "then",
        "it",
        "number",
        "no",
        "num",
        "big",
        "size",
        "ok",
        "yes",
        "yeah",
        "right",
        "mine",
        "think",
        "actually",
        "sorry",
        "oh",
        "now",
        "here",
        # Prepositions a normaliser keeps: "and on the weekend?" is still only a day.
        "on",
        "for",
        "at",
        "in",
    ]
)
# Intents whose answer is about a machine, a size or a kind, so a follow-up inherits it.
OBJECT_INTENTS = (
    "prices", "cycle-times", "machine-status", "how-to-wash", "how-to-dry", "machine-info",
)  # fmt: skip
# Intents that are talk, not a topic: they leave the dialogue's topic as it was.
NO_TOPIC = ("greeting", "thanks", "fallback", "clarify", "decline", "report-update")


@dataclass(frozen=True)
class StaffReport:
    """An escalation answer in parts: its staff sentence depends on what became of the
    message to the staff, which the gateway learns only after the dialogue answered."""

    kind: str  # "call-staff" | "money-taken" | "machine-broken"
    phone: str  # the staff phone the "recorded" sentence gives
    before: str  # e.g. the apology and what to note down
    after: str = ""  # e.g. when staff are next in the shop


_NEW_SESSION = DialogueState()  # the state a session starts in


@dataclass(frozen=True)
class Answer:
    text: str
    intent: str  # e.g. "prices", "machine-status", "money-taken", "faq:wifi", "fallback"
    source: str  # "knowledge" | "machines" | "fallback"
    expression: str  # one of EXPRESSIONS
    escalation: str | None  # None | "call-staff" | "money-taken" | "machine-broken"
    machine: int | None = None  # the machine the question was about, if any
    # How sure the matcher is, 0..1: the similarity to the closest example phrase (1.0 for an
    # exact one), at least MACHINE_CONFIDENCE for a machine-status question naming a machine
    # number ("dryer 12?"), and below the matcher's threshold for a fallback (0 for no words).
    # The voice path uses it to pick between two transcripts of one utterance (grammar and
    # free recognition).
    confidence: float = 1.0
    # For an escalation: its parts, for Dialog.told once the notify outcome is known.
    report: StaffReport | None = None
    # The dialogue state after this answer: pass it back in with the session's next question.
    state: DialogueState = _NEW_SESSION
    # A machine number this turn added to the session's open report ("its number 3" after
    # "the washer took my money"): the gateway adds it to the report it filed. No new report.
    report_update: int | None = None


class Context(TypedDict):
    """What every step of understanding one piece of an utterance is given."""

    st: DialogueState
    local: datetime.datetime
    machines: Mapping[int, MachineStatus]
    low: str  # the piece as the cues read it


@dataclass(frozen=True, slots=True)
class Turn:
    """What one question is about, handed to the intent's handler."""

    intent: str
    norm: Normalized
    machine: MachineInfo | None  # a real machine named in the question
    number: int | None  # the number said, even if no such machine exists
    statuses: Mapping[int, MachineStatus]
    now: datetime.datetime  # in the shop's time zone
    confidence: float = 1.0
    low: str = ""  # the question as the cues read it
    counted: bool = False  # how many asked, by this question or the one it follows up

    @property
    def kind(self) -> str | None:
        """The one machine kind the question is about, if it names exactly one."""
        if self.machine is not None:
            return self.machine.kind
        if self.norm.machine is not None and self.norm.machine.kind is not None:
            return self.norm.machine.kind
        return next(iter(self.norm.kinds)) if len(self.norm.kinds) == 1 else None


class Base:
    """What the answer parts (facts, machine answers, escalations, shaping) read: set up by
    Dialog.__init__, from the knowledge file and its language's unit."""

    knowledge: Knowledge
    language: lang.Language
    say: Wording
    cues: Cues
    tz: zoneinfo.ZoneInfo
    normalize: Callable[[str], Normalized]
    by_number: dict[int, MachineInfo]
    sizes_by_word: dict[str, list[SizeInfo]]
    described_sizes: dict[str, SizeInfo]
    handlers: dict[str, Callable[[Turn], Answer]]

    def _staff_at(self, turn: Turn) -> tuple[int, bool] | None:
        """The day and whether staff are in at the hour a question asks about ("will anyone be
        here thursday at 7"), if it asks one: that day or today."""
        staff = self.knowledge.staff_hours
        hour = self.cues.hour_asked(turn.low)
        if hour is None or staff.always:
            return None
        days = days_asked(turn.norm.words, turn.now)
        day = days[0] if days else turn.now.weekday()
        interval = staff.days[day]
        return day, interval is not None and interval.start <= hour < interval.end

    def _reply(
        self,
        turn: Turn,
        text: str,
        *,
        source: str = "knowledge",
        expression: str = "neutral",
        intent: str | None = None,
        report: StaffReport | None = None,
    ) -> Answer:
        intent = intent or turn.intent
        return Answer(
            text=self.say.finish(text),
            intent=intent,
            source=source,
            expression=expression,
            escalation=intent if intent in ESCALATIONS else None,
            machine=turn.machine.number if turn.machine else None,
            confidence=turn.confidence,
            report=report,
        )

    def _made(
        self,
        text: str,
        intent: str,
        machine: int | None,
        state: DialogueState,
        expression: str,
        confidence: float,
        *,
        source: str = "knowledge",
        escalation: str | None = None,
        report_update: int | None = None,
    ) -> Answer:
        return Answer(
            text=self.say.finish(text).strip(),
            intent=intent,
            source=source,
            expression=expression,
            escalation=escalation,
            machine=machine,
            confidence=round(min(confidence, 1.0), 3),
            state=state,
            report_update=report_update,
        )

    def _name(self, machine: MachineInfo) -> str:
        return self.say.machine(machine.kind, machine.number)

    def _kind(self, kind: str) -> str:
        return self.say.kinds[kind]

    def _where(self, machine: MachineInfo) -> str:
        return self.say("where", location=machine.location) if machine.location else ""


def machine_state(turn: Turn, machine: MachineInfo) -> MachineState | None:
    status = turn.statuses.get(machine.number)
    return status.state if status is not None else None


def sentences(text: str | None) -> list[str]:
    """A text's sentences (an owner's text, an answer), split after . ! or ?."""
    return [x for x in re.split(r"(?<=[.!?])\s+", (text or "").strip()) if x]


def days_asked(words: tuple[str, ...], now: datetime.datetime) -> list[int]:
    """The weekdays a question asks about (Monday = 0): those named, tomorrow, the weekend,
    the weekdays."""
    days = [DAY_WORDS[w] for w in words if w in DAY_WORDS]
    if "tomorrow" in words:
        days.append((now.weekday() + 1) % 7)
    if "weekend" in words:
        days += [5, 6]
    if "weekday" in words or "weekdays" in words:
        days += [0, 1, 2, 3, 4]
    return list(dict.fromkeys(days))


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def plain(text: str) -> str:
    """Lowercase, curly apostrophes straight, spaces collapsed: what the cues read."""
    text = re.sub(r"[\u2018\u2019`´]", "'", text.lower())
    return " ".join(text.split())


def place_named(location: str, low: str) -> bool:
    """Whether a question names the place the owner gave: "by the front window" is named by
    "the front window" and by "the window" (its last word after "the"), "at the back" by
    "the back"."""
    place = re.sub(r"^(at|by|in|on|near)\s+", "", location.lower().strip())
    if place in low:
        return True
    words = place.split()
    if len(words) < 3 or words[0] != "the":
        return False
    return (
        re.search(
            rf"\bthe ({'|'.join(map(re.escape, words[1:-1]))} )?{re.escape(words[-1])}\b", low
        )
        is not None
    )
