"""The delivery loop: from the spool's notifying events to a channel that accepted them.

About once a second, and at once when woken (the gateway's deliver-now request, a finished
attempt): find new notifying events in the spool and add a delivery row per channel
(store.scan), hand the rows that are due to attempt tasks (a few per channel at once), and
record each result in the spool: delivered, or the time of the next try (exponential backoff
from ``notify.retry_first`` to ``notify.retry_max``, or the peer's Retry-After).

A delivery is marked only after the channel accepted it, so a crash in between sends it again
(at least once); the notification id (the event's UUID) lets the receiver drop the repeat. A
graceful stop lets attempts in flight finish and be marked first, so a restart repeats nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from laundrybot.config import NotifyConfig
from laundrybot.notify import store
from laundrybot.notify.base import Channel, ChannelError
from laundrybot.notify.message import from_event
from laundrybot.notify.shop import ShopFacts
from laundrybot.service import ServiceContext
from laundrybot.store.worker import SpoolWorker

log = logging.getLogger(__name__)

# Seconds between looks at the spool when nothing wakes the loop sooner.
SCAN_INTERVAL = 1.0
# Attempts in flight per channel.
PER_CHANNEL = 4
# Seconds a stop waits for the loop's cycle in progress.
LOOP_GRACE = 5.0
# Seconds a stop waits for attempts in flight (they are marked, so a restart repeats nothing).
STOP_GRACE = 10.0
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600)


class DeliveryMetrics:
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


@dataclass
class ChannelState:
    ok: bool | None = None  # the last attempt's result; None before any
    error: str = ""
    waiting: int = 0
    oldest: float | None = None
    delivered: int = 0


class Delivery:
    """The channels, their state, and the loop that feeds them from the spool."""

    def __init__(
        self, ctx: ServiceContext, spool: SpoolWorker, shop: Callable[[], ShopFacts]
    ) -> None:
        self.ctx = ctx
        self.spool = spool
        self.shop = shop
        self.metrics = DeliveryMetrics(ctx.registry)
        self.channels: list[Channel] = []
        self.states: dict[str, ChannelState] = {}
        self.problem = ""  # a configuration problem: no channel works until it is fixed
        self.spool_problem = ""
        self.stopping = False
        self._added: dict[str, float] = {}
        self._inflight: dict[str, set[str]] = {}
        self._attempts: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_expire = 0.0

    @property
    def config(self) -> NotifyConfig:
        return self.ctx.config.notify

    # -- life cycle --------------------------------------------------------------------------

    def start(self, housekeeping: Callable[[], Awaitable[None]]) -> None:
        """Run the loop; ``housekeeping`` runs first in every cycle, its errors the loop's."""
        self._task = asyncio.create_task(self._run(housekeeping), name="notify")

    def replace_channels(self, channels: list[Channel]) -> None:
        """A reload's channels (the configuration problem, if any, is gone with the old)."""
        old, self.channels = self.channels, channels
        self.problem = ""
        self.reset_states()
        self.update_readiness()
        for channel in old:
            self._track(asyncio.get_running_loop().create_task(channel.close()))
        self.wake()

    def begin_stop(self) -> None:
        self.stopping = True
        self.wake()

    async def stop(self) -> None:
        self.begin_stop()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), LOOP_GRACE)
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

    def wake(self) -> None:
        self._wake.set()

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

    async def _run(self, housekeeping: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while not self.stopping:
            self._wake.clear()
            delay = SCAN_INTERVAL
            try:
                await housekeeping()
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
        config = self.config
        names = [c.name for c in self.channels]
        if set(names) != set(self._added):
            self._added = await self.spool.run(lambda db: store.register_channels(db, names, now))
        if not self.channels:
            return
        added = dict(self._added)
        made = await self.spool.run(lambda db: store.scan(db, added, config, now))
        for _, name, state in made:
            if state == store.COLLAPSED:
                self.metrics.collapsed.labels(name).inc()
        if time.monotonic() - self._last_expire >= 60:
            self._last_expire = time.monotonic()
            for event_id, name, error in await self.spool.run(
                lambda db: store.expire(db, config.give_up_hours, now)
            ):
                self.metrics.expired.labels(name).inc()
                log.error(
                    "notify: gave up %s on %s after %g h: %s",
                    event_id,
                    name,
                    config.give_up_hours,
                    error,
                )
        for channel in self.channels:
            busy = self._inflight.setdefault(channel.name, set())
            room = PER_CHANNEL - len(busy)
            if room <= 0:
                continue
            # A copy of busy: attempts that end meanwhile change the set the thread would read.
            due = partial(
                store.due, channel=channel.name, config=config, now=now, limit=room, busy=set(busy)
            )
            for row in await self.spool.run(due):
                busy.add(row.event["id"])
                self._track(asyncio.create_task(self._attempt(channel, row), name="notify-attempt"))
        await self._update_backlog()

    async def _attempt(self, channel: Channel, row: store.Due) -> None:
        config = self.config
        event_id = row.event["id"]
        shop = self.shop()
        notification = from_event(
            row.event | {"shop": row.event.get("shop") or self.ctx.config.shop_id},
            row.category,
            row.kind,
            shop.name,
            shop.machine_names,
            shop.tz,
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
                await self.spool.run(
                    lambda db: store.failed(db, channel.name, event_id, message, retry_at)
                )
        except Exception:
            log.exception("notify: %s: unexpected error", channel.name)
            state.ok, state.error = False, "internal error"
        else:
            now = time.time()
            carried = [i for i, _ in row.also]
            window = config.repeat_window
            await self.spool.run(
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
            self.update_readiness()
            self._signal_progress()
            self._wake.set()

    async def _update_backlog(self) -> None:
        names = [c.name for c in self.channels]
        counts = await self.spool.run(lambda db: store.backlog(db, names))
        now = time.time()
        for name, (waiting, oldest, error) in counts.items():
            state = self.states.setdefault(name, ChannelState())
            state.waiting, state.oldest = waiting, oldest
            if error and not state.error and state.ok is None:
                state.error = error  # from before a restart
            self.metrics.waiting.labels(name).set(waiting)
            self.metrics.oldest.labels(name).set(0 if oldest is None else max(0.0, now - oldest))

    # -- deliver now ------------------------------------------------------------------------

    async def outcome(self, event_id: str, wait: float) -> tuple[str, dict[str, str]]:
        """Deliver ``event_id`` now if it is new; wait at most ``wait`` s for its outcome."""
        if not self.channels:
            return "no-channels", {}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        self._wake.set()  # a scan now: the event was committed just before the request
        while True:
            progress = self._progress
            result, per = await self.spool.run(lambda db: store.outcome(db, event_id, time.time()))
            if result in ("accepted", "already", "ignored"):
                return result, per
            remaining = deadline - loop.time()
            if remaining <= 0 or self.stopping:
                return result, per
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(progress.wait(), remaining)

    def _signal_progress(self) -> None:
        # A fresh event per round: each waiter sees the progress made after it looked.
        self._progress.set()
        self._progress = asyncio.Event()

    # -- helpers -----------------------------------------------------------------------------

    def _track(self, task: asyncio.Task[None]) -> None:
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)

    def reset_states(self) -> None:
        names = {c.name for c in self.channels}
        self.states = {n: self.states.get(n, ChannelState()) for n in names}
        for name in names:
            self._inflight.setdefault(name, set())

    def update_readiness(self) -> None:
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
