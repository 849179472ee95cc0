"""A machine's state from its power readings: thresholds, hold times and hysteresis.

A washer draws a lot while heating and spinning and little while soaking or between wash and
spin; a dryer's heater cycles. So one low reading is no "done": the machine is running once
it has drawn more than ``running_watts`` for ``running_seconds``, and done (free) once it has
drawn less than ``done_watts`` for ``done_seconds``. Between the two thresholds neither clock
runs and the state stays as it is, so a reading wobbling around one threshold cannot flap.

The tracker knows nothing of time by itself: ``reading`` and ``tick`` take the time, which
keeps it a pure state machine (tested without sleeping).
"""

from __future__ import annotations

from dataclasses import dataclass

from laundrybot.machines.state import MachineState


@dataclass(frozen=True)
class PowerThresholds:
    running_watts: float
    running_seconds: float
    done_watts: float
    done_seconds: float


class PowerTracker:
    """Readings in, a decided state out (``state`` is None until the first hold is met)."""

    def __init__(self, limits: PowerThresholds) -> None:
        self.limits = limits
        self.state: MachineState | None = None
        self.watts: float | None = None
        self._above_since: float | None = None
        self._below_since: float | None = None

    def reading(self, watts: float, now: float) -> MachineState | None:
        """Take one reading; return the new state if it changed."""
        self.watts = watts
        limits = self.limits
        if watts > limits.running_watts:
            if self._above_since is None:
                self._above_since = now
        else:
            self._above_since = None
        if watts < limits.done_watts:
            if self._below_since is None:
                self._below_since = now
        else:
            self._below_since = None
        return self.tick(now)

    def tick(self, now: float) -> MachineState | None:
        """The last reading still holds at ``now``: return the new state if a hold is met."""
        limits = self.limits
        new = self.state
        if (
            self._above_since is not None
            and now - self._above_since >= limits.running_seconds
            and self.state is not MachineState.BUSY
        ):
            new = MachineState.BUSY
        elif (
            self._below_since is not None
            and now - self._below_since >= limits.done_seconds
            and self.state is not MachineState.FREE
        ):
            new = MachineState.FREE
        if new is self.state:
            return None
        self.state = new
        return new

    def next_deadline(self) -> float | None:
        """When a hold in progress would be met (for a timer), or None."""
        limits = self.limits
        if self._above_since is not None and self.state is not MachineState.BUSY:
            return self._above_since + limits.running_seconds
        if self._below_since is not None and self.state is not MachineState.FREE:
            return self._below_since + limits.done_seconds
        return None
