"""`laundrybot serve recorder`: forwards the spool to PostgreSQL, losing and doubling nothing.

The loop: read a batch of unforwarded rows from the spool (in a worker thread: SQLite never
runs on the event loop), insert them into PostgreSQL in one transaction with
``ON CONFLICT (id) DO NOTHING``, commit, and only then mark them forwarded in the spool. A
crash between the commit and the mark replays the batch, which inserts nothing twice.

The database going away is a degraded state, never a reason to stop: turns stay in the spool,
``/readyz``, STATUS= and the metrics say why, and the recorder keeps trying with backoff.
Without a configured database the recorder idles: the spool is the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool

from laundrybot.config import Config
from laundrybot.errors import ConfigError
from laundrybot.service import Service, ServiceContext
from laundrybot.store import postgres
from laundrybot.store.postgres import Target
from laundrybot.store.spool import REFUSED, Event, SpoolDB
from laundrybot.store.worker import SpoolWorker

log = logging.getLogger(__name__)

NO_DATABASE = "no database configured: the spool is the store"
# Seconds between database checks while there is nothing to forward.
HEALTH_INTERVAL = 5.0
# Longest pause between attempts while the database is down.
MAX_BACKOFF = 10.0
# Seconds between counts of the rows still waiting (a count walks an index).
COUNT_INTERVAL = 2.0
# Seconds a stop waits for the batch in progress before cancelling it (it is replayed later).
STOP_GRACE = 5.0


# psycopg_pool get_stats() keys -> our metric names (laundrybot_recorder_...).
POOL_GAUGES: dict[str, tuple[str, str]] = {
    "pool_min": ("pool_min_size", "Connections the pool keeps at least."),
    "pool_max": ("pool_max_size", "Connections the pool may open at most."),
    "pool_size": ("pool_size", "Connections open or being opened."),
    "pool_available": ("pool_available", "Idle connections ready for use."),
    "requests_waiting": ("pool_requests_waiting", "Requests waiting for a connection."),
}
POOL_COUNTERS: dict[str, tuple[str, str, int]] = {
    "requests_num": ("pool_requests", "Connections requested from the pool.", 1),
    "requests_queued": ("pool_requests_queued", "Requests that had to wait.", 1),
    "requests_wait_ms": ("pool_requests_wait_seconds", "Time spent waiting.", 1000),
    "requests_errors": ("pool_requests_errors", "Requests that timed out or failed.", 1),
    "usage_ms": ("pool_usage_seconds", "Time connections were lent out.", 1000),
    "returns_bad": ("pool_returns_bad", "Connections returned in a bad state.", 1),
    "connections_num": ("pool_connections", "Connection attempts.", 1),
    "connections_ms": ("pool_connections_seconds", "Time spent connecting.", 1000),
    "connections_errors": ("pool_connections_errors", "Failed connection attempts.", 1),
    "connections_lost": ("pool_connections_lost", "Broken connections found.", 1),
}


class PoolCollector(Collector):
    """psycopg_pool's get_stats() at scrape time; counters survive pool rebuilds."""

    def __init__(self, recorder: RecorderService) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        stats = self.recorder.pool_stats()
        for key, (name, doc) in POOL_GAUGES.items():
            gauge = GaugeMetricFamily(f"laundrybot_recorder_{name}", doc)
            gauge.add_metric([], stats.get(key, 0))
            yield gauge
        for key, (name, doc, scale) in POOL_COUNTERS.items():
            counter = CounterMetricFamily(f"laundrybot_recorder_{name}", doc)
            counter.add_metric([], stats.get(key, 0) / scale)
            yield counter


class RecorderMetrics:
    def __init__(self, registry: CollectorRegistry, recorder: RecorderService) -> None:
        r = registry
        self.forwarded = Counter(
            "laundrybot_recorder_rows_forwarded",
            "Spool rows forwarded to PostgreSQL, by table.",
            ["table"],
            registry=r,
        )
        self.duplicates = Counter(
            "laundrybot_recorder_rows_replayed",
            "Rows sent again that PostgreSQL already had (a replay after a crash).",
            registry=r,
        )
        self.refused = Counter(
            "laundrybot_recorder_rows_refused",
            "Rows PostgreSQL refused; they stay in the spool and are logged.",
            registry=r,
        )
        self.batches = Counter(
            "laundrybot_recorder_batches", "Forwarding attempts, by result.", ["result"], registry=r
        )
        self.batch_seconds = Histogram(
            "laundrybot_recorder_batch_seconds",
            "Time to forward one batch, spool read to spool mark.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.pending = Gauge(
            "laundrybot_recorder_pending_rows",
            "Spool rows the recorder has still to forward, by table.",
            ["table"],
            registry=r,
        )
        self.oldest_age = Gauge(
            "laundrybot_spool_oldest_pending_age_seconds",
            "Age of the oldest spool row not yet forwarded (0 when none waits).",
            registry=r,
        )
        self.database_up = Gauge(
            "laundrybot_database_up",
            "1 when PostgreSQL takes rows, 0 when it does not, -1 when none is configured.",
            registry=r,
        )
        self.reconnect_failures = Counter(
            "laundrybot_recorder_reconnect_failures",
            "Times the pool gave up reconnecting after reconnect_timeout (it goes on trying).",
            registry=r,
        )
        self.pool = PoolCollector(recorder)
        r.register(self.pool)


class RecorderService(Service):
    name = "recorder"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self._spool_path: Path = ctx.config.spool_path
        self.spool = SpoolWorker(self._spool_path, ctx.config.shop_id, "recorder")
        self.target: Target | None = None
        self._target_problem = ""  # why there is no usable target (password file, ...)
        self.pool: AsyncConnectionPool | None = None
        self._pool_target: Target | None = None
        self._migrated = False
        self._retired_stats: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._background: set[asyncio.Task[None]] = set()
        self.forwarded = 0
        self.waiting: dict[str, int] = {"turns": 0, "events": 0}
        self.oldest: float | None = None
        self.database_ok: bool | None = None
        self.problem = ""
        self.spool_problem = ""
        self._last_count = 0.0
        self._last_health = 0.0
        self._failures = 0
        self.metrics = RecorderMetrics(ctx.registry, self)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self.ctx.liveness.watch(self.spool.watch)
        try:
            await self.spool.run(lambda db: None)
        except (OSError, sqlite3.Error) as exc:
            # The gateway reports the spool; the loop below retries opening it.
            self.spool_problem = f"cannot open {self._spool_path}: {exc}"
            log.error("recorder: %s", self.spool_problem)
        else:
            await self._record_event("restart", {"unit": self.name, "pid": os.getpid()})
        first_delay = 0.0
        try:
            self.target = await asyncio.to_thread(postgres.target_from_config, self.ctx.config)
        except ConfigError as exc:
            # Degrade, don't die: the spool keeps everything; the loop (or a reload) retries.
            self._target_problem = str(exc)
            first_delay = await self._failed(exc)
        if self.target is None and not self._target_problem:
            self.metrics.database_up.set(-1)
            log.info("recorder: %s", NO_DATABASE)
            return
        if self.target is not None:
            try:
                await self._open_pool(self.target)
                await self._migrate()
            except Exception as exc:
                first_delay = await self._failed(exc)
        self._task = asyncio.create_task(self._run(first_delay), name="recorder")

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        target = await asyncio.to_thread(postgres.target_from_config, config)
        if config.spool_path != self._spool_path:
            log.warning("store.spool changed: the recorder reads the new file after a restart")

        def commit() -> None:
            self.ctx.config = config
            self.target = target
            self._target_problem = ""
            self._failures = 0
            if target is None:
                if self.database_ok is not None:
                    log.info("recorder: database removed from the configuration")
                    self._set_database(True, "not configured")
                self.metrics.database_up.set(-1)
            elif self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run(0.0), name="recorder")
            self._wake.set()  # the loop switches to the new target at once

        return commit

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE)
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._background:
            await asyncio.wait(list(self._background), timeout=2)
        await self._close_pool()
        await self.spool.close()
        self.ctx.liveness.unwatch(self.spool.watch)

    def status(self) -> str:
        if self.target is None and not self._target_problem:
            return NO_DATABASE
        waiting = sum(self.waiting.values())
        text = f"{self.forwarded} rows forwarded, {waiting} waiting in the spool"
        if waiting and self.oldest is not None:
            text += f" (oldest {_age(time.time() - self.oldest)})"
        if self.spool_problem:
            text += f"; spool: {self.spool_problem}"
        return text

    def pool_stats(self) -> dict[str, int]:
        """Pool counters since this process started (across rebuilds) and current gauges."""
        stats = dict(self._retired_stats)
        if self.pool is not None:
            for key, value in self.pool.get_stats().items():
                if key in POOL_COUNTERS:
                    stats[key] = stats.get(key, 0) + value
                elif key in POOL_GAUGES:
                    stats[key] = value
        return stats

    # -- the forwarding loop ---------------------------------------------------------------

    async def _run(self, delay: float) -> None:
        while not self._stopping:
            if delay:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                if self._stopping:
                    break
            pg = self.ctx.config.store.postgres
            delay = pg.forward_interval
            try:
                if self.target is None:
                    if not self._target_problem:
                        await self._close_pool()
                        return  # the database was removed: the spool is the store
                    # A password file that could not be read: look again.
                    self.target = await asyncio.to_thread(
                        postgres.target_from_config, self.ctx.config
                    )
                    self._target_problem = ""
                    continue
                if self._pool_target != self.target:
                    await self._open_pool(self.target)
                if not self._migrated:
                    await self._migrate()
                moved = await self._forward_batch()
                self._failures = 0
                self.spool_problem = ""
                if moved >= pg.batch_size:
                    delay = 0  # more is waiting: go on at once
                elif moved == 0:
                    await self._health_check()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = await self._failed(exc)
            await self._update_counts()

    async def _forward_batch(self) -> int:
        """Forward one batch; return how many rows it held."""
        assert self.pool is not None
        limit = self.ctx.config.store.postgres.batch_size
        started = time.monotonic()
        turns, events = await self.spool.run(
            lambda db: (db.pending("turns", limit), db.pending("events", limit))
        )
        if not turns and not events:
            return 0
        try:
            async with self.pool.connection() as conn:
                result = await postgres.forward(conn, turns, events)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            await self._isolate_refused(turns, events, exc)
            return len(turns) + len(events)
        # Committed: now, and only now, the spool may forget about them.
        now = time.time()

        def mark(db: SpoolDB) -> None:
            db.mark_forwarded("turns", [r["id"] for r in turns], now)
            db.mark_forwarded("events", [r["id"] for r in events], now)

        await self.spool.run(mark)
        self.metrics.forwarded.labels("turns").inc(len(turns))
        self.metrics.forwarded.labels("events").inc(len(events))
        self.metrics.duplicates.inc(result.duplicates)
        self.metrics.batches.labels("ok").inc()
        self.metrics.batch_seconds.observe(time.monotonic() - started)
        self.forwarded += len(turns) + len(events)
        self._last_health = time.monotonic()
        self._set_database(True, "")
        return len(turns) + len(events)

    async def _isolate_refused(
        self, turns: list[dict[str, Any]], events: list[dict[str, Any]], error: Exception
    ) -> None:
        """A row PostgreSQL refuses would block every later batch: send the rows one by one,
        keep the refused ones in the spool (marked, logged, counted) and go on."""
        assert self.pool is not None and self.target is not None
        log.warning("recorder: a batch was refused (%s); sending it row by row", error)
        for table, rows in (("turns", turns), ("events", events)):
            for row in rows:
                single = ([row], []) if table == "turns" else ([], [row])
                try:
                    async with self.pool.connection() as conn:
                        await postgres.forward(conn, *single)
                    mark = time.time()
                    self.metrics.forwarded.labels(table).inc()
                    self.forwarded += 1
                except (psycopg.DataError, psycopg.IntegrityError) as exc:
                    log.error(
                        "recorder: PostgreSQL refused %s row %s, kept in the spool: %s",
                        table,
                        row["id"],
                        self.target.scrub(exc),
                    )
                    self.metrics.refused.inc()
                    mark = REFUSED
                await self.spool.run(partial(_mark_one, table, row["id"], mark))

    async def _health_check(self) -> None:
        """Nothing to forward: look at the database now and then so /readyz stays true."""
        interval = max(HEALTH_INTERVAL, self.ctx.config.store.postgres.forward_interval)
        if self.database_ok and time.monotonic() - self._last_health < interval:
            return
        assert self.pool is not None
        async with self.pool.connection() as conn:
            await conn.execute("SELECT 1")
        self._last_health = time.monotonic()
        self._set_database(True, "")

    async def _failed(self, exc: Exception) -> float:
        """Say why rows are not moving; return the pause before the next try."""
        target = self.target
        self._failures += 1
        self.metrics.batches.labels("failed").inc()
        base = max(self.ctx.config.store.postgres.forward_interval, 0.5)
        delay = min(MAX_BACKOFF, base * 2.0 ** min(self._failures - 1, 10))
        delay *= random.uniform(0.8, 1.2)
        if isinstance(exc, (sqlite3.Error, OSError)):
            # The spool's trouble, not the database's: the gateway reports the spool.
            self.spool_problem = str(exc)
            log.error("recorder: spool: %s", exc)
            return delay
        if isinstance(exc, ConfigError):
            self._target_problem = str(exc)
            self._set_database(False, str(exc))
            return delay
        if target is None:
            self._set_database(False, str(exc))
            return delay
        if isinstance(exc, psycopg.OperationalError):
            # The pool says little ("couldn't get a connection"): a direct attempt names the
            # cause. When that one gets through, a connection was lost (a restart, a killed
            # backend) and the pool is replacing it: retry soon without crying wolf.
            reason = await postgres.probe(target)
            if not reason and self._failures <= 3:
                log.warning("recorder: %s: %s; retrying", target.shown, target.scrub(exc))
                return 0.1 * self._failures
            reason = reason or f"the pool gets no connection ({target.scrub(exc)})"
        elif isinstance(exc, psycopg.errors.UndefinedTable):
            reason = f"the schema is missing ({target.scrub(exc)}); migrating again"
            self._migrated = False
        elif isinstance(exc, psycopg.Error):
            reason = target.scrub(exc)
        else:
            log.exception("recorder: unexpected error")
            reason = f"internal error: {exc}"
        self._set_database(False, f"{target.shown}: {reason}")
        return delay

    async def _migrate(self) -> None:
        assert self.pool is not None
        async with self.pool.connection() as conn:
            applied = await postgres.migrate(conn)
        for migration in applied:
            log.info(
                "recorder: applied database migration %03d %s", migration.version, migration.name
            )
        self._migrated = True

    # -- the pool ----------------------------------------------------------------------------

    async def _open_pool(self, target: Target) -> None:
        """A fresh pool for ``target``; raises PoolTimeout if it cannot connect in time."""
        await self._close_pool()
        pool = postgres.build_pool(target, self._reconnect_failed)
        self.pool, self._pool_target, self._migrated = pool, target, False
        log.info("recorder: connecting to %s", target.shown)
        try:
            await pool.open(wait=True, timeout=target.pg.open_timeout)
        except BaseException:
            # psycopg_pool closes a pool that could not fill in time: the next try builds one.
            await self._close_pool()
            raise
        log.info("recorder: connected to %s", target.shown)

    async def _close_pool(self) -> None:
        pool, self.pool, self._pool_target = self.pool, None, None
        if pool is None:
            return
        for key, value in pool.get_stats().items():
            if key in POOL_COUNTERS:
                self._retired_stats[key] = self._retired_stats.get(key, 0) + value
        with contextlib.suppress(Exception):
            await pool.close(timeout=2)

    def _reconnect_failed(self, pool: AsyncConnectionPool) -> None:
        """psycopg_pool gave up one reconnection series; say so loudly, then keep trying."""
        if pool is not self.pool or self._stopping:
            return
        self.metrics.reconnect_failures.inc()
        target = self._pool_target
        shown = target.shown if target else "the database"
        timeout = target.pg.reconnect_timeout if target else 0
        reason = f"{shown}: cannot reconnect for {timeout:g} s, still trying"
        log.error("recorder: %s", reason)
        self._set_database(False, reason)
        self._record_soon(
            "error", {"unit": self.name, "code": "database-unreachable", "message": reason}
        )

    def _set_database(self, ok: bool, problem: str) -> None:
        changed = ok != self.database_ok or problem != self.problem
        was_ok = self.database_ok
        self.database_ok, self.problem = ok, problem
        self.metrics.database_up.set(1 if ok else 0)
        if not changed:
            return
        if ok:
            log.info("recorder: database up: %s", self.target.shown if self.target else "")
        else:
            log.error("recorder: database down: %s", problem)
        self.ctx.readiness.set("database", ok, problem)
        if not ok and was_ok is not False:
            self._record_soon(
                "error", {"unit": self.name, "code": "database-down", "message": problem}
            )

    # -- our own events, through the spool ------------------------------------------------------

    def _record_soon(self, kind: str, detail: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._record_event(kind, detail))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _record_event(self, kind: str, detail: dict[str, Any]) -> None:
        """Write an event of ours into the spool; it is forwarded like the gateway's."""
        event = Event(kind=kind, detail=detail)
        try:
            await self.spool.run(lambda db: db.write([event]))
        except Exception as exc:
            log.error("recorder: could not write a %s event to the spool: %s", kind, exc)

    async def _update_counts(self) -> None:
        if time.monotonic() - self._last_count < COUNT_INTERVAL:
            return
        self._last_count = time.monotonic()
        try:
            turns, events, oldest = await self.spool.run(
                lambda db: (
                    db.pending_count("turns"),
                    db.pending_count("events"),
                    db.oldest_pending_ts(),
                )
            )
        except Exception as exc:
            log.warning("recorder: cannot count the spool: %s", exc)
            return
        self.waiting = {"turns": turns, "events": events}
        self.oldest = oldest
        self.metrics.pending.labels("turns").set(turns)
        self.metrics.pending.labels("events").set(events)
        self.metrics.oldest_age.set(0 if oldest is None else max(0.0, time.time() - oldest))


def _mark_one(table: str, row_id: str, mark: float, db: SpoolDB) -> None:
    db.mark_forwarded(table, [row_id], mark)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
