"""`laundrybot serve notify`: staff notifications and alerts, from the spool to the owner.

The loop (about once a second, and at once when the gateway asks): find new notifying events
in the spool and add a delivery row per channel (store.scan), hand the rows that are due to
attempt tasks (a few per channel at once), and record each result in the spool: delivered, or
the time of the next try (exponential backoff from ``notify.retry_first`` to
``notify.retry_max``, or the peer's Retry-After). SQLite runs in one worker thread, never on
the event loop; e-mail runs in threads of its own; webhooks are asyncio.

A delivery is marked only after the channel accepted it, so a crash in between sends it again
(at least once); the notification id (the event's UUID) lets the receiver drop the repeat. A
graceful stop lets attempts in flight finish and be marked first, so a restart repeats nothing.

The gateway connects to ``notify.sock`` and writes one JSON line, ``{"deliver": EVENT_ID,
"wait": SECONDS}``; the answer is one line ``{"id", "result", "channels"}`` with result
``accepted`` (a channel took it), ``already`` (a message about the same problem went out within
``notify.repeat_window``), ``pending`` (not yet: still trying), ``ignored``/``unknown`` or
``no-channels``. It never takes longer than ``wait``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
import os
import random
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from laundrybot.config import Config
from laundrybot.errors import ConfigError
from laundrybot.notify import store
from laundrybot.notify.base import Channel, ChannelError
from laundrybot.notify.channels import build_channels
from laundrybot.notify.message import from_event
from laundrybot.service import Service, ServiceContext
from laundrybot.store.spool import Event, SpoolDB
from laundrybot.voiceserver import prepare_socket

log = logging.getLogger(__name__)
T = TypeVar("T")

# Seconds between looks at the spool when nothing wakes the loop sooner.
SCAN_INTERVAL = 1.0
# Attempts in flight per channel.
PER_CHANNEL = 4
# Seconds between the unit's own checks (disk, spool) and the daily summary's clock.
CHECK_INTERVAL = 30.0
# Seconds a stop waits for attempts in flight (they are marked, so a restart repeats nothing).
STOP_GRACE = 10.0
# The daily summary's event id is derived from the shop and the date: one per day, ever.
SUMMARY_NAMESPACE = uuid.UUID("5a0e4c55-2b47-4d0b-9a55-6c61756e6472")
EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.attempts = Counter(
            "laundrybot_notify_attempts",
            "Delivery attempts, by channel and result (ok, failed).",
            ["channel", "result"],
            registry=r,
        )
        self.delivered = Counter(
            "laundrybot_notify_delivered",
            "Notifications a channel accepted, by channel and type.",
            ["channel", "type"],
            registry=r,
        )
        self.collapsed = Counter(
            "laundrybot_notify_collapsed",
            "Repeats of one problem folded into another message (rate limiting), by channel.",
            ["channel"],
            registry=r,
        )
        self.expired = Counter(
            "laundrybot_notify_expired",
            "Notifications given up after notify.give_up_hours, by channel.",
            ["channel"],
            registry=r,
        )
        self.waiting = Gauge(
            "laundrybot_notify_waiting",
            "Notifications not yet accepted, by channel.",
            ["channel"],
            registry=r,
        )
        self.oldest = Gauge(
            "laundrybot_notify_oldest_waiting_seconds",
            "Age of the oldest notification not yet accepted (0 when none), by channel.",
            ["channel"],
            registry=r,
        )
        self.channel_up = Gauge(
            "laundrybot_notify_channel_up",
            "1 when the channel's last attempt succeeded, 0 when it failed.",
            ["channel"],
            registry=r,
        )
        self.delay = Histogram(
            "laundrybot_notify_delivery_seconds",
            "From the event to a channel accepting its notification.",
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.answers = Counter(
            "laundrybot_notify_answers",
            "The gateway's deliver-now requests, by result.",
            ["result"],
            registry=r,
        )


@dataclass
class ChannelState:
    ok: bool | None = None  # the last attempt's result; None before any
    error: str = ""
    waiting: int = 0
    oldest: float | None = None
    delivered: int = 0


class NotifyService(Service):
    name = "notify"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = NotifyMetrics(ctx.registry)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="notify-spool")
        self._spool: SpoolDB | None = None
        self._spool_path: Path = ctx.config.spool_path
        self._socket_path: Path = ctx.config.notify_socket_path
        self.channels: list[Channel] = []
        self.states: dict[str, ChannelState] = {}
        self.problem = ""  # a configuration problem: no channel works until it is fixed
        self.spool_problem = ""
        self._added: dict[str, float] = {}
        self._inflight: dict[str, set[str]] = {}
        self._attempts: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._server: asyncio.Server | None = None
        self._socket_inode: int | None = None
        self._stopping = False
        self._last_check = 0.0
        self._last_expire = 0.0
        self._active_alerts: set[str] = set()
        self._summary_date: datetime.date | None = None
        self.shop_name = ctx.config.shop_id
        self.machine_names: dict[int, str] = {}
        self.tz: datetime.tzinfo | None = None

    @property
    def config(self) -> Config:
        return self.ctx.config

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            self.channels = await asyncio.to_thread(build_channels, self.config)
        except ConfigError as exc:
            # Degrade, don't die: the rest of laundrybot runs; the owner sees why in
            # /readyz, STATUS= and the log, and a reload with a fixed file brings it back.
            self.problem = str(exc)
            log.error("notify: %s", exc)
        await self._load_knowledge(self.config)
        self._reset_states()
        try:
            await self._in_spool(lambda db: None)
        except (OSError, sqlite3.Error) as exc:
            self.spool_problem = f"cannot open {self._spool_path}: {exc}"
            log.error("notify: %s", self.spool_problem)
        await asyncio.to_thread(prepare_socket, self._socket_path)
        self._server = await asyncio.start_unix_server(self._client, str(self._socket_path))
        st = os.stat(self._socket_path)
        self._socket_inode = st.st_ino
        os.chmod(self._socket_path, 0o660)  # the gateway runs as the same user and group
        for channel in self.channels:
            log.info("notify: channel %s", channel.describe())
        if not self.channels and not self.problem:
            log.info("notify: no channels configured (notify.webhooks, notify.email.to)")
        self._update_readiness()
        self._task = asyncio.create_task(self._run(), name="notify")

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        channels = await asyncio.to_thread(build_channels, config)  # ConfigError refuses it
        if config.notify_socket_path != self.config.notify_socket_path:
            log.warning("notify.socket changed: it takes effect at the next restart")
        old = self.channels

        def commit() -> None:
            self.ctx.config = config
            self.channels = channels
            self.problem = ""
            self._reset_states()
            self._update_readiness()
            for channel in old:
                task = asyncio.get_running_loop().create_task(channel.close())
                self._attempts.add(task)
                task.add_done_callback(self._attempts.discard)
            self._wake.set()
            # The knowledge file (shop name, machines, time zone) may have changed too.
            task = asyncio.get_running_loop().create_task(self._load_knowledge(config))
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)

        return commit

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._server is not None:
            self._server.close()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._attempts:
            # Let attempts in flight finish and be marked: a restart then repeats nothing.
            await asyncio.wait(list(self._attempts), timeout=STOP_GRACE)
            for task in list(self._attempts):
                task.cancel()
            await asyncio.gather(*self._attempts, return_exceptions=True)
        for channel in self.channels:
            with contextlib.suppress(Exception):
                await channel.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        with contextlib.suppress(OSError):
            if os.stat(self._socket_path).st_ino == self._socket_inode:
                os.unlink(self._socket_path)
        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close_spool)
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    def status(self) -> str:
        if self.problem:
            return f"notify: not sending ({self.problem})"
        if not self.channels:
            return "notify: no channels configured"
        delivered = sum(s.delivered for s in self.states.values())
        waiting = max((s.waiting for s in self.states.values()), default=0)
        failing = [n for n, s in self.states.items() if s.ok is False]
        text = f"notify: {len(self.channels)} channels, {delivered} delivered, {waiting} waiting"
        if failing:
            text += f" ({', '.join(failing)} failing)"
        return text

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            delay = SCAN_INTERVAL
            try:
                await self._cycle()
                if self.spool_problem:
                    log.info("notify: the spool is readable again")
                self.spool_problem = ""
                failures = 0
            except asyncio.CancelledError:
                raise
            except (OSError, sqlite3.Error) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                if str(exc) not in self.spool_problem:
                    log.error("notify: spool: %s", exc)
                self.spool_problem = str(exc)
            except Exception:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.exception("notify: unexpected error")
            self._signal_progress()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _cycle(self) -> None:
        now = time.time()
        config = self.config.notify
        if time.monotonic() - self._last_check >= CHECK_INTERVAL:
            self._last_check = time.monotonic()
            await self._checks()
            await self._daily_summary()
        names = [c.name for c in self.channels]
        if set(names) != set(self._added):
            self._added = await self._in_spool(lambda db: store.register_channels(db, names, now))
        if not self.channels:
            return
        added = dict(self._added)
        made = await self._in_spool(lambda db: store.scan(db, added, config, now))
        for _, channel, state in made:
            if state == store.COLLAPSED:
                self.metrics.collapsed.labels(channel).inc()
        if time.monotonic() - self._last_expire >= 60:
            self._last_expire = time.monotonic()
            for event_id, channel, error in await self._in_spool(
                lambda db: store.expire(db, config.give_up_hours, now)
            ):
                self.metrics.expired.labels(channel).inc()
                log.error(
                    "notify: gave up %s on %s after %g h: %s",
                    event_id,
                    channel,
                    config.give_up_hours,
                    error,
                )
        for channel in self.channels:
            busy = self._inflight.setdefault(channel.name, set())
            room = PER_CHANNEL - len(busy)
            if room <= 0:
                continue
            rows = await self._in_spool(
                lambda db, c=channel.name, b=set(busy), n=room: store.due(db, c, config, now, n, b)
            )
            for row in rows:
                busy.add(row.event["id"])
                task = asyncio.create_task(self._attempt(channel, row), name="notify-attempt")
                self._attempts.add(task)
                task.add_done_callback(self._attempts.discard)
        await self._update_backlog()

    async def _attempt(self, channel: Channel, row: store.Due) -> None:
        config = self.config.notify
        event_id = row.event["id"]
        notification = from_event(
            row.event | {"shop": row.event.get("shop") or self.config.shop_id},
            row.category,
            row.kind,
            self.shop_name,
            self.machine_names,
            self.tz,
            row.also,
        )
        state = self.states.setdefault(channel.name, ChannelState())
        try:
            try:
                async with asyncio.timeout(config.attempt_timeout):
                    await channel.send(notification)
            except TimeoutError:
                raise ChannelError(f"no answer within {config.attempt_timeout:g} s") from None
            except ChannelError:
                raise
            except OSError as exc:
                raise ChannelError(str(exc)) from None
        except ChannelError as exc:
            delay = min(config.retry_max, config.retry_first * 2 ** min(row.attempts, 30))
            delay *= random.uniform(0.8, 1.2)
            if exc.retry_after is not None:
                delay = min(config.retry_max, max(delay, exc.retry_after))
            self.metrics.attempts.labels(channel.name, "failed").inc()
            self.metrics.channel_up.labels(channel.name).set(0)
            message = str(exc)
            if state.ok is not False or state.error != message:
                log.warning(
                    "notify: %s: %s; retrying in %.1f s (%s)",
                    channel.name,
                    message,
                    delay,
                    event_id,
                )
            state.ok, state.error = False, message
            retry_at = time.time() + delay
            with contextlib.suppress(Exception):
                await self._in_spool(
                    lambda db: store.failed(db, channel.name, event_id, message, retry_at)
                )
        except Exception:
            log.exception("notify: %s: unexpected error", channel.name)
            state.ok, state.error = False, "internal error"
        else:
            now = time.time()
            carried = [i for i, _ in row.also]
            window = config.repeat_window
            await self._in_spool(
                lambda db: store.delivered(db, channel.name, event_id, carried, now, window)
            )
            self.metrics.attempts.labels(channel.name, "ok").inc()
            self.metrics.delivered.labels(channel.name, row.category).inc()
            self.metrics.channel_up.labels(channel.name).set(1)
            self.metrics.delay.observe(max(0.0, now - row.event["ts"]))
            if state.ok is False:
                log.info("notify: %s works again", channel.name)
            state.ok, state.error = True, ""
            state.delivered += 1
            log.info(
                "notify: %s accepted %s %s (%s%s)",
                channel.name,
                row.category,
                row.kind,
                event_id,
                f", with {len(carried)} repeats" if carried else "",
            )
        finally:
            self._inflight.get(channel.name, set()).discard(event_id)
            self._update_readiness()
            self._signal_progress()
            self._wake.set()

    async def _update_backlog(self) -> None:
        names = [c.name for c in self.channels]
        counts = await self._in_spool(lambda db: store.backlog(db, names))
        now = time.time()
        for name, (waiting, oldest, error) in counts.items():
            state = self.states.setdefault(name, ChannelState())
            state.waiting, state.oldest = waiting, oldest
            if error and not state.error and state.ok is None:
                state.error = error  # from before a restart
            self.metrics.waiting.labels(name).set(waiting)
            self.metrics.oldest.labels(name).set(0 if oldest is None else max(0.0, now - oldest))

    # -- the gateway's deliver-now requests ---------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(2):
                line = await reader.readline()
            request = json.loads(line)
            event_id = str(request.get("deliver", ""))
            wait = float(request.get("wait", self.config.notify.answer_wait))
            if not EVENT_ID.fullmatch(event_id) or not 0 <= wait <= 60:
                raise ValueError("bad request")
            result, per = await self.outcome(event_id, wait)
            reply = {"id": event_id, "result": result, "channels": per}
        except (ValueError, TypeError, AttributeError, TimeoutError):
            reply = {"result": "error", "error": 'expected {"deliver": EVENT_ID, "wait": S}'}
        except (OSError, sqlite3.Error) as exc:
            reply = {"result": "error", "error": str(exc)}
        self.metrics.answers.labels(str(reply["result"])).inc()
        with contextlib.suppress(Exception):
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        writer.close()

    async def outcome(self, event_id: str, wait: float) -> tuple[str, dict[str, str]]:
        """Deliver ``event_id`` now if it is new; wait at most ``wait`` s for its outcome."""
        if not self.channels:
            return "no-channels", {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        self._wake.set()  # a scan now: the event was committed just before the request
        while True:
            progress = self._progress
            result, per = await self._in_spool(lambda db: store.outcome(db, event_id, time.time()))
            if result in ("accepted", "already", "ignored"):
                return result, per
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                return result, per
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), remaining)

    def _signal_progress(self) -> None:
        self._progress.set()
        self._progress = asyncio.Event()

    # -- the unit's own alerts and the daily summary ---------------------------------------------

    async def _checks(self) -> None:
        config = self.config
        found: dict[str, str] = {}
        if config.notify.disk_free_mb:
            folder = self._spool_path.parent
            with contextlib.suppress(OSError):
                usage = await asyncio.to_thread(shutil.disk_usage, folder)
                free_mb = usage.free / 2**20
                if free_mb < config.notify.disk_free_mb:
                    found["disk-low"] = (
                        f"only {free_mb:.0f} MB free on the disk of {folder} "
                        f"(alert below {config.notify.disk_free_mb} MB)"
                    )
        if config.notify.spool_stuck_minutes and config.store.postgres.dsn:
            with contextlib.suppress(OSError, sqlite3.Error):
                oldest = await self._in_spool(lambda db: db.oldest_pending_ts())
                limit = config.notify.spool_stuck_minutes * 60
                if oldest is not None and time.time() - oldest > limit:
                    minutes = (time.time() - oldest) / 60
                    found["spool-stuck"] = (
                        f"the oldest record has waited {minutes:.0f} minutes to reach "
                        "PostgreSQL; see `laundrybot status` and `journalctl -u "
                        "laundrybot-recorder`"
                    )
        for code, message in found.items():
            if code in self._active_alerts:
                continue  # said once per episode; Prometheus keeps watching
            self._active_alerts.add(code)
            log.error("notify: %s", message)
            detail = {"unit": self.name, "code": code, "message": message}
            event = Event(kind="alert", detail=detail)
            with contextlib.suppress(OSError, sqlite3.Error):
                await self._in_spool(lambda db, e=event: db.write([e]))
        for code in self._active_alerts - set(found):
            log.info("notify: %s is over", code)
        self._active_alerts &= set(found)

    async def _daily_summary(self) -> None:
        at = self.config.notify.daily_summary
        if not at:
            return
        hour, minute = (int(x) for x in at.split(":"))
        now = datetime.datetime.now(self.tz).astimezone(self.tz)
        target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if now < target or self._summary_date == now.date():
            return
        day = now.date()
        event_id = str(uuid.uuid5(SUMMARY_NAMESPACE, f"{self.config.shop_id}/{day.isoformat()}"))
        since = target.timestamp() - 86400

        def write(db: SpoolDB) -> bool:
            figures = store.summary_figures(db, since)
            detail = {"date": day.isoformat(), **figures, "message": summary_text(figures)}
            return store.ensure_event(db, Event(kind="daily-summary", detail=detail, id=event_id))

        with contextlib.suppress(OSError, sqlite3.Error):
            if await self._in_spool(write):
                log.info("notify: daily summary for %s written", day.isoformat())
            self._summary_date = day

    # -- helpers -------------------------------------------------------------------------------

    async def _load_knowledge(self, config: Config) -> None:
        from zoneinfo import ZoneInfo

        from laundrybot.dialog.knowledge import load_knowledge

        try:
            knowledge = await asyncio.to_thread(load_knowledge, config.knowledge_path)
            self.tz = ZoneInfo(knowledge.timezone)
        except Exception as exc:
            log.warning("notify: knowledge file unreadable (%s); using shop_id and local time", exc)
            self.shop_name = config.shop_id
            self.tz = datetime.datetime.now().astimezone().tzinfo
            return
        self.shop_name = knowledge.shop_name
        self.machine_names = {m.number: f"{m.kind} {m.number}" for m in knowledge.machines}

    def _reset_states(self) -> None:
        names = {c.name for c in self.channels}
        self.states = {n: self.states.get(n, ChannelState()) for n in names}
        for name in names:
            self._inflight.setdefault(name, set())

    def _update_readiness(self) -> None:
        if self.problem:
            self.ctx.readiness.set("notify", False, self.problem)
            return
        failing = [f"{n}: {s.error}" for n, s in sorted(self.states.items()) if s.ok is False]
        if failing:
            self.ctx.readiness.set("notify", False, "; ".join(failing))
        elif not self.channels:
            self.ctx.readiness.set("notify", True, "no channels configured")
        else:
            self.ctx.readiness.set("notify", True, ", ".join(c.name for c in self.channels))

    async def _in_spool(self, work: Callable[[SpoolDB], T]) -> T:
        def run() -> T:
            if self._spool is None:
                self._spool = SpoolDB(self._spool_path, self.config.shop_id)
            return work(self._spool)

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def summary_text(figures: dict[str, Any]) -> str:
    esc = figures.get("escalations", {})
    escalations = ", ".join(f"{v} {k.replace('-', ' ')}" for k, v in sorted(esc.items()))
    notes = figures.get("notifications", {})
    return (
        f"In the last 24 hours: {figures.get('turns', 0)} questions answered; "
        f"escalations: {escalations or 'none'}; unit failures: "
        f"{figures.get('unit_failures', 0)}; notifications: {notes.get('delivered', 0)} "
        f"delivered, {notes.get('collapsed', 0)} folded into others, "
        f"{notes.get('pending', 0)} waiting, {notes.get('expired', 0)} given up."
    )
