"""``notify.sock``: the gateway asks "deliver this escalation now; was it accepted?".

The gateway connects and writes one JSON line, ``{"deliver": EVENT_ID, "wait": SECONDS}``; the
answer is one line ``{"id", "result", "channels"}`` with result ``accepted`` (a channel took
it), ``already`` (a message about the same problem went out within ``notify.repeat_window``),
``pending`` (not yet: still trying), ``ignored``/``unknown`` or ``no-channels``. It never takes
longer than ``wait``. The client side is ``notify.client.deliver_now``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from laundrybot.notify.delivery import Delivery
from laundrybot.service import ServiceContext
from laundrybot.voiceserver import prepare_socket

EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Seconds a client has to send its request line.
REQUEST_TIMEOUT = 2.0


class DeliverNowServer:
    def __init__(self, ctx: ServiceContext, path: Path, delivery: Delivery) -> None:
        self.ctx = ctx
        self.path = path
        self.delivery = delivery
        self.answers = Counter(
            "laundrybot_notify_answers",
            "The gateway's deliver-now requests, by result.",
            ["result"],
            registry=ctx.registry,
        )
        self._server: asyncio.Server | None = None
        self._inode: int | None = None

    async def start(self) -> None:
        await asyncio.to_thread(prepare_socket, self.path)
        self._server = await asyncio.start_unix_server(self._client, str(self.path))
        self._inode = os.stat(self.path).st_ino
        os.chmod(self.path, 0o660)  # the gateway runs as the same user and group

    def close(self) -> None:
        """Take no new requests."""
        if self._server is not None:
            self._server.close()

    async def wait_closed(self) -> None:
        """Wait (briefly) for the server to close; remove the socket if it is still ours."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        with contextlib.suppress(OSError):
            # Another instance may have taken the path since: leave its socket alone.
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reply: dict[str, Any]
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                line = await reader.readline()
            request = json.loads(line)
            event_id = str(request.get("deliver", ""))
            wait = float(request.get("wait", self.ctx.config.notify.answer_wait))
            if not EVENT_ID.fullmatch(event_id) or not 0 <= wait <= 60:
                raise ValueError("bad request")
            result, per = await self.delivery.outcome(event_id, wait)
            reply = {"id": event_id, "result": result, "channels": per}
        except (ValueError, TypeError, AttributeError, TimeoutError):
            reply = {"result": "error", "error": 'expected {"deliver": EVENT_ID, "wait": S}'}
        except (OSError, sqlite3.Error) as exc:
            reply = {"result": "error", "error": str(exc)}
        self.answers.labels(str(reply["result"])).inc()
        with contextlib.suppress(Exception):
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        writer.close()
