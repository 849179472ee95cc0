"""Weekly opening schedules: parsing "HH:MM-HH:MM" lines, "open now?", and speaking times.

Kept apart from the knowledge loader so the time arithmetic can be read (and tested) alone.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.weekday()
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ALWAYS = "24/7"

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Interval:
    """Open from `start` to `end`, in minutes after midnight of its own day.

    `end` may exceed 1440 when the interval runs past midnight ("22:00-02:00" -> 1320..1560).
    """

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either always open, or one optional interval per weekday (None = closed that day)."""

    always: bool
    days: tuple[Interval | None, ...] = (None,) * 7

    def is_open(self, local: datetime.datetime) -> bool:
        if self.always:
            return True
        minute = local.hour * 60 + local.minute
        today = self.days[local.weekday()]
        yesterday = self.days[(local.weekday() - 1) % 7]
        if today is not None and today.start <= minute < today.end:
            return True
        # Yesterday's interval may spill past midnight into today.
        return yesterday is not None and minute + 1440 < yesterday.end

    def closes_at(self, local: datetime.datetime) -> int | None:
        """Minutes after today's midnight when the current open period ends (None if closed)."""
        if self.always or not self.is_open(local):
            return None
        minute = local.hour * 60 + local.minute
        today = self.days[local.weekday()]
        if today is not None and today.start <= minute < today.end:
            return today.end
        yesterday = self.days[(local.weekday() - 1) % 7]
        assert yesterday is not None  # is_open() said we are in yesterday's spill-over
        return yesterday.end - 1440

    def next_opening(self, local: datetime.datetime) -> tuple[int, int] | None:
        """(days ahead, minute of that day) of the next opening after `local`, or None if never."""
        if self.always:
            return None
        minute = local.hour * 60 + local.minute
        for ahead in range(8):
            interval = self.days[(local.weekday() + ahead) % 7]
            if interval is not None and (ahead > 0 or interval.start > minute):
                return ahead, interval.start
        return None


def parse_interval(text: str) -> Interval | None:
    """Parse "HH:MM-HH:MM" or "closed"; raise ValueError with a short reason otherwise."""
    if text.strip().lower() == "closed":
        return None
    match = _RANGE.match(text)
    if not match:
        raise ValueError("not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError("time out of range")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end == start:
        raise ValueError("start and end are the same")
    if end < start:  # runs past midnight
        end += 1440
    return Interval(start, end)


def speak_time(minute: int) -> str:
    """Minutes after midnight -> "8 AM", "8:30 PM", "noon", "midnight" (TTS-friendly)."""
    minute %= 1440
    hour, mins = divmod(minute, 60)
    if minute == 0:
        return "midnight"
    if minute == 720:
        return "noon"
    suffix = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if mins == 0 else f"{hour12}:{mins:02d} {suffix}"
