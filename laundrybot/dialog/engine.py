"""The dialogue brain v1: a question + machine status + the time -> a short spoken Answer.

Dialog precomputes everything from the knowledge file (phrase index, speller, lookups) so that
answer() is pure computation with no I/O: it runs on the gateway's event loop.

Every answer ends with something the customer can do next (look at the display, use another
machine, call the staff number), because nobody is on site most of the time.

One Dialog speaks one language, the knowledge file's: its example phrases, normaliser, answer
templates and recogniser phrase forms come from that language's unit (laundrybot/lang/).
"""

from __future__ import annotations

import datetime
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from laundrybot import lang
from laundrybot.dialog.hours import DAY_NAMES, Schedule
from laundrybot.dialog.intents import ESCALATIONS, KIND_AGNOSTIC, USES_MACHINE
from laundrybot.dialog.knowledge import Knowledge, MachineInfo, SizeInfo
from laundrybot.dialog.matching import THRESHOLD, IntentMatcher
from laundrybot.dialog.normalize import Normalized
from laundrybot.dialog.wording import StaffNotice
from laundrybot.machines.state import MachineState, MachineStatus

EXPRESSIONS = ("neutral", "happy", "thinking", "apologetic", "concerned")
MAX_QUESTION_CHARS = 500  # longer input is cut: nobody asks a laundromat an essay
# Confidence of an answer chosen because the question named a machine number ("dryer 12?")
# rather than because its words matched: the number itself is strong evidence.
MACHINE_CONFIDENCE = 0.75

_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_TIME_WORDS = frozenset({"long", "until", "till", "left", "done", "finish", "finished", "when"})


@dataclass(frozen=True)
class StaffReport:
    """An escalation answer in parts: its staff sentence depends on what became of the
    message to the staff, which the gateway learns only after the dialogue answered."""

    kind: str  # "call-staff" | "money-taken" | "machine-broken"
    phone: str  # the staff phone the "recorded" sentence gives
    before: str  # e.g. the apology and what to note down
    after: str = ""  # e.g. when staff are next in the shop


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
    # A machine number this turn added to the session's open report ("its number 3" after
    # "the washer took my money"): the gateway adds it to the report it filed. No new report.
    report_update: int | None = None


@dataclass(frozen=True, slots=True)
class _Turn:
    """What one question is about, handed to the intent's handler."""

    intent: str
    norm: Normalized
    machine: MachineInfo | None  # a real machine named in the question
    number: int | None  # the number said, even if no such machine exists
    statuses: Mapping[int, MachineStatus]
    now: datetime.datetime  # in the shop's time zone
    confidence: float = 1.0

    @property
    def kind(self) -> str | None:
        """The one machine kind the question is about, if it names exactly one."""
        if self.machine is not None:
            return self.machine.kind
        if self.norm.machine is not None and self.norm.machine.kind is not None:
            return self.norm.machine.kind
        return next(iter(self.norm.kinds)) if len(self.norm.kinds) == 1 else None


class Dialog:
    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.language = lang.get(knowledge.language)
        self.say = self.language.wording
        self.tz = zoneinfo.ZoneInfo(knowledge.timezone)
        self.by_number = {m.number: m for m in knowledge.machines}
        self.rule_text = {f"rule:{r.id}": r.text for r in knowledge.rules}
        self.faq_text = {f"faq:{f.id}": f.answer for f in knowledge.faq}

        examples: list[tuple[str, str]] = []
        for intent, phrases in self.language.examples.items():
            for phrase in phrases:
                examples.append((intent, phrase))
                if intent in KIND_AGNOSTIC and self._mirror(phrase) != phrase:
                    examples.append((intent, self._mirror(phrase)))
        for rule in knowledge.rules:
            examples += [(f"rule:{rule.id}", q) for q in rule.questions]
        for entry in knowledge.faq:
            examples += [(f"faq:{entry.id}", q) for q in entry.questions]

        size_names = [s.name for s in knowledge.washers + knowledge.dryers]
        self.normalize = self.language.normalizer([p for _, p in examples] + size_names)
        self.matcher = IntentMatcher(
            (intent, self.normalize(phrase).features) for intent, phrase in examples
        )
        self.sizes_by_word: dict[str, list[SizeInfo]] = {}
        for size in knowledge.washers + knowledge.dryers:
            self.sizes_by_word.setdefault(size.name, []).append(size)
        self._phrases = self._recognition_phrases(examples)

        self.handlers: dict[str, Callable[[_Turn], Answer]] = {
            "greeting": self._greeting,
            "thanks": self._thanks,
            "prices": self._prices,
            "cycle-times": self._cycle_times,
            "hours": self._hours,
            "staff-contact": self._staff_contact,
            "address": self._address,
            "payment": self._payment,
            "payment-problem": self._payment_problem,
            "how-to-wash": lambda t: self._steps(t, knowledge.howto.wash),
            "how-to-dry": lambda t: self._steps(t, knowledge.howto.dry),
            "detergent": lambda t: self._steps(t, knowledge.howto.detergent),
            "lost-and-found": self._lost_and_found,
            "rules": self._rules,
            "machine-status": self._machine_status,
            "free-machines": self._free_machines,
            "call-staff": self._call_staff,
            "money-taken": self._money_taken,
            "machine-broken": self._machine_broken,
            "fallback": self._fallback,
        }

    @property
    def quick_questions(self) -> tuple[str, ...]:
        return self.knowledge.quick_questions

    @property
    def phrases(self) -> tuple[str, ...]:
        """Phrases to bias speech recognition with, written the way the recogniser writes words
        (lowercase, no punctuation, numbers as words, Korean in the model's own pieces): the
        example phrases, FAQ and rule questions, quick questions and "washer seven"-style
        machine phrases. Example phrases with a machine number appear once per machine.
        """
        return self._phrases

    def answer(
        self, question: str, machines: Mapping[int, MachineStatus], now: datetime.datetime
    ) -> Answer:
        norm = self.normalize(question[:MAX_QUESTION_CHARS])
        ranked = self.matcher.scores(norm.features)
        best, score = ranked[0] if ranked else ("fallback", 0.0)
        intent = best if score >= THRESHOLD else "fallback"
        number = norm.machine.number if norm.machine else None
        # A machine number turns a vague or generic question into one about that machine:
        # "dryer 12?" or "is washer 3 free" (which could otherwise match "which are free").
        if number is not None and intent in ("fallback", "free-machines", "greeting", "thanks"):
            intent = "machine-status"
        if number is not None and intent == "machine-status":
            score = max(score, MACHINE_CONFIDENCE)
        if number is not None and intent not in USES_MACHINE:
            number = None  # "how do I use the dryer" needs no machine; don't pretend it did
        turn = _Turn(
            intent=intent,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=now.astimezone(self.tz),
            confidence=round(min(score, 1.0), 3),
        )
        if intent in self.faq_text:
            return self._reply(turn, self.faq_text[intent])
        if intent in self.rule_text:
            return self._reply(turn, self.rule_text[intent])
        return self.handlers[intent](turn)

    # --- helpers ---------------------------------------------------------------------------

    def _mirror(self, phrase: str) -> str:
        """The same phrase about the other kind of machine ("washer 7 ate" -> "dryer 7 ate")."""
        return " ".join(self.language.mirror.get(word, word) for word in phrase.split())

    def _recognition_phrases(self, examples: list[tuple[str, str]]) -> tuple[str, ...]:
        k = self.knowledge
        texts = [phrase for _, phrase in examples] + list(k.quick_questions)
        pieces = getattr(self.normalize, "surfaces", None)  # Korean: the model's word pieces
        out: list[str] = []
        for text in texts:
            norm = self.normalize(text)
            words = " ".join(pieces(text)) if pieces else text
            if norm.machine is None or norm.machine.number is None:
                out.append(self.language.recognised(words))
                continue
            # "is washer 7 free" -> once per washer, with the number as a recogniser says it.
            said = str(norm.machine.number)
            for m in k.machines:
                if norm.machine.kind in (None, m.kind):
                    numbered = re.sub(rf"\b{said}\b", str(m.number), words)
                    out.append(self.language.recognised(numbered))
        for m in k.machines:
            out += self.language.machine_phrases(m.kind, m.number)
        return tuple(dict.fromkeys(p for p in out if p))

    def _reply(
        self,
        turn: _Turn,
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

    def told(self, answer: Answer, notice: StaffNotice, minutes: int) -> str:
        """``answer`` as said once the staff message's fate is known (others unchanged).

        ``minutes``: how soon staff usually answer (notify.answer_minutes; 0: not said).
        """
        report = answer.report
        if report is None:
            return answer.text
        staff = self.say.staff_told(report.kind, report.phone, notice, minutes)
        return report.before + staff + report.after

    def _name(self, machine: MachineInfo) -> str:
        return self.say.machine(machine.kind, machine.number)

    def _kind(self, kind: str) -> str:
        return self.say.kinds[kind]

    def _where(self, machine: MachineInfo) -> str:
        return self.say("where", location=machine.location) if machine.location else ""

    def _minutes_left(self, status: MachineStatus, turn: _Turn) -> int | None:
        if status.until is None:
            return None
        return math.ceil((status.until - turn.now.timestamp()) / 60)

    def _alternative(self, turn: _Turn, machine: MachineInfo) -> str:
        """Point to another free machine of the same kind (same size preferred)."""
        others = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind and m.number != machine.number
        ]
        pick = self._free_alternative(turn, machine)
        if pick is not None:
            same = self.say("alt_same") if pick.size == machine.size else ""
            name = _cap(self._name(pick))
            return self.say("alt_free", name=name, same=same, where=self._where(pick))
        soonest = self._soonest(turn, others)
        kind = self._kind(machine.kind)
        if soonest:
            kinds = self.say.plural(kind, 2)
            return self.say("alt_none_free", kinds=kinds, soonest=soonest)
        return self.say("alt_unknown", kind=kind)

    def _free_alternative(self, turn: _Turn, machine: MachineInfo) -> MachineInfo | None:
        """A free machine of the same kind, the same size if possible, lowest number first."""
        free = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind
            and m.number != machine.number
            and _state(turn, m) is MachineState.FREE
        ]
        return min(free, key=lambda m: (m.size != machine.size, m.number), default=None)

    def _soonest(self, turn: _Turn, machines: list[MachineInfo]) -> str | None:
        """ "dryer 12 should be done in about 3 minutes" for the busy machine ending first."""
        best: tuple[int, MachineInfo] | None = None
        for m in machines:
            status = turn.statuses.get(m.number)
            if status is None or status.state is not MachineState.BUSY:
                continue
            left = self._minutes_left(status, turn)
            if left is not None and (best is None or left < best[0]):
                best = (left, m)
        if best is None:
            return None
        left, m = best
        if left <= 0:
            return self.say("soonest_now", name=self._name(m))
        return self.say("soonest", name=self._name(m), minutes=self.say.minutes(left))

    def _staff_now(self, turn: _Turn) -> str:
        """Whether staff are in the shop now, or when they are next in."""
        staff = self.knowledge.staff_hours
        if staff.always:
            return self.say("staff_always")
        closes = staff.closes_at(turn.now)
        if closes is not None:
            return self.say("staff_until", time=self.say.time(closes))
        nxt = staff.next_opening(turn.now)
        if nxt is None:
            return self.say("staff_none")
        days, minute = nxt
        weekday = (turn.now.weekday() + days) % 7
        day = self.say.day(days, weekday)
        return self.say("staff_next", time=self.say.time(minute), day=day)

    def _urgent(self) -> str:
        return self.say("urgent", phone=self.knowledge.staff_phone)

    # --- knowledge answers ------------------------------------------------------------------

    def _greeting(self, turn: _Turn) -> Answer:
        text = self.say("greeting", shop=self.knowledge.shop_name)
        return self._reply(turn, text, expression="happy")

    def _thanks(self, turn: _Turn) -> Answer:
        return self._reply(turn, self.say("thanks"), expression="happy")

    def _sizes_asked(self, turn: _Turn) -> list[SizeInfo]:
        """The sizes a price or time question is about: a machine's, a named size, or a kind."""
        if turn.machine is not None:
            return [self.knowledge.size_info(turn.machine.kind, turn.machine.size)]
        named = [s for w in turn.norm.words for s in self.sizes_by_word.get(w, [])]
        kind = turn.kind
        if kind is not None:
            named = [s for s in named if s.kind == kind]
        if named:
            return list(dict.fromkeys(named))
        if kind is not None:
            return list(self.knowledge.sizes(kind))
        return []

    def _prices(self, turn: _Turn) -> Answer:
        sizes = self._sizes_asked(turn)
        k, say = self.knowledge, self.say
        if turn.machine is not None:
            size = sizes[0]
            text = say(
                "price_machine",
                name=_cap(self._name(turn.machine)),
                description=size.description,
                per=say("per_wash" if size.kind == "washer" else "per_dry"),
                money=say.money(size.price),
                minutes=size.minutes,
            )
        elif sizes:
            text = self._price_sentence(sizes)
        else:
            text = say(
                "prices_all",
                wash=say.range(s.price for s in k.washers),
                dry=say.range(s.price for s in k.dryers),
                dry_minutes=say.span(s.minutes for s in k.dryers),
            )
        return self._reply(turn, text)

    def _price_sentence(self, sizes: list[SizeInfo]) -> str:
        say = self.say
        washers = [s for s in sizes if s.kind == "washer"]
        dryers = [s for s in sizes if s.kind == "dryer"]
        parts = []
        if washers:
            items = say.join_and(
                say("price_wash_item", money=say.money(s.price), size=s.name) for s in washers
            )
            if len(washers) == 1:
                parts.append(say("price_wash_one", items=items, minutes=washers[0].minutes))
            else:
                parts.append(say("price_wash", items=items))
        if dryers:
            items = say.join_and(
                say("price_dry_item", money=say.money(s.price), minutes=s.minutes, size=s.name)
                for s in dryers
            )
            parts.append(say("price_dry", items=items))
        return " ".join(parts)

    def _cycle_times(self, turn: _Turn) -> Answer:
        say = self.say
        sizes = self._sizes_asked(turn) or list(self.knowledge.washers + self.knowledge.dryers)
        parts = []
        washers = [s for s in sizes if s.kind == "washer"]
        dryers = [s for s in sizes if s.kind == "dryer"]
        if washers:
            items = say.join_and(
                say("cycle_wash_item", minutes=s.minutes, size=s.name) for s in washers
            )
            parts.append(say("cycle_wash", items=items))
        if dryers:
            parts.append(
                say(
                    "cycle_dry",
                    minutes=say.span(s.minutes for s in dryers),
                    price=say.range(s.price for s in dryers),
                )
            )
        return self._reply(turn, " ".join(parts))

    def _hours(self, turn: _Turn) -> Answer:
        k = self.knowledge
        shop = k.shop_hours
        asked_day = next((_DAY_WORDS[w] for w in turn.norm.words if w in _DAY_WORDS), None)
        if "tomorrow" in turn.norm.words:
            asked_day = (turn.now.weekday() + 1) % 7
        if shop.always:
            first = self.say("hours_always")
        elif asked_day is not None:
            first = self._day_hours(shop, asked_day)
        else:
            first = self._open_now(shop, turn.now)
        parts = [first, self._staff_now(turn)]
        if k.hours_note:
            parts.append(k.hours_note)
        return self._reply(turn, " ".join(parts), expression="happy")

    def _day_hours(self, schedule: Schedule, weekday: int) -> str:
        day = self.say.day_names[weekday]
        interval = schedule.days[weekday]
        if interval is None:
            return self.say("hours_day_closed", day=day)
        start, end = self.say.time(interval.start), self.say.time(interval.end)
        return self.say("hours_day_open", day=day, start=start, end=end)

    def _open_now(self, schedule: Schedule, local: datetime.datetime) -> str:
        closes = schedule.closes_at(local)
        if closes is not None:
            return self.say("open_until", time=self.say.time(closes))
        nxt = schedule.next_opening(local)
        if nxt is None:
            return self.say("closed")
        days, minute = nxt
        day = self.say.day(days, (local.weekday() + days) % 7)
        return self.say("closed_next", time=self.say.time(minute), day=day)

    def _staff_contact(self, turn: _Turn) -> Answer:
        k = self.knowledge
        parts = [self._staff_now(turn), self.say("staff_contact", phone=k.staff_phone)]
        if k.staff_phone_note:
            parts.append(k.staff_phone_note)
        return self._reply(turn, " ".join(parts))

    def _address(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if k.address:
            text = self.say("address", shop=k.shop_name, address=k.address)
        else:
            text = self.say("no_address", shop=k.shop_name, phone=k.staff_phone)
        return self._reply(turn, text)

    def _payment(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if "how" in turn.norm.words and not any(
            w in turn.norm.words for w in ("top", "load", "change", "coin", "coins", "quarters")
        ):
            text = " ".join(k.howto.payment)
        else:
            text = self.say("payment", methods=self.say.join_or(k.payment_methods))
            if k.payment_details:
                text += " " + k.payment_details
        return self._reply(turn, text)

    def _payment_problem(self, turn: _Turn) -> Answer:
        text = f"{self.knowledge.payment_problems} {self._urgent()}"
        return self._reply(turn, text, expression="apologetic")

    def _steps(self, turn: _Turn, steps: tuple[str, ...]) -> Answer:
        return self._reply(turn, " ".join(steps))

    def _lost_and_found(self, turn: _Turn) -> Answer:
        k = self.knowledge
        text = self.say("lost", text=k.lost_and_found, phone=k.staff_phone)
        return self._reply(turn, text)

    def _rules(self, turn: _Turn) -> Answer:
        rules = self.knowledge.rules
        if not rules:
            text = self.say("no_rules", phone=self.knowledge.staff_phone)
            return self._reply(turn, text)
        return self._reply(turn, " ".join(r.text for r in rules))

    # --- machine answers --------------------------------------------------------------------

    def _machine_status(self, turn: _Turn) -> Answer:
        say = self.say
        if turn.number is None:
            if _TIME_WORDS.intersection(turn.norm.words):
                return self._reply(turn, say("which_machine"), expression="thinking")
            return self._free_machines(turn)
        machine = turn.machine
        if machine is None:
            return self._no_such_machine(turn, turn.number)
        said = turn.norm.machine.kind if turn.norm.machine else None
        prefix = ""
        if said is not None and said != machine.kind:
            # Often a mis-heard number ("dryer two"); say what number N is, then how to ask.
            prefix = say(
                "wrong_kind",
                number=machine.number,
                kind=self._kind(machine.kind),
                said=self._kind(said),
                saids=say.plural(self._kind(said), 2),
                ranges=say.number_ranges(self._numbers(said)),
            )
        name = _cap(self._name(machine))
        status = turn.statuses.get(machine.number)
        if status is None:
            text = say("no_status", name=self._name(machine))
            return self._reply(turn, prefix + text, source="machines", expression="thinking")
        if status.state is MachineState.FREE:
            text = say("is_free", name=name, where=self._where(machine))
            return self._reply(turn, prefix + text, source="machines", expression="happy")
        if status.state is MachineState.OUT_OF_ORDER:
            text = say("out_of_order", name=self._name(machine)) + self._alternative(turn, machine)
            return self._reply(turn, prefix + text, source="machines", expression="apologetic")
        left = self._minutes_left(status, turn)
        if left is None:
            text = say("busy", name=name)
        elif left <= 0:
            text = say("busy_finishing", name=name)
        else:
            text = say("busy_left", name=name, minutes=say.minutes(left))
        if (left is None or left > 3) and not prefix:  # keep a corrected answer short
            text += " " + self._alternative(turn, machine)
        return self._reply(turn, prefix + text, source="machines")

    def _numbers(self, kind: str) -> list[int]:
        return [m.number for m in self.knowledge.machines if m.kind == kind]

    def _no_such_machine(self, turn: _Turn, number: int) -> Answer:
        say = self.say
        ranges = say("kinds_joiner").join(
            say(
                "kind_ranges",
                kinds=say.plural(self._kind(kind), 2),
                ranges=say.number_ranges(self._numbers(kind)),
            )
            for kind in ("washer", "dryer")
            if self._numbers(kind)
        )
        text = say("no_such_machine", number=number, ranges=ranges)
        return self._reply(turn, _cap(text), source="machines", expression="thinking")

    def _free_machines(self, turn: _Turn) -> Answer:
        say = self.say
        kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
        free_parts, none_free, unknown = [], [], 0
        for kind in kinds:
            group = [m for m in self.knowledge.machines if m.kind == kind]
            free = [m.number for m in group if _state(turn, m) is MachineState.FREE]
            unknown += sum(1 for m in group if m.number not in turn.statuses)
            if free:
                label = say.plural(self._kind(kind), len(free))
                free_parts.append(say("free_item", kinds=label, numbers=say.number_list(free)))
            elif any(m.number in turn.statuses for m in group):
                none_free.append((kind, group))
        total = sum(1 for m in self.knowledge.machines if m.kind in kinds)
        if unknown == total:
            return self._reply(
                turn,
                say("no_status_all"),
                source="machines",
                expression="thinking",
                intent="free-machines",
            )
        parts = []
        if free_parts:
            parts.append(say("free_now", items=say.join_and(free_parts)))
        for kind, group in none_free:
            soonest = self._soonest(turn, group)
            label = say.plural(self._kind(kind), 2)
            if soonest:
                parts.append(say("none_free_soonest", kinds=label, soonest=soonest))
            else:
                parts.append(say("none_free", kinds=label))
        if unknown:
            machines = say.plural(self._kind("machine"), unknown)
            parts.append(say("unknown_some", count=unknown, machines=machines))
        expression = "happy" if free_parts else "apologetic"
        return self._reply(
            turn, " ".join(parts), source="machines", expression=expression, intent="free-machines"
        )

    # --- escalations ------------------------------------------------------------------------
    # Honest about what happens: the answer says the report is recorded and gives the staff
    # phone; the gateway says "I've messaged the staff" instead only once a channel took it.

    def _escalation(self, turn: _Turn, before: str, after: str, expression: str) -> Answer:
        # Parts finished one by one: a particle depends only on the sound just before it.
        kind = turn.intent
        phone = self.knowledge.staff_phone
        report = StaffReport(kind, phone, self.say.finish(before), self.say.finish(after))
        text = report.before + self.say.staff_told(kind, phone, None, 0) + report.after
        return self._reply(turn, text, expression=expression, report=report)

    def _call_staff(self, turn: _Turn) -> Answer:
        return self._escalation(turn, "", self._staff_now(turn), "concerned")

    def _money_taken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        about = self.say("about_machine", name=self._name(turn.machine)) if turn.machine else ""
        before = self.say(
            "money_taken_sorry", about=about, note=k.money_taken_note, refund=k.refund
        )
        return self._escalation(turn, before, "", "apologetic")

    def _machine_broken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        machine = turn.machine
        if machine is not None:
            which = self._name(machine)
        else:
            which = self.say("the_kind", kind=self._kind(turn.kind or "machine"))
        free = self._free_alternative(turn, machine) if machine else None
        instead = self.say("instead", name=self._name(free)) if free else ""
        before = self.say(
            "machine_broken_sorry", which=which, instead=instead, broken=k.machine_broken
        )
        return self._escalation(turn, before, "", "concerned")

    def _fallback(self, turn: _Turn) -> Answer:
        # No content words at all ("um", noise): say so, rather than "can't help".
        heard = bool(turn.norm.features)
        opening = self.say("fallback_unclear" if heard else "fallback_unheard")
        text = self.say("fallback", opening=opening)
        return self._reply(turn, text, source="fallback", expression="thinking")


def _state(turn: _Turn, machine: MachineInfo) -> MachineState | None:
    status = turn.statuses.get(machine.number)
    return status.state if status is not None else None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
