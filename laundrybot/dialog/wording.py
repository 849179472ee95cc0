"""What the attendant says: a Wording is one language's sentence templates and the small
helpers that turn numbers, money, times and lists into speech.

The engine decides WHAT to say (which facts, which machine); a Wording decides HOW it is said.
Templates are str.format strings; every language's Wording lives in its unit
(laundrybot/lang/<code>/wording.py) and has every template key the English one has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


@dataclass(frozen=True)
class Wording:
    language: str
    templates: Mapping[str, str]
    kinds: Mapping[str, str]  # "washer" -> "washer" / "세탁기"
    day_names: tuple[str, ...]  # Monday first, like datetime.weekday()
    money: Callable[[Decimal], str]
    minutes: Callable[[int], str]
    time: Callable[[int], str]  # minutes after midnight -> "8 AM" / "오전 8시"
    join_and: Callable[[Iterable[str]], str]
    join_or: Callable[[Iterable[str]], str]
    number_list: Callable[[list[int]], str]  # free machines: "1, 2 and 3" / "1, 2, 3번"
    number_ranges: Callable[[list[int]], str]  # "1 to 4 and 9" / "1번부터 4번까지, 9번"
    plural: Callable[[str, int], str]  # a kind word for n machines
    finish: Callable[[str], str]  # last touch on a whole answer (Korean particles)

    def __call__(self, key: str, **values: object) -> str:
        return self.templates[key].format(**values)

    def machine(self, kind: str, number: int) -> str:
        return self("machine", kind=self.kinds[kind], number=number)

    def day(self, days_ahead: int, weekday: int) -> str:
        """ "today", "tomorrow", "on Monday" (as it fits after a time)."""
        if days_ahead == 0:
            return self("today")
        if days_ahead == 1:
            return self("tomorrow")
        return self("on_day", day=self.day_names[weekday])

    def range(self, amounts: Iterable[Decimal]) -> str:
        values = sorted(set(amounts))
        if len(values) == 1:
            return self.money(values[0])
        return self("range", low=self.money(values[0]), high=self.money(values[-1]))

    def staff_told(self, kind: str, phone: str, notice: StaffNotice | None, minutes: int) -> str:
        """The staff sentence of an escalation answer of ``kind``, as ``notice`` allows.

        Only a message the staff have (accepted now, or already sent moments ago) lets the
        customer hear "I've messaged the staff"; otherwise (not accepted in time, no channel,
        not recorded, or not known yet: None) it says the report was recorded, with the phone.
        """
        urgent = self("urgent", phone=phone)
        recorded = self.finish(self(_RECORDED[kind], phone=phone, urgent=urgent))
        if notice not in (StaffNotice.ACCEPTED, StaffNotice.ALREADY):
            return recorded
        told = "staff_messaged" if notice is StaffNotice.ACCEPTED else "staff_already"
        if not minutes:
            told += "_no_time"
        said = self.finish(self(told, minutes=self.minutes(minutes)))
        # It takes the recorded sentence's place, so it keeps that sentence's spacing.
        return said.strip() + recorded[len(recorded.rstrip()) :]

    def span(self, numbers: Iterable[int]) -> str:
        values = sorted(set(numbers))
        if len(values) == 1:
            return str(values[0])
        return self("range", low=values[0], high=values[-1])


class StaffNotice(Enum):
    """What became of an escalation's message to the staff (the notify unit's answer)."""

    ACCEPTED = "accepted"  # a channel took it just now
    ALREADY = "already"  # a message about the same problem went out moments ago
    NOT_IN_TIME = "pending"  # not accepted within notify.answer_wait; notify keeps trying
    NO_CHANNEL = "no-channels"  # no webhook or e-mail is configured
    UNRECORDED = "unrecorded"  # the spool could not take it, so nobody can send it yet


# The template of each escalation's "recorded, call this number" sentence (see staff_told).
_RECORDED = {
    "call-staff": "call_staff",
    "money-taken": "money_taken_recorded",
    "machine-broken": "machine_broken_recorded",
}


def _runs(numbers: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs
