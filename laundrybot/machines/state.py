"""Machine status as the dialogue and the store see it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MachineState(enum.StrEnum):
    FREE = "free"
    BUSY = "busy"
    OUT_OF_ORDER = "out-of-order"


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """The last known state of one machine, set by staff, the CLI or the payment system."""

    number: int
    state: MachineState
    # Epoch seconds when a busy machine's cycle ends (None when unknown or not busy).
    until: float | None
    # Epoch seconds of the last change.
    updated: float
