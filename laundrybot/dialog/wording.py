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

    def staff_told(self, text: str, escalation: str, phone: str, outcome: str, minutes: int) -> str:
        """An escalation answer once a notification channel accepted the report.

        ``text`` is the engine's answer, which says the report was recorded and gives the
        staff phone; ``outcome`` is "messaged" (a channel accepted it now) or "already" (a
        message about the same problem went out moments ago). Anything else keeps ``text``.
        """
        key = _RECORDED.get(escalation)
        if key is None or outcome not in ("messaged", "already"):
            return text
        urgent = self("urgent", phone=phone)
        recorded = self.finish(self(key, phone=phone, urgent=urgent)).strip()
        told = f"staff_{outcome}" if minutes else f"staff_{outcome}_no_time"
        said = self.finish(self(told, minutes=self.minutes(minutes))).strip()
        if recorded in text:
            return text.replace(recorded, said, 1)
        return f"{said} {text}"  # never drop what the answer says

    def span(self, numbers: Iterable[int]) -> str:
        values = sorted(set(numbers))
        if len(values) == 1:
            return str(values[0])
        return self("range", low=values[0], high=values[-1])


# The template of each escalation's "recorded, call this number" part (see staff_told).
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
