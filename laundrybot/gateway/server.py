"""The kiosk-facing gateway: WebSocket sessions on /kiosk, and HTTP health, readiness, metrics.

One asyncio ``websockets`` server. Each kiosk connection is handled by ``KioskConnection``;
this module owns what they share: the dialogue (swapped whole on reload), the machine status
cache, the spool and the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from laundrybot.config import Config, parse_listen
from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import Knowledge, load_knowledge
from laundrybot.dialog.machines import MachineStatus
from laundrybot.errors import ConfigError
from laundrybot.gateway import protocol
from laundrybot.gateway.connection import KioskConnection
from laundrybot.gateway.session import SessionStore
from laundrybot.metrics import GatewayMetrics
from laundrybot.service import Service, ServiceContext
from laundrybot.store.spool import Spool

log = logging.getLogger(__name__)

KIOSK_PATH = "/kiosk"
# Seconds between spool row counts for the metrics (a count is a table scan).
SPOOL_COUNT_INTERVAL = 15.0


@dataclass(frozen=True)
class Brain:
    """What a reload swaps in one assignment: the shop's facts and the dialogue built on them."""

    knowledge: Knowledge
    dialog: Dialog
    timezone: ZoneInfo


def load_brain(config: Config) -> Brain:
    """Read and check the knowledge file (blocking: call it in a thread)."""
    path = config.knowledge_path
    knowledge = load_knowledge(path)
    try:
        timezone = ZoneInfo(knowledge.timezone)
    except (ValueError, KeyError) as exc:
        raise ConfigError(str(path), "timezone", "a time zone such as America/Chicago") from exc
    return Brain(knowledge, Dialog(knowledge), timezone)


class GatewayService(Service):
    name = "gateway"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = GatewayMetrics(ctx.registry)
        self.spool = Spool(ctx.config.spool_path, ctx.config.shop_id, on_state=self._spool_state)
        self.sessions = SessionStore(
            ctx.config.gateway.limits.resume_window, ctx.config.gateway.limits.max_sessions
        )
        self.connections: set[ServerConnection] = set()
        self.machines: dict[int, MachineStatus] = {}
        self.brain: Brain | None = None
        self.turns_served = 0
        self.turns_in_progress = 0
        self.address = ""
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._idle = asyncio.Event()
        self._idle.set()
        self._unsubscribe: Callable[[], None] = lambda: None

    @property
    def config(self) -> Config:
        return self.ctx.config

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self.brain = await asyncio.to_thread(load_brain, self.config)
        self.ctx.readiness.set("spool", False, "opening")
        await self.spool.start()
        await self._refresh_machines()
        limits = self.config.gateway.limits
        options = dict(
            process_request=self._http,
            max_size=limits.max_message_bytes,
            ping_interval=self.config.gateway.ping_interval,
            ping_timeout=self.config.gateway.ping_timeout,
            compression=None,  # kiosk frames are small or audio; deflate costs CPU and memory
            server_header="laundrybot",
        )
        if self.ctx.listen_sockets:
            sock = self.ctx.listen_sockets[0]
            self._server = await serve(self._handle, sock=sock, **options)  # type: ignore[arg-type]
        else:
            host, port = parse_listen(self.config.gateway.listen)
            self._server = await serve(self._handle, host, port, **options)  # type: ignore[arg-type]
        name = self._server.sockets[0].getsockname()
        host = f"[{name[0]}]" if ":" in name[0] else name[0]
        self.address = f"{host}:{name[1]}"
        log.info(
            "kiosks connect to ws://%s%s (try: laundrybot talk); health: http://%s/readyz",
            self.address,
            KIOSK_PATH,
            self.address,
        )
        self._unsubscribe = self.ctx.readiness.subscribe(self._push_status)
        self._tasks = [
            asyncio.create_task(self._machine_loop(), name="machines"),
            asyncio.create_task(self._spool_count_loop(), name="spool-counts"),
        ]

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        brain = await asyncio.to_thread(load_brain, config)
        if config.gateway.listen != self.config.gateway.listen and not self.ctx.listen_sockets:
            log.warning("gateway.listen changed: it takes effect at the next restart")
        if config.spool_path != self.config.spool_path:
            log.warning("store.spool changed: it takes effect at the next restart")

        def commit() -> None:
            self.brain = brain
            self.sessions.resume_window = config.gateway.limits.resume_window
            self.sessions.max_sessions = config.gateway.limits.max_sessions

        return commit

    async def stop(self) -> None:
        self._unsubscribe()
        grace = self.config.gateway.limits.stop_grace
        if self._server is not None:
            # Stop accepting first, let turns in progress finish, then say goodbye (1001).
            # (websockets' close() runs once, so stop the listening socket underneath first.)
            self._server.server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
            self._server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), grace + 5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.spool.stop()

    def status(self) -> str:
        return (
            f"listening on {self.address}, {len(self.connections)} kiosks connected, "
            f"{self.turns_served} turns served"
        )

    # -- turns in progress, for a graceful stop ---------------------------------------------

    @contextlib.contextmanager
    def turn(self):  # type: ignore[no-untyped-def]
        self.turns_in_progress += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.turns_in_progress -= 1
            if self.turns_in_progress == 0:
                self._idle.set()

    @property
    def stopping(self) -> bool:
        return self._server is not None and not self._server.is_serving()

    # -- kiosk connections --------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if len(self.connections) >= self.config.gateway.limits.max_connections:
            self.metrics.connections_refused.inc()
            await ws.close(1013, "too many kiosks connected, try again later")
            return
        self.connections.add(ws)
        self.metrics.connections.set(len(self.connections))
        self.metrics.connections_total.inc()
        self.ctx.status_changed()
        try:
            await KioskConnection(self, ws).run()
        finally:
            self.connections.discard(ws)
            self.metrics.connections.set(len(self.connections))
            self.ctx.status_changed()

    def kiosk_status(self) -> str:
        readiness = self.ctx.readiness
        # Voice arrives with the ASR and TTS units; until one is reachable, say so plainly.
        degraded = readiness.degraded
        for feature, dependency in (("voice-input", "asr"), ("voice-output", "tts")):
            dep = readiness.get(dependency)
            if dep is None or not dep.ok:
                degraded.append(feature)
        return protocol.encode("status", ready=readiness.ready, degraded=degraded)

    def _push_status(self) -> None:
        broadcast(self.connections, self.kiosk_status())

    def now(self) -> datetime.datetime:
        assert self.brain is not None
        return datetime.datetime.now(self.brain.timezone)

    # -- machine status and spool figures ------------------------------------------------

    async def _refresh_machines(self) -> None:
        # The CLI and the payment system write machine status into the spool directly.
        with contextlib.suppress(Exception):
            self.machines = await self.spool.read(lambda db: db.machines())

    async def _machine_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.store.machine_refresh)
            await self._refresh_machines()

    async def _spool_count_loop(self) -> None:
        while True:
            try:
                counts = await self.spool.read(lambda db: db.counts())
            except Exception as exc:
                log.debug("spool counts unavailable: %s", exc)
            else:
                for table in ("turns", "events"):
                    self.metrics.spool_rows.labels(table).set(counts[f"{table}_total"])
                    self.metrics.spool_pending.labels(table).set(counts[f"{table}_pending"])
            self.metrics.spool_backlog.set(self.spool.backlog)
            await asyncio.sleep(SPOOL_COUNT_INTERVAL)

    def _spool_state(self, ok: bool, problem: str) -> None:
        self.metrics.spool_up.set(1 if ok else 0)
        self.ctx.readiness.set("spool", ok, problem)

    # -- HTTP on the same port ------------------------------------------------------------

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.partition("?")[0]
        if path == KIOSK_PATH:
            return None  # go on with the WebSocket handshake
        if path == "/healthz":
            problems = self.ctx.liveness.problems_now()
            if problems:
                return _respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "; ".join(problems) + "\n")
            return _respond(http.HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            body = self.ctx.readiness.as_json() | {"status": self.status()}
            code = http.HTTPStatus.OK if body["ready"] else http.HTTPStatus.SERVICE_UNAVAILABLE
            return _respond(code, json.dumps(body, indent=1) + "\n", "application/json")
        if path == "/metrics":
            return _respond(
                http.HTTPStatus.OK, generate_latest(self.ctx.registry), CONTENT_TYPE_LATEST
            )
        if path == "/":
            text = (
                "laundrybot gateway\n"
                f"kiosk WebSocket: {KIOSK_PATH}\nhealth: /healthz /readyz\nmetrics: /metrics\n"
            )
            return _respond(http.HTTPStatus.OK, text)
        return _respond(http.HTTPStatus.NOT_FOUND, "not found\n")


def _respond(
    status: http.HTTPStatus, body: str | bytes, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    data = body.encode() if isinstance(body, str) else body
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, data)


def monotonic_ms(since: float) -> float:
    return (time.monotonic() - since) * 1000
