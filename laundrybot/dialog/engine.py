"""The dialogue brain v1: a question + machine status + the time -> a short spoken Answer.

Dialog precomputes everything from the knowledge file (phrase index, speller, lookups) so that
answer() is pure computation with no I/O: it runs on the gateway's event loop.

Every answer ends with something the customer can do next (look at the display, use another
machine, call the staff number), because nobody is on site most of the time.
"""

from __future__ import annotations

import datetime
import math
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from laundrybot.dialog.hours import DAY_NAMES, Schedule, speak_day, speak_time
from laundrybot.dialog.intents import ESCALATIONS, EXAMPLES, KIND_AGNOSTIC, USES_MACHINE
from laundrybot.dialog.knowledge import Knowledge, MachineInfo, SizeInfo
from laundrybot.dialog.machines import MachineState, MachineStatus
from laundrybot.dialog.matching import IntentMatcher
from laundrybot.dialog.normalize import Normalized, Normalizer

EXPRESSIONS = ("neutral", "happy", "thinking", "apologetic", "concerned")
MAX_QUESTION_CHARS = 500  # longer input is cut: nobody asks a laundromat an essay

_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_TIME_WORDS = frozenset({"long", "until", "till", "left", "done", "finish", "finished", "when"})


@dataclass(frozen=True)
class Answer:
    text: str
    intent: str  # e.g. "prices", "machine-status", "money-taken", "faq:wifi", "fallback"
    source: str  # "knowledge" | "machines" | "fallback"
    expression: str  # one of EXPRESSIONS
    escalation: str | None  # None | "call-staff" | "money-taken" | "machine-broken"
    machine: int | None = None  # the machine the question was about, if any


@dataclass(frozen=True, slots=True)
class _Turn:
    """What one question is about, handed to the intent's handler."""

    intent: str
    norm: Normalized
    machine: MachineInfo | None  # a real machine named in the question
    number: int | None  # the number said, even if no such machine exists
    statuses: Mapping[int, MachineStatus]
    now: datetime.datetime  # in the shop's time zone

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
        self.tz = zoneinfo.ZoneInfo(knowledge.timezone)
        self.by_number = {m.number: m for m in knowledge.machines}
        self.rule_text = {f"rule:{r.id}": r.text for r in knowledge.rules}
        self.faq_text = {f"faq:{f.id}": f.answer for f in knowledge.faq}

        examples: list[tuple[str, str]] = []
        for intent, phrases in EXAMPLES.items():
            for phrase in phrases:
                examples.append((intent, phrase))
                if intent in KIND_AGNOSTIC and _mirror(phrase) != phrase:
                    examples.append((intent, _mirror(phrase)))
        for rule in knowledge.rules:
            examples += [(f"rule:{rule.id}", q) for q in rule.questions]
        for entry in knowledge.faq:
            examples += [(f"faq:{entry.id}", q) for q in entry.questions]

        size_names = [s.size for s in knowledge.washers + knowledge.dryers]
        self.normalize = Normalizer([p for _, p in examples] + size_names)
        self.matcher = IntentMatcher(
            (intent, self.normalize(phrase).features) for intent, phrase in examples
        )
        self.sizes_by_word: dict[str, list[SizeInfo]] = {}
        for size in knowledge.washers + knowledge.dryers:
            self.sizes_by_word.setdefault(size.size, []).append(size)

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

    def answer(
        self, question: str, machines: Mapping[int, MachineStatus], now: datetime.datetime
    ) -> Answer:
        norm = self.normalize(question[:MAX_QUESTION_CHARS])
        match = self.matcher.match(norm.features)
        intent = match.intent if match else "fallback"
        number = norm.machine.number if norm.machine else None
        # A machine number turns a vague or generic question into one about that machine:
        # "dryer 12?" or "is washer 3 free" (which could otherwise match "which are free").
        if number is not None and intent in ("fallback", "free-machines", "greeting", "thanks"):
            intent = "machine-status"
        if number is not None and intent not in USES_MACHINE:
            number = None  # "how do I use the dryer" needs no machine; don't pretend it did
        turn = _Turn(
            intent=intent,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=now.astimezone(self.tz),
        )
        if intent in self.faq_text:
            return self._reply(turn, self.faq_text[intent])
        if intent in self.rule_text:
            return self._reply(turn, self.rule_text[intent])
        return self.handlers[intent](turn)

    # --- helpers ---------------------------------------------------------------------------

    def _reply(
        self,
        turn: _Turn,
        text: str,
        *,
        source: str = "knowledge",
        expression: str = "neutral",
        intent: str | None = None,
    ) -> Answer:
        intent = intent or turn.intent
        return Answer(
            text=text,
            intent=intent,
            source=source,
            expression=expression,
            escalation=intent if intent in ESCALATIONS else None,
            machine=turn.machine.number if turn.machine else None,
        )

    def _name(self, machine: MachineInfo) -> str:
        return f"{machine.kind} {machine.number}"

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
            where = f", {pick.location}" if pick.location else ""
            same = " and the same size" if pick.size == machine.size else ""
            return f"{_cap(self._name(pick))} is free{same}{where}."
        soonest = self._soonest(turn, others)
        if soonest:
            return f"No other {machine.kind}s are free right now; {soonest}."
        return f"I can't see another free {machine.kind} right now; check the displays."

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
            return f"{self._name(m)} should be finishing now"
        return f"{self._name(m)} should be done in about {_minutes(left)}"

    def _staff_now(self, turn: _Turn) -> str:
        """Whether staff are in the shop now, or when they are next in."""
        staff = self.knowledge.staff_hours
        if staff.always:
            return "Staff are here around the clock."
        closes = staff.closes_at(turn.now)
        if closes is not None:
            return f"Staff are usually here until {speak_time(closes)}."
        nxt = staff.next_opening(turn.now)
        if nxt is None:
            return "No staff are on site right now."
        days, minute = nxt
        weekday = (turn.now.weekday() + days) % 7
        when = f"{speak_time(minute)} {speak_day(days, weekday)}"
        return f"No staff are on site right now; they're next in at {when}."

    def _urgent(self) -> str:
        return f"For urgent help, call or text {self.knowledge.staff_phone}."

    # --- knowledge answers ------------------------------------------------------------------

    def _greeting(self, turn: _Turn) -> Answer:
        text = (
            f"Hi, welcome to {self.knowledge.shop_name}! Ask me about prices, free machines, "
            "or how to use the machines."
        )
        return self._reply(turn, text, expression="happy")

    def _thanks(self, turn: _Turn) -> Answer:
        text = "You're welcome! If you need anything else, just ask."
        return self._reply(turn, text, expression="happy")

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
        k = self.knowledge
        if turn.machine is not None:
            size = sizes[0]
            per = "a wash" if size.kind == "washer" else "drying"
            text = (
                f"{_cap(self._name(turn.machine))} is a {size.description}: {per} is "
                f"{_money(size.price)} for {size.minutes} minutes."
            )
        elif sizes:
            text = _price_sentence(sizes)
        else:
            text = (
                f"A wash is {_range(s.price for s in k.washers)} depending on the washer size, "
                f"and drying is {_range(s.price for s in k.dryers)} for "
                f"{_span(s.minutes for s in k.dryers)} minutes. "
                "Ask me about a size if you'd like details."
            )
        return self._reply(turn, text)

    def _cycle_times(self, turn: _Turn) -> Answer:
        sizes = self._sizes_asked(turn) or list(self.knowledge.washers + self.knowledge.dryers)
        parts = []
        washers = [s for s in sizes if s.kind == "washer"]
        dryers = [s for s in sizes if s.kind == "dryer"]
        if washers:
            parts.append(
                "A wash takes "
                + _join_and(f"{s.minutes} minutes in a {s.size} washer" for s in washers)
                + "."
            )
        if dryers:
            parts.append(
                "Dryers run "
                + _span(s.minutes for s in dryers)
                + f" minutes for each {_range(s.price for s in dryers)}, "
                "and you can add time until your clothes are dry."
            )
        return self._reply(turn, " ".join(parts))

    def _hours(self, turn: _Turn) -> Answer:
        k = self.knowledge
        shop = k.shop_hours
        asked_day = next((_DAY_WORDS[w] for w in turn.norm.words if w in _DAY_WORDS), None)
        if "tomorrow" in turn.norm.words:
            asked_day = (turn.now.weekday() + 1) % 7
        if shop.always:
            first = "Yes, we're open 24 hours a day, 7 days a week."
        elif asked_day is not None:
            first = f"On {DAY_NAMES[asked_day]} we're {_open_phrase(shop, asked_day)}."
        else:
            first = _open_now(shop, turn.now)
        parts = [first, self._staff_now(turn)]
        if k.hours_note:
            parts.append(k.hours_note)
        return self._reply(turn, " ".join(parts), expression="happy")

    def _staff_contact(self, turn: _Turn) -> Answer:
        k = self.knowledge
        parts = [self._staff_now(turn), f"You can call or text staff at {k.staff_phone}."]
        if k.staff_phone_note:
            parts.append(k.staff_phone_note)
        return self._reply(turn, " ".join(parts))

    def _address(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if k.address:
            text = f"{k.shop_name} is at {k.address}."
        else:
            text = f"This is {k.shop_name}. Staff can help with directions at {k.staff_phone}."
        return self._reply(turn, text)

    def _payment(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if "how" in turn.norm.words and not any(
            w in turn.norm.words for w in ("top", "load", "change", "coin", "coins", "quarters")
        ):
            text = " ".join(k.howto.payment)
        else:
            text = f"You can pay with {_join_or(k.payment_methods)}."
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
        text = f"{k.lost_and_found} If it's not there, call or text staff at {k.staff_phone}."
        return self._reply(turn, text)

    def _rules(self, turn: _Turn) -> Answer:
        rules = self.knowledge.rules
        if not rules:
            phone = self.knowledge.staff_phone
            text = f"There are no special rules here. For questions, call {phone}."
            return self._reply(turn, text)
        return self._reply(turn, " ".join(r.text for r in rules))

    # --- machine answers --------------------------------------------------------------------

    def _machine_status(self, turn: _Turn) -> Answer:
        if turn.number is None:
            if _TIME_WORDS.intersection(turn.norm.words):
                text = (
                    "Which machine number? It's printed on the front of the machine, and its "
                    "display also shows the minutes left."
                )
                return self._reply(turn, text, expression="thinking")
            return self._free_machines(turn)
        machine = turn.machine
        if machine is None:
            return self._no_such_machine(turn, turn.number)
        said = turn.norm.machine.kind if turn.norm.machine else None
        prefix = ""
        if said is not None and said != machine.kind:
            # Often a mis-heard number ("dryer two"); say what number N is, then how to ask.
            prefix = (
                f"Number {machine.number} is a {machine.kind}, not a {said}; our {said}s are "
                f"{_number_ranges(self._numbers(said))}. "
            )
        name = _cap(self._name(machine))
        status = turn.statuses.get(machine.number)
        if status is None:
            text = (
                f"I don't have a current status for {self._name(machine)}. Its display shows "
                "whether it's running and how many minutes are left."
            )
            return self._reply(turn, prefix + text, source="machines", expression="thinking")
        if status.state is MachineState.FREE:
            where = f", {machine.location}" if machine.location else ""
            text = f"{name} is free right now{where}."
            return self._reply(turn, prefix + text, source="machines", expression="happy")
        if status.state is MachineState.OUT_OF_ORDER:
            text = f"Sorry, {self._name(machine)} is out of order. " + self._alternative(
                turn, machine
            )
            return self._reply(turn, prefix + text, source="machines", expression="apologetic")
        left = self._minutes_left(status, turn)
        if left is None:
            text = f"{name} is in use; its display shows the minutes left."
        elif left <= 0:
            text = f"{name} should be finishing about now; check its display."
        else:
            text = f"{name} is in use, with about {_minutes(left)} left."
        if (left is None or left > 3) and not prefix:  # keep a corrected answer short
            text += " " + self._alternative(turn, machine)
        return self._reply(turn, prefix + text, source="machines")

    def _numbers(self, kind: str) -> list[int]:
        return [m.number for m in self.knowledge.machines if m.kind == kind]

    def _no_such_machine(self, turn: _Turn, number: int) -> Answer:
        ranges = " and ".join(
            f"{kind}s are {_number_ranges(self._numbers(kind))}"
            for kind in ("washer", "dryer")
            if self._numbers(kind)
        )
        text = (
            f"I can't find a machine {number} here: {ranges}. "
            "The number is printed on the front of each machine."
        )
        return self._reply(turn, _cap(text), source="machines", expression="thinking")

    def _free_machines(self, turn: _Turn) -> Answer:
        kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
        free_parts, none_free, unknown = [], [], 0
        for kind in kinds:
            group = [m for m in self.knowledge.machines if m.kind == kind]
            free = [m.number for m in group if _state(turn, m) is MachineState.FREE]
            unknown += sum(1 for m in group if m.number not in turn.statuses)
            if free:
                label = kind if len(free) == 1 else f"{kind}s"
                free_parts.append(f"{label} {_join_numbers(free)}")
            elif any(m.number in turn.statuses for m in group):
                none_free.append((kind, group))
        total = sum(1 for m in self.knowledge.machines if m.kind in kinds)
        if unknown == total:
            text = (
                "I don't have the machines' status right now. Each machine's display shows "
                "whether it's free."
            )
            return self._reply(
                turn, text, source="machines", expression="thinking", intent="free-machines"
            )
        parts = []
        if free_parts:
            parts.append(f"Free right now: {_join_and(free_parts)}.")
        for kind, group in none_free:
            soonest = self._soonest(turn, group)
            sentence = f"No {kind}s are free right now"
            parts.append(f"{sentence}; {soonest}." if soonest else f"{sentence}.")
        if unknown:
            parts.append(
                f"I have no status for {unknown} machine{'s' if unknown > 1 else ''}, "
                "so check their displays too."
            )
        expression = "happy" if free_parts else "apologetic"
        return self._reply(
            turn, " ".join(parts), source="machines", expression=expression, intent="free-machines"
        )

    # --- escalations ------------------------------------------------------------------------
    # Honest about what happens: the gateway records the report for the staff; there is no
    # live notification yet, so never say staff were told, only that it is recorded.

    def _call_staff(self, turn: _Turn) -> Answer:
        text = (
            "I've recorded your request for the staff. "
            f"To reach them right away, call or text {self.knowledge.staff_phone}. "
            + self._staff_now(turn)
        )
        return self._reply(turn, text, expression="concerned")

    def _money_taken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        about = f" with {self._name(turn.machine)}" if turn.machine else ""
        text = (
            f"Sorry about that{about}, I've recorded your report for the staff; please note "
            f"{k.money_taken_note}. {k.refund} {self._urgent()}"
        )
        return self._reply(turn, text, expression="apologetic")

    def _machine_broken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        machine = turn.machine
        which = self._name(machine) if machine else f"the {turn.kind or 'machine'}"
        free = self._free_alternative(turn, machine) if machine else None
        instead = f", and {self._name(free)} is free if you need another" if free else ""
        text = (
            f"Sorry about {which}, I've recorded the problem for the staff{instead}. "
            f"{k.machine_broken} {self._urgent()}"
        )
        return self._reply(turn, text, expression="concerned")

    def _fallback(self, turn: _Turn) -> Answer:
        # No content words at all ("um", noise): say so, rather than "can't help".
        heard = bool(turn.norm.features)
        opening = "Sorry, I can't help with that one." if heard else "Sorry, I didn't catch that."
        text = (
            f"{opening} I can tell you about prices, opening hours, free machines and how to "
            "use them, or say call staff if you need a person."
        )
        return self._reply(turn, text, source="fallback", expression="thinking")


_MIRROR = {"washer": "dryer", "dryer": "washer", "wash": "dry", "dry": "wash"}


def _mirror(phrase: str) -> str:
    """The same phrase about the other kind of machine ("washer 7 ate" -> "dryer 7 ate")."""
    return " ".join(_MIRROR.get(word, word) for word in phrase.split())


# --- wording helpers (English) --------------------------------------------------------------


def _state(turn: _Turn, machine: MachineInfo) -> MachineState | None:
    status = turn.statuses.get(machine.number)
    return status.state if status is not None else None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _money(amount: Decimal) -> str:
    if amount < 1:
        return f"{int(amount * 100)} cents"
    if amount == amount.to_integral_value():
        return f"${int(amount)}"
    return f"${amount:.2f}"


def _range(amounts: object) -> str:
    values = sorted(set(amounts))  # type: ignore[call-overload]
    if len(values) == 1:
        return _money(values[0])
    return f"{_money(values[0])} to {_money(values[-1])}"


def _span(numbers: object) -> str:
    values = sorted(set(numbers))  # type: ignore[call-overload]
    return str(values[0]) if len(values) == 1 else f"{values[0]} to {values[-1]}"


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def _join_and(items: object) -> str:
    words = list(items)  # type: ignore[call-overload]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _join_or(items: object) -> str:
    words = list(items)  # type: ignore[call-overload]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]


def _join_numbers(numbers: list[int]) -> str:
    if len(numbers) > 6:  # a long list is tiring to hear
        return f"{_join_and(str(n) for n in numbers[:5])} and {len(numbers) - 5} more"
    return _join_and(str(n) for n in numbers)


def _number_ranges(numbers: list[int]) -> str:
    """[1,2,3,4,9] -> "1 to 4 and 9"."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return _join_and(f"{r[0]} to {r[-1]}" if len(r) > 2 else _join_and(map(str, r)) for r in runs)


def _price_sentence(sizes: list[SizeInfo]) -> str:
    washers = [s for s in sizes if s.kind == "washer"]
    dryers = [s for s in sizes if s.kind == "dryer"]
    parts = []
    if washers:
        parts.append(
            "A wash is "
            + _join_and(f"{_money(s.price)} in a {s.size} washer" for s in washers)
            + (f", for {washers[0].minutes} minutes" if len(washers) == 1 else "")
            + "."
        )
    if dryers:
        parts.append(
            "Drying is "
            + _join_and(
                f"{_money(s.price)} for {s.minutes} minutes in a {s.size} dryer" for s in dryers
            )
            + ", and you can add more time."
        )
    return " ".join(parts)


def _open_phrase(schedule: Schedule, weekday: int) -> str:
    described = schedule.describe_day(weekday)
    return "closed" if described == "closed" else f"open {described}"


def _open_now(schedule: Schedule, local: datetime.datetime) -> str:
    closes = schedule.closes_at(local)
    if closes is not None:
        return f"Yes, we're open now until {speak_time(closes)}."
    nxt = schedule.next_opening(local)
    if nxt is None:
        return "We're closed right now."
    days, minute = nxt
    weekday = (local.weekday() + days) % 7
    return f"We're closed right now; we open at {speak_time(minute)} {speak_day(days, weekday)}."
