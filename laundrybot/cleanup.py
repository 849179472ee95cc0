"""`laundrybot cleanup`: the daily job of laundrybot-cleanup.timer.

A list of tasks, each removing one kind of old data and saying what it removed (or, with
``--dry-run``, what it would remove). For now: transcript retention in the spool and in
PostgreSQL (``store.retention_days``). Temporary files and caches join ``TASKS`` later.
A failing task is logged and makes the exit code 1; the others still run.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from laundrybot.config import Config
from laundrybot.store.spool import SpoolDB

log = logging.getLogger("laundrybot.cleanup")


@dataclass(frozen=True)
class Removed:
    """One line of the cleanup's account: ``count`` of ``what`` from ``where``."""

    where: str
    what: str
    count: int


@dataclass(frozen=True)
class Job:
    config: Config
    now: float
    dry_run: bool

    @property
    def retention_cutoff(self) -> float | None:
        """Epoch seconds before which transcripts go; None when kept forever."""
        days = self.config.store.retention_days
        return None if days == 0 else self.now - days * 86400


Task = Callable[[Job], list[Removed]]


def spool_retention(job: Job) -> list[Removed]:
    cutoff = job.retention_cutoff
    path = job.config.spool_path
    if cutoff is None or not path.exists():
        return []
    db = SpoolDB(path, job.config.shop_id)
    try:
        counts = db.delete_before(cutoff, dry_run=job.dry_run)
    finally:
        db.close()
    where = f"spool {path}"
    return [
        Removed(where, "transcripts (turns)", counts["turns"]),
        Removed(where, "customer questions quoted in events", counts["event_texts"]),
    ]


def postgres_retention(job: Job) -> list[Removed]:
    """This shop's rows only: in a chain each shop keeps its own retention."""
    import psycopg

    from laundrybot.store import postgres

    cutoff = job.retention_cutoff
    target = postgres.target_from_config(job.config)
    if cutoff is None or target is None:
        return []
    params = {"cutoff": cutoff, "shop": target.shop}
    old = "ts < to_timestamp(%(cutoff)s) AND shop = %(shop)s"
    quoted = f"{old} AND detail ? 'question'"
    if job.dry_run:
        turns_sql = f"SELECT count(*) FROM turns WHERE {old}"
        events_sql = f"SELECT count(*) FROM events WHERE {quoted}"
    else:
        turns_sql = (
            f"WITH gone AS (DELETE FROM turns WHERE {old} RETURNING 1) SELECT count(*) FROM gone"
        )
        events_sql = (
            f"WITH gone AS (UPDATE events SET detail = detail - 'question' WHERE {quoted}"
            " RETURNING 1) SELECT count(*) FROM gone"
        )

    async def run() -> tuple[int, int]:
        async with postgres.connect(target) as conn, conn.transaction():
            turns = await (await conn.execute(turns_sql, params)).fetchone()
            events = await (await conn.execute(events_sql, params)).fetchone()
        return (turns[0] if turns else 0), (events[0] if events else 0)

    try:
        turns, events = asyncio.run(run())
    except psycopg.Error as exc:
        raise postgres.DatabaseError(f"{target.shown}: {target.scrub(exc)}") from None
    where = f"PostgreSQL {target.shown}"
    return [
        Removed(where, "transcripts (turns)", turns),
        Removed(where, "customer questions quoted in events", events),
    ]


# The packaging issue adds temporary files, caches and old debug audio here.
TASKS: list[tuple[str, Task]] = [
    ("spool retention", spool_retention),
    ("PostgreSQL retention", postgres_retention),
]


def run_cleanup(config: Config, dry_run: bool = False, now: float | None = None) -> int:
    """Run every task; 0 when all succeeded, 1 when one failed (the timer tries again)."""
    job = Job(config, time.time() if now is None else now, dry_run)
    verb = "would remove" if dry_run else "removed"
    cutoff = job.retention_cutoff
    if cutoff is None:
        log.info("transcripts are kept forever (store.retention_days is 0)")
    else:
        when = datetime.datetime.fromtimestamp(cutoff).strftime("%Y-%m-%d %H:%M")
        log.info("transcripts older than %d days (before %s) go", config.store.retention_days, when)
    failed = 0
    for name, task in TASKS:
        try:
            removed = task(job)
        except Exception as exc:
            failed += 1
            log.error("%s failed: %s", name, exc)
            continue
        for item in removed:
            log.info("%s: %s %d %s", item.where, verb, item.count, item.what)
    return 1 if failed else 0


def cleanup_command(config: Config, dry_run: bool) -> int:
    """`laundrybot cleanup`: log to stderr (journald under the timer) and run the tasks."""
    if not logging.getLogger().handlers:
        from laundrybot.runner import setup_logging

        setup_logging(config.log_level)
    return run_cleanup(config, dry_run)
