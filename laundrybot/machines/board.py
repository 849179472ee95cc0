"""The kiosk protocol's ``machines`` message: every machine of the shop and its state, for the
kiosk page's live machine board (pushed to connected kiosks when a state changes).

``{"type": "machines", "machines": [{"number", "kind", "size", "state", "minutes_left",
"source", "updated"}]}``, in the knowledge file's order. ``state`` is free, busy,
out-of-order or unknown (no status at all, or a silent sensor); ``minutes_left`` is a whole
number for a busy machine whose end is known, else null; ``source`` is mqtt, api, staff or
null; ``updated`` is epoch seconds of the last change, or null.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from laundrybot.dialog.knowledge import MachineInfo
from laundrybot.gateway.protocol import encode
from laundrybot.machines.state import MachineState, MachineStatus


def board(
    machines: Iterable[MachineInfo], statuses: Mapping[int, MachineStatus], now: float
) -> list[dict[str, Any]]:
    out = []
    for machine in machines:
        status = statuses.get(machine.number)
        minutes_left = None
        if status is not None and status.state is MachineState.BUSY and status.until:
            minutes_left = max(0, math.ceil((status.until - now) / 60))
        out.append(
            {
                "number": machine.number,
                "kind": machine.kind,
                "size": machine.size,
                "state": status.state.value if status else MachineState.UNKNOWN.value,
                "minutes_left": minutes_left,
                "source": status.source if status else None,
                "updated": round(status.updated, 3) if status else None,
            }
        )
    return out


def machines_message(
    machines: Iterable[MachineInfo], statuses: Mapping[int, MachineStatus], now: float
) -> str:
    """The ``machines`` frame, ready to send."""
    return encode("machines", machines=board(machines, statuses, now))
