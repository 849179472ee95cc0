"""Machine status into the gateway at once, and out to every kiosk as the ``machines`` message.

Every writer of machine status writes the spool: the machines unit (MQTT sensors), ``laundrybot
machines set`` and the gateway's own HTTP API. The gateway notices the others' commits by
SQLite's ``PRAGMA data_version`` on its own spool connection, read in the spool thread every
``store.machine_refresh`` seconds (a quarter second by default): the number changes only when
another connection committed, so a look costs one pragma and the machines table is read only
after a change. No socket between the units is needed, and every writer is covered, the CLI
too. Writes by the gateway itself (the HTTP API) call ``refresh()`` directly.

After each refresh the board (``machines.board``) is built and sent to every welcomed kiosk
whose last board differs: on a change of state, once a minute while a busy machine counts down
(``minutes_left``), and to a kiosk just welcomed, within one look of its welcome.

The same loop keeps the gateway's ``machines`` readiness: degraded while the machines unit's
broker is unreachable (or the unit does not answer) or a sensor went silent (a machine the
unit made ``unknown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol

from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.server import ServerConnection, broadcast

from laundrybot import unitmetrics
from laundrybot.config import Config
from laundrybot.dialog.knowledge import MachineInfo
from laundrybot.health import Readiness
from laundrybot.machines.board import machines_message
from laundrybot.machines.state import MachineSource, MachineState, MachineStatus
from laundrybot.store.spool import Spool, SpoolDB

log = logging.getLogger(__name__)

READINESS = "machines"
# Seconds between looks at the machines unit's broker connection (a Unix socket request).
HEALTH_INTERVAL = 5.0


class Welcomed(Protocol):
    """What the feed needs of a kiosk connection: has it been welcomed yet?"""

    @property
    def session(self) -> object | None: ...


class MachineFeed:
    def __init__(
        self,
        *,
        spool: Spool,
        config: Callable[[], Config],
        readiness: Readiness,
        machines: Callable[[], Iterable[MachineInfo]],
        connections: Callable[[], Mapping[ServerConnection, Welcomed]],
    ) -> None:
        self.spool = spool
        self.config = config
        self.readiness = readiness
        self.machine_list = machines
        self.connections = connections
        self.statuses: dict[int, MachineStatus] = {}
        self.refreshes = 0  # tables read after a change (for the tests and STATUS)
        self.pushes = 0  # machines messages sent
        self._version: int | None = None
        self._sent: dict[ServerConnection, str] = {}
        self._broker_problem = ""
        self._health_at = 0.0
        self._lock = asyncio.Lock()

    # -- reading the spool -------------------------------------------------------------------

    async def refresh(self, force: bool = False) -> None:
        """Read the machines table if another process committed (or ``force``), then push."""
        async with self._lock:
            last = None if force else self._version

            def look(db: SpoolDB) -> tuple[int, dict[int, MachineStatus] | None]:
                version = db.data_version()
                return version, db.machines() if version != last else None

            try:
                version, statuses = await self.spool.read(look)
            except Exception as exc:  # the spool says why in its own readiness entry
                log.debug("machine status unavailable: %s", exc)
            else:
                self._version = version
                if statuses is not None:
                    self.statuses = statuses
                    self.refreshes += 1
            self.push()
            self._set_readiness()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.config().store.machine_refresh)
            await self.refresh()
            if time.monotonic() - self._health_at >= HEALTH_INTERVAL:
                self._health_at = time.monotonic()
                await self._check_broker()

    # -- kiosks -------------------------------------------------------------------------------

    def message(self) -> str:
        return machines_message(self.machine_list(), self.statuses, time.time())

    def push(self) -> None:
        """Send the board to each welcomed kiosk that does not have this one yet."""
        connections = self.connections()
        for ws in [ws for ws in self._sent if ws not in connections]:
            del self._sent[ws]  # closed
        message = self.message()
        due = [
            ws
            for ws, kiosk in connections.items()
            if kiosk.session is not None and self._sent.get(ws) != message
        ]
        if not due:
            return
        for ws in due:
            self._sent[ws] = message
        broadcast(due, message)
        self.pushes += len(due)

    # -- readiness ---------------------------------------------------------------------------

    def _silent(self) -> list[int]:
        return sorted(
            number
            for number, status in self.statuses.items()
            if status.state is MachineState.UNKNOWN and status.source == MachineSource.MQTT.value
        )

    def _set_readiness(self) -> None:
        if not self.config().machines.broker:
            self.readiness.set(READINESS, True, "no sensors (machines.broker not set)")
            return
        problems = []
        if self._broker_problem:
            problems.append(self._broker_problem)
        silent = self._silent()
        if silent:
            numbers = ", ".join(map(str, silent))
            problems.append(f"sensor silent, status unknown: machine {numbers}")
        self.readiness.set(READINESS, not problems, "; ".join(problems))

    async def _check_broker(self) -> None:
        """The machines unit's broker connection: its readiness in this process, else its
        ``laundrybot_machines_broker_up`` on its metrics socket."""
        if not self.config().machines.broker:
            self._broker_problem = ""
            return
        own = self.readiness.get("broker")
        if own is not None:  # the machines unit runs in this process
            self._broker_problem = "" if own.ok else f"broker: {own.detail}"
        else:
            self._broker_problem = await _broker_problem_from_unit(self.config().runtime_path)
        self._set_readiness()


def _machines_socket(runtime: Path) -> Path:
    """The machines unit's metrics socket ("machines", or "machines+recorder" and the like)."""
    folder = unitmetrics.metrics_dir(runtime)
    with contextlib.suppress(OSError):
        for path in sorted(folder.glob(f"*{unitmetrics.SUFFIX}")):
            if "machines" in path.name.removesuffix(unitmetrics.SUFFIX).split("+"):
                return path
    return unitmetrics.socket_path(runtime, "machines")


async def _broker_problem_from_unit(runtime: Path) -> str:
    try:
        text = await unitmetrics.fetch(_machines_socket(runtime))
    except (OSError, TimeoutError):
        return "laundrybot-machines is not answering"
    up = None
    with contextlib.suppress(ValueError):
        for family in text_string_to_metric_families(text):
            if family.name == "laundrybot_machines_broker_up":
                up = family.samples[0].value if family.samples else None
    if up is None:
        return "laundrybot-machines gave no broker state"
    if up < 1:
        return "the MQTT broker is unreachable (see systemctl status laundrybot-machines)"
    return ""
