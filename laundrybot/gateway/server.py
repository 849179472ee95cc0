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
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from laundrybot import unitmetrics
from laundrybot.config import Config, GatewayConfig, gateway_memory, parse_listen
from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import Knowledge, MachineInfo, load_knowledge_set
from laundrybot.errors import ConfigError
from laundrybot.gateway import protocol
from laundrybot.gateway.admission import Admission
from laundrybot.gateway.connection import KioskConnection
from laundrybot.gateway.kioskpage import StaticFile, load_site
from laundrybot.gateway.link import LinkConnection, LinkStats
from laundrybot.gateway.machineapi import API_PREFIX, ApiConnection, MachineApi
from laundrybot.gateway.machinefeed import MachineFeed
from laundrybot.gateway.session import SessionStore
from laundrybot.gateway.sessionshelf import SessionShelf
from laundrybot.gateway.tokens import Tokens, load_tokens
from laundrybot.gateway.turns import Turns
from laundrybot.gateway.voice import VoiceLinks
from laundrybot.lang import get as language_unit
from laundrybot.metrics import GatewayMetrics
from laundrybot.notify.client import deliver_now, has_channels
from laundrybot.service import Service, ServiceContext
from laundrybot.store.spool import Spool, SpoolDB

log = logging.getLogger(__name__)

KIOSK_PATH = "/kiosk"
# What needs a kiosk token when tokens are configured (unless gateway.public_http); /healthz
# and the page's own files never do.
PROTECTED_PATHS = frozenset({"/readyz", "/metrics", "/kiosk.json"})
# Without these the gateway does not serve (a reply is sent only once it is in the spool).
SERVING_DEPENDENCIES = ("spool",)
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
        self.spool = Spool(
            ctx.config.spool_path,
            ctx.config.shop_id,
            on_state=self._spool_state,
            fallback=ctx.config.spool_fallback_path,
            on_change=self._spool_figures,
        )
        self._spool_lost = (0, 0)  # dropped, refused: already counted in the metrics
        self._spool_lost_lock = threading.Lock()
        self._spool_figures()
        self.memory = gateway_memory(ctx.config)
        self.sessions = SessionStore(
            ctx.config.gateway.limits.resume_window,
            ctx.config.gateway.limits.max_sessions,
            self.memory.sessions,
        )
        # Peers share their sessions, so a kiosk resumes on whichever peer it reaches.
        self.shelf: SessionShelf | None = None
        if "@" in ctx.unit:
            self.shelf = SessionShelf(
                ctx.config.runtime_path,
                self.sessions,
                on_state=lambda ok, problem: ctx.readiness.set("session-shelf", ok, problem),
            )
            self.sessions.on_change = self.shelf.put
        self.connections: dict[ServerConnection, KioskConnection] = {}
        limits = ctx.config.gateway.limits
        self.admission = Admission(
            limits.max_waiting,
            limits.max_waiting_per_address,
            on_drop=self.metrics.connections_dropped.labels("waiting").inc,
        )
        self.voice = VoiceLinks(ctx.config, ctx.readiness)
        self.brain: Brain | None = None
        self.feed = MachineFeed(
            spool=self.spool,
            config=lambda: self.config,
            readiness=ctx.readiness,
            machines=self.machine_list,
            connections=lambda: self.connections,
        )
        self.machine_api = MachineApi(
            spool=self.spool,
            config=lambda: self.config,
            machines=self.machine_list,
            statuses=lambda: self.feed.statuses,
            changed=lambda: self.feed.refresh(force=True),
            registry=ctx.registry,
        )
        self.tokens = Tokens()
        self.site: dict[str, StaticFile] = {}
        self.turns = Turns(
            spool=self.spool,
            metrics=self.metrics,
            tell_staff=self.tell_staff,
            dialog=self.dialog,
            machines=lambda: self.feed.statuses,
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
    def peer_name(self) -> str:
        """This gateway's unit name when it runs as one of several peers ("gateway@2"), else ""."""
        return self.ctx.unit if "@" in self.ctx.unit else ""

    @property
    def settings(self) -> GatewayConfig:
        return self.ctx.config.gateway

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self.brain = await asyncio.to_thread(load_brain, self.config)
        self.site = await asyncio.to_thread(load_site)
        self.tokens = await asyncio.to_thread(load_tokens, self.settings)
        self.ctx.readiness.set("spool", False, "opening")
        await self.spool.start()
        self.ctx.liveness.watch(self.spool.watch)
        await self.feed.refresh()
        if self.shelf is not None:
            await self.shelf.start()
        self.voice.start()
        limits = self.config.gateway.limits
        admission = self.admission
        memory = self.memory
        unsent = self.metrics.connections_dropped.labels("unsent").inc
        flood = self.metrics.connections_dropped.labels("flood").inc

        def create_connection(*args: Any, **kwargs: Any) -> ApiConnection:
            # Counts bytes and keepalive round-trip times, is capped while it waits, and takes
            # the body of an API request.
            return ApiConnection(
                *args,
                admission=admission,
                max_unsent=memory.unsent,
                on_overflow=unsent,
                max_frames=limits.max_frames_per_second,
                max_bytes=limits.max_kb_per_second * 1024,
                on_flood=flood,
                **kwargs,
            )

        options = dict(
            process_request=self._http,
            open_timeout=limits.handshake_timeout,
            close_timeout=2,  # a peer that does not answer our close frame loses its socket
            max_size=limits.max_message_bytes,
            ping_interval=self.config.gateway.ping_interval,
            ping_timeout=self.config.gateway.ping_timeout,
            compression=None,  # kiosk frames are small or audio; deflate costs CPU and memory
            server_header="laundrybot",
            create_connection=create_connection,
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
            asyncio.create_task(self.feed.run(), name="machines"),
            asyncio.create_task(self._spool_count_loop(), name="spool-counts"),
            asyncio.create_task(self._link_loop(), name="links"),
        ]

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        brain = await asyncio.to_thread(load_brain, config)
        site = await asyncio.to_thread(load_site)  # the kiosk page may have been updated too
        tokens = await asyncio.to_thread(load_tokens, config.gateway)
        if config.gateway.listen != self.config.gateway.listen and not self.ctx.listen_sockets:
            log.warning("gateway.listen changed: it takes effect at the next restart")
        if config.spool_path != self.config.spool_path:
            log.warning("store.spool changed: it takes effect at the next restart")

        def commit() -> None:
            self.brain = brain
            self.site = site
            self.tokens = tokens
            self.sessions.resume_window = config.gateway.limits.resume_window
            self.sessions.max_sessions = config.gateway.limits.max_sessions
            self.memory = gateway_memory(config)  # new connections get the new bound
            self.sessions.max_bytes = self.memory.sessions
            self.admission.limit = config.gateway.limits.max_waiting
            self.admission.per_address = config.gateway.limits.max_waiting_per_address

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
        if self.shelf is not None:
            await self.shelf.stop()
        self.ctx.liveness.unwatch(self.spool.watch)
        await self.spool.stop()

    def status(self) -> str:
        return (
            f"listening on {self.address}, {len(self.connections)} kiosks connected, "
            f"{self.turns.served} turns served"
        )

    # -- kiosk connections --------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        # No slot yet: one is taken only once the kiosk's hello (and token) is accepted (admit).
        kiosk = KioskConnection(self, ws)
        try:
            await kiosk.run()
        finally:
            if kiosk.link_label is not None:
                self.links.closed(kiosk.link_label, ws)
            if self.connections.pop(ws, None) is not None:
                self.metrics.connections.set(len(self.connections))
                self.ctx.status_changed()

    def admit(self, kiosk: KioskConnection) -> bool:
        """A kiosk's hello was accepted: it takes a slot, if there is one (else 1013)."""
        if isinstance(kiosk.ws, LinkConnection):
            kiosk.ws.settled()  # not waiting any more, either way
        if len(self.connections) >= self.config.gateway.limits.max_connections:
            self.metrics.connections_refused.inc()
            return False
        self.connections[kiosk.ws] = kiosk
        self.metrics.connections.set(len(self.connections))
        self.metrics.connections_total.inc()
        self.ctx.status_changed()
        return True

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
        machines = [
            {"number": m.number, "kind": m.kind, "size": m.size} for m in self.machine_list()
        ]
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

    def machine_list(self) -> tuple[MachineInfo, ...]:
        """The shop's machines (the main knowledge file's), for the board and the API."""
        if self.brain is None:
            return ()
        return self.brain.knowledge[self.brain.default_lang].machines

    async def _spool_count_loop(self) -> None:
        while True:
            self.metrics.database_configured.set(1 if self.config.store.postgres.dsn else 0)
            self.metrics.max_rss.set(self.ctx.liveness.limits.max_rss_mb * 2**20)
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
            await asyncio.sleep(SPOOL_COUNT_INTERVAL)

    async def _link_loop(self) -> None:
        while True:
            await asyncio.sleep(LINK_INTERVAL)
            self.metrics.sessions.set(len(self.sessions))
            self.metrics.session_bytes.set(self.sessions.bytes)
            self.metrics.session_memory.set(self.sessions.max_bytes)
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

    def _spool_figures(self) -> None:
        """The spool's backlog and losses, in the metrics as they change (any thread)."""
        with self._spool_lost_lock:
            self.metrics.spool_backlog.set(self.spool.backlog)
            self.metrics.spool_fallback_up.set(1 if self.spool.journal_ok else 0)
            dropped, refused = self.spool.dropped, self.spool.refused
            if dropped > self._spool_lost[0]:
                self.metrics.spool_dropped.inc(dropped - self._spool_lost[0])
            if refused > self._spool_lost[1]:
                self.metrics.spool_refused.inc(refused - self._spool_lost[1])
            self._spool_lost = (
                max(dropped, self._spool_lost[0]),
                max(refused, self._spool_lost[1]),
            )

    def _spool_state(self, ok: bool, problem: str) -> None:
        self.metrics.spool_up.set(1 if ok else 0)
        self.ctx.readiness.set("spool", ok, problem)

    # -- HTTP on the same port ------------------------------------------------------------

    def _http_allowed(self, request: Request) -> bool:
        """With kiosk tokens, /readyz, /metrics and /kiosk.json need one (or public_http)."""
        if not self.tokens.required or self.settings.public_http:
            return True
        return self.tokens.known(_request_token(request))

    async def readiness_report(self) -> dict[str, object]:
        """/readyz: ok, degraded (serving, something is down) or down (not serving).

        Degraded lists every dependency that is down: this process's, and the other units'
        as their merged metrics say (``laundrybot_dependency_up``, e.g. the recorder's
        database), plus units whose metrics could not be read at all.
        """
        report = self.ctx.readiness.as_json()
        degraded = list(self.ctx.readiness.degraded)
        units = await unitmetrics.gather(self.ctx.config.runtime_path, self.ctx.unit)
        for unit, text in sorted(units.items()):
            if text is None:
                degraded.append(f"{unit}: not answering")
                continue
            for name, ok in unitmetrics.dependencies(text):
                if not ok:
                    degraded.append(f"{unit}: {name}")
        serving = self.brain is not None and not any(d in degraded for d in SERVING_DEPENDENCIES)
        state = "down" if not serving else "degraded" if degraded else "ok"
        return report | {
            "state": state,
            "ready": state != "down",
            "degraded": degraded,
            "status": self.status(),
        }

    async def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.partition("?")[0]
        if path == KIOSK_PATH:
            return None  # go on with the WebSocket handshake
        if path.startswith(API_PREFIX):
            return await self.machine_api.handle(connection, request)
        if path in PROTECTED_PATHS and not self._http_allowed(request):
            return _respond(http.HTTPStatus.UNAUTHORIZED, "a kiosk token is needed\n")
        if path == "/kiosk.json":
            body = json.dumps(self.kiosk_info(), ensure_ascii=False, indent=1) + "\n"
            return _respond(http.HTTPStatus.OK, body, "application/json")
        if path == "/healthz":
            problems = self.ctx.liveness.problems_now()
            if problems:
                return _respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "; ".join(problems) + "\n")
            return _respond(http.HTTPStatus.OK, "ok\n")
        if path == "/readyz":
            ready = await self.readiness_report()
            code = http.HTTPStatus.SERVICE_UNAVAILABLE if ready["state"] == "down" else 200
            return _respond(
                http.HTTPStatus(code), json.dumps(ready, indent=1) + "\n", "application/json"
            )
        if path == "/metrics":
            # One scrape target per shop PC: the other units' metrics are merged in.
            units = await unitmetrics.gather(self.ctx.config.runtime_path, self.ctx.unit)
            merged = (
                unitmetrics.merge(self.ctx.registry, units, self.peer_name)
                if units or self.peer_name
                else None
            )
            return _respond(
                http.HTTPStatus.OK,
                merged or generate_latest(self.ctx.registry),
                CONTENT_TYPE_LATEST,
            )
        page = self.site.get(path)
        if page is not None:
            return _respond(http.HTTPStatus.OK, page.body, page.content_type)
        return _respond(http.HTTPStatus.NOT_FOUND, "not found\n")


def _request_token(request: Request) -> str:
    """A bearer token from the Authorization header, else ?token= (the kiosk page's fetch)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    query = urllib.parse.parse_qs(request.path.partition("?")[2])
    return (query.get("token") or [""])[0]


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
