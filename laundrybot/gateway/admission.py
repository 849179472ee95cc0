"""Connections that have not said hello yet: few, short-lived, and never in a kiosk's way.

Every TCP connection the gateway accepts is *waiting* from its first byte until its hello is
accepted (or until it is an HTTP request that got its answer). Waiting connections are capped
per client address and overall; one more drops the oldest waiting connection of the same
address, or overall, instead of refusing the newcomer. A real kiosk gets through its handshake
and hello in milliseconds, so it is never the oldest for long; a half-open or silent connection
is, and it goes first. Nothing here holds a ``max_connections`` slot: those are taken after
hello (server.py), so waiting connections cannot keep kiosks out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class Waiting(Protocol):
    """A connection that can be dropped at once (LinkConnection)."""

    def drop(self) -> None: ...


class Admission:
    def __init__(
        self, limit: int, per_address: int, on_drop: Callable[[], None] = lambda: None
    ) -> None:
        self.limit = limit
        self.per_address = per_address
        self.on_drop = on_drop
        self._waiting: OrderedDict[Waiting, str] = OrderedDict()  # oldest first -> address
        self._by_address: dict[str, OrderedDict[Waiting, None]] = {}

    def __len__(self) -> int:
        return len(self._waiting)

    def arrived(self, conn: Waiting, address: str) -> None:
        self._waiting[conn] = address
        mine = self._by_address.setdefault(address, OrderedDict())
        mine[conn] = None
        if len(mine) > self.per_address:
            self._drop(next(iter(mine)))
        if len(self._waiting) > self.limit:
            self._drop(next(iter(self._waiting)))

    def settled(self, conn: Waiting) -> None:
        """Said hello (or was answered, or left): not waiting any more."""
        address = self._waiting.pop(conn, None)
        if address is None:
            return
        mine = self._by_address[address]
        mine.pop(conn, None)
        if not mine:
            del self._by_address[address]

    def _drop(self, conn: Waiting) -> None:
        self.settled(conn)
        self.on_drop()
        conn.drop()
