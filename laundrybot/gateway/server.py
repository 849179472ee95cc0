"""The kiosk-facing gateway: WebSocket sessions on /kiosk, and HTTP health, readiness, metrics.

One asyncio ``websockets`` server. Each kiosk connection is handled by ``KioskConnection``,
which leaves its questions to ``Turns``; this module owns what they share: the dialogue
(swapped whole on reload), the machine status cache, the spool and the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import http
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from laundrybot import unitmetrics
from laundrybot.config import Config, GatewayConfig, parse_listen
from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import Knowledge, load_knowledge_set
from laundrybot.errors import ConfigError
from laundrybot.gateway import protocol
from laundrybot.gateway.connection import KioskConnection
from laundrybot.gateway.kioskpage import StaticFile, load_site
from laundrybot.gateway.link import LinkConnection, LinkStats
from laundrybot.gateway.session import SessionStore
from laundrybot.gateway.turns import Turns
from laundrybot.gateway.voice import VoiceLinks
from laundrybot.lang import get as language_unit
from laundrybot.machines.state import MachineStatus
from laundrybot.metrics import GatewayMetrics
from laundrybot.notify.client import deliver_now, has_channels
from laundrybot.service import Service, ServiceContext
from laundrybot.store.spool import Spool, SpoolDB

log = logging.getLogger(__name__)

KIOSK_PATH = "/kiosk"
# Seconds between spool row counts for the metrics (a count is a table scan).
SPOOL_COUNT_INTERVAL = 15.0
# Seconds between moves of the kiosks' link figures (RTT, bytes, last seen) into the metrics.
LINK_INTERVAL = 1.0


@dataclass(frozen=True)
class Brain:
    """What a reload swaps in one assignment: the shop's facts and the dialogues built on them."""

    # By language; the main knowledge file's language first.
    knowledge: dict[str, Knowledge]
    dialogs: dict[str, Dialog]
    default_lang: str
    timezone: ZoneInfo

    @property
    def languages(self) -> list[str]:
        return list(self.dialogs)


def load_brain(config: Config) -> Brain:
    """Read and check the knowledge files (blocking: call it in a thread)."""
    path = config.knowledge_path
    knowledge_set = load_knowledge_set(path)
    main = next(iter(knowledge_set.values()))
    try:
        timezone = ZoneInfo(main.timezone)
    except (ValueError, KeyError) as exc:
        raise ConfigError(str(path), "timezone", "a time zone such as America/Chicago") from exc
    dialogs = {lang: Dialog(knowledge) for lang, knowledge in knowledge_set.items()}
    return Brain(knowledge_set, dialogs, main.language, timezone)


class GatewayService(Service):
    name = "gateway"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = GatewayMetrics(ctx.registry)
        self.links = LinkStats(self.metrics)
        self.spool = Spool(ctx.config.spool_path, ctx.config.shop_id, on_state=self._spool_state)
        self.sessions = SessionStore(
            ctx.config.gateway.limits.resume_window, ctx.config.gateway.limits.max_sessions
        )
        self.connections: dict[ServerConnection, KioskConnection] = {}
        self.voice = VoiceLinks(ctx.config, ctx.readiness)
        self.machines: dict[int, MachineStatus] = {}
        self.brain: Brain | None = None
        self.site: dict[str, StaticFile] = {}
        self.turns = Turns(
            spool=self.spool,
            metrics=self.metrics,
            tell_staff=self.tell_staff,
            dialog=self.dialog,
            machines=lambda: self.machines,
            now=self.now,
            answer_minutes=lambda: self.config.notify.answer_minutes,
        )
        self.address = ""
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] = lambda: None

    @property
    def config(self) -> Config:
        return self.ctx.config

    @property
    def settings(self) -> GatewayConfig:
        return self.ctx.config.gateway

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self.brain = await asyncio.to_thread(load_brain, self.config)
        self.site = await asyncio.to_thread(load_site)
        self.ctx.readiness.set("spool", False, "opening")
        await self.spool.start()
        self.ctx.liveness.watch(self.spool.watch)
        await self._refresh_machines()
        self.voice.start()
        limits = self.config.gateway.limits
        options = dict(
            process_request=self._http,
            max_size=limits.max_message_bytes,
            ping_interval=self.config.gateway.ping_interval,
            ping_timeout=self.config.gateway.ping_timeout,
            compression=None,  # kiosk frames are small or audio; deflate costs CPU and memory
            server_header="laundrybot",
            create_connection=LinkConnection,  # counts bytes and keepalive round-trip times
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
            "kiosks connect to ws://%s%s; health: http://%s/readyz", self.address, KIOSK_PATH,
            self.address,
        )  # fmt: skip
        self._unsubscribe = self.ctx.readiness.subscribe(self._push_status)
        self._tasks = [
            asyncio.create_task(self._machine_loop(), name="machines"),
            asyncio.create_task(self._spool_count_loop(), name="spool-counts"),
            asyncio.create_task(self._link_loop(), name="links"),
        ]

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        brain = await asyncio.to_thread(load_brain, config)
        site = await asyncio.to_thread(load_site)  # the kiosk page may have been updated too
        if config.gateway.listen != self.config.gateway.listen and not self.ctx.listen_sockets:
            log.warning("gateway.listen changed: it takes effect at the next restart")
        if config.spool_path != self.config.spool_path:
            log.warning("store.spool changed: it takes effect at the next restart")

        def commit() -> None:
            self.brain = brain
            self.site = site
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
            self.turns.stop_taking()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.turns.finished(), grace)
            self._server.close(close_connections=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), grace + 5)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.voice.stop()
        self.ctx.liveness.unwatch(self.spool.watch)
        await self.spool.stop()

    def status(self) -> str:
        return (
            f"listening on {self.address}, {len(self.connections)} kiosks connected, "
            f"{self.turns.served} turns served"
        )

    # -- kiosk connections --------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if len(self.connections) >= self.config.gateway.limits.max_connections:
            self.metrics.connections_refused.inc()
            await ws.close(1013, "too many kiosks connected, try again later")
            return
        kiosk = KioskConnection(self, ws)
        self.connections[ws] = kiosk
        self.metrics.connections.set(len(self.connections))
        self.metrics.connections_total.inc()
        self.ctx.status_changed()
        try:
            await kiosk.run()
        finally:
            if kiosk.link_label is not None:
                self.links.closed(kiosk.link_label, ws)
            self.connections.pop(ws, None)
            self.metrics.connections.set(len(self.connections))
            self.ctx.status_changed()

    # -- languages -----------------------------------------------------------------------------

    @property
    def languages(self) -> list[str]:
        assert self.brain is not None
        return self.brain.languages

    @property
    def default_lang(self) -> str:
        assert self.brain is not None
        return self.brain.default_lang

    def choose_lang(self, wanted: str | None) -> str:
        """The kiosk's language if the knowledge has it ("ko" also for "ko-KR"), else default."""
        if wanted:
            for lang in (wanted, wanted.split("-")[0]):
                if lang in self.languages:
                    return lang
        return self.default_lang

    def dialog(self, lang: str) -> Dialog:
        assert self.brain is not None
        return self.brain.dialogs.get(lang) or self.brain.dialogs[self.brain.default_lang]

    def kiosk_info(self) -> dict[str, object]:
        """What the kiosk page needs before and without a connection (e.g. the offline screen)."""
        assert self.brain is not None
        languages = {}
        for code, knowledge in self.brain.knowledge.items():
            # The knowledge loader only takes languages that have a unit.
            unit = language_unit(code)
            languages[code] = {
                "name": unit.name,
                "shop_name": knowledge.shop_name,
                "address": knowledge.address,
                "staff_phone": knowledge.staff_phone,
                "staff_phone_note": knowledge.staff_phone_note or "",
                "quick_questions": list(self.dialog(code).quick_questions),
                "privacy": unit.privacy_text(self.config.store.retention_days),
                "voice_input": self.voice.can_listen(code),
                "voice_output": self.voice.can_speak(code),
                # The machine board's size names in this language ("regular" -> "일반").
                "sizes": {
                    kind: {s.size: s.name or s.size for s in knowledge.sizes(kind)}
                    for kind in ("washer", "dryer")
                },
            }
        # The machine board before the first `machines` message (numbers, kinds, sizes).
        main = self.brain.knowledge[self.default_lang]
        machines = [{"number": m.number, "kind": m.kind, "size": m.size} for m in main.machines]
        return {"default_lang": self.default_lang, "languages": languages, "machines": machines}

    # -- status pushes ------------------------------------------------------------------------

    def kiosk_status(self, lang: str) -> str:
        """What a kiosk in ``lang`` can use right now.

        Only what changes the customer's experience: typed questions always work while the
        gateway runs (``ready``); voice needs its unit up and a model for the language. A
        spool or database problem is the owner's business (/readyz, STATUS, metrics).
        """
        degraded = self.voice.missing(lang)
        return protocol.encode("status", ready=self.brain is not None, degraded=degraded)

    def _push_status(self) -> None:
        """Tell each kiosk whose status changed (not every readiness change concerns them)."""
        status_by_lang: dict[str, str] = {}
        changed: dict[str, list[ServerConnection]] = {}
        for ws, kiosk in self.connections.items():
            if kiosk.session is None:
                continue  # not welcomed yet: it gets its status with the welcome
            lang = kiosk.lang
            if lang not in status_by_lang:
                status_by_lang[lang] = self.kiosk_status(lang)
            if kiosk.last_status != status_by_lang[lang]:
                kiosk.last_status = status_by_lang[lang]
                changed.setdefault(lang, []).append(ws)
        for lang, connections in changed.items():
            broadcast(connections, status_by_lang[lang])

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
            self.metrics.database_configured.set(1 if self.config.store.postgres.dsn else 0)
            self.metrics.max_rss.set(self.config.health.max_rss_mb * 2**20)
            self.metrics.max_fds.set(self.config.health.max_open_fds)
            with contextlib.suppress(OSError):
                disk = await asyncio.to_thread(shutil.disk_usage, self.spool.path.parent)
                self.metrics.disk_free.set(disk.free)
                self.metrics.disk_size.set(disk.total)
            since = time.time() - 3600

            def figures(
                db: SpoolDB, since: float = since
            ) -> tuple[dict[str, int], list[tuple[str, str, int]]]:
                return db.counts(), db.unit_failures(since)

            try:
                counts, failures = await self.spool.read(figures)
            except Exception as exc:
                log.debug("spool counts unavailable: %s", exc)
            else:
                for table in ("turns", "events"):
                    self.metrics.spool_rows.labels(table).set(counts[f"{table}_total"])
                    self.metrics.spool_pending.labels(table).set(counts[f"{table}_pending"])
                self.metrics.unit_failures.clear()
                for unit, result, count in failures:
                    self.metrics.unit_failures.labels(unit, result).set(count)
            self.metrics.spool_backlog.set(self.spool.backlog)
            await asyncio.sleep(SPOOL_COUNT_INTERVAL)

    async def _link_loop(self) -> None:
        while True:
            await asyncio.sleep(LINK_INTERVAL)
            for ws, kiosk in list(self.connections.items()):
                if kiosk.link_label is not None:
                    self.links.flush(kiosk.link_label, ws)

    # -- staff notifications ----------------------------------------------------------------

    async def tell_staff(self, event_id: str) -> str:
        """Have the notify unit send the escalation ``event_id`` now; its result, within
        notify.answer_wait seconds (the reply never waits longer)."""
        if not has_channels(self.config):
            return "no-channels"
        notify = self.config.notify
        return await deliver_now(self.config.notify_socket_path, event_id, notify.answer_wait)

    def _spool_state(self, ok: bool, problem: str) -> None:
        self.metrics.spool_up.set(1 if ok else 0)
        self.ctx.readiness.set("spool", ok, problem)

    # -- HTTP on the same port ------------------------------------------------------------

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.partition("?")[0]
        if path == KIOSK_PATH:
            return None  # go on with the WebSocket handshake
        if path == "/kiosk.json":
            body = json.dumps(self.kiosk_info(), ensure_ascii=False, indent=1) + "\n"
            return _respond(http.HTTPStatus.OK, body, "application/json")
        if path == "/healthz":
            problems = self.ctx.liveness.problems_now()
            if problems:
                return _respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "; ".join(problems) + "\n")
            return _respond(http.HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            ready = self.ctx.readiness.as_json() | {"status": self.status()}
            code = http.HTTPStatus.OK if ready["ready"] else http.HTTPStatus.SERVICE_UNAVAILABLE
            return _respond(code, json.dumps(ready, indent=1) + "\n", "application/json")
        if path == "/metrics":
            # One scrape target per shop PC: the other units' metrics are merged in.
            units = await unitmetrics.gather(self.ctx.config.runtime_path)
            merged = unitmetrics.merge(self.ctx.registry, units) if units else None
            return _respond(
                http.HTTPStatus.OK,
                merged or generate_latest(self.ctx.registry),
                CONTENT_TYPE_LATEST,
            )
        page = self.site.get(path)
        if page is not None:
            return _respond(http.HTTPStatus.OK, page.body, page.content_type)
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
