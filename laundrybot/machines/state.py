"""Machine status as the dialogue and the store see it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class MachineState(enum.StrEnum):
    FREE = "free"
    BUSY = "busy"
    OUT_OF_ORDER = "out-of-order"
    # Its feed (a power meter, a payment system) went silent for longer than allowed: the
    # last state it gave may no longer hold.
    UNKNOWN = "unknown"


class MachineSource(enum.StrEnum):
    """Where a machine's state came from."""

    MQTT = "mqtt"  # a sensor on the shop floor (laundrybot-machines)
    API = "api"  # the payment system, over the gateway's HTTP API
    STAFF = "staff"  # a person: `laundrybot machines set`, or anything older


@dataclass(frozen=True, slots=True)
class MachineStatus:
    """The last known state of one machine, set by staff, the CLI or the payment system."""

    number: int
    state: MachineState
    # Epoch seconds when a busy machine's cycle ends (None when unknown or not busy).
    until: float | None
    # Epoch seconds of the last change.
    updated: float
    # Who said so: "mqtt", "api" or "staff" (see MachineSource).
    source: str = MachineSource.STAFF.value
