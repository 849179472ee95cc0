"""The notify unit's own alerts: a disk running full, a spool PostgreSQL no longer drains.

Each alert is an ``alert`` event in the spool, delivered like any other; it is said once per
episode (until the condition is over), while Prometheus keeps watching the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sqlite3
import time
from functools import partial
from pathlib import Path

from laundrybot.service import ServiceContext
from laundrybot.store.spool import Event, SpoolDB
from laundrybot.store.worker import SpoolWorker

log = logging.getLogger(__name__)


class UnitAlerts:
    def __init__(self, ctx: ServiceContext, spool: SpoolWorker, unit: str, folder: Path) -> None:
        self.ctx = ctx
        self.spool = spool
        self.unit = unit
        self.folder = folder  # the spool's: where a full disk stops the records
        self._active: set[str] = set()

    async def check(self) -> None:
        found = await self._found()
        for code, message in found.items():
            if code in self._active:
                continue  # said once per episode; Prometheus keeps watching
            self._active.add(code)
            log.error("notify: %s", message)
            event = Event(
                kind="alert", detail={"unit": self.unit, "code": code, "message": message}
            )
            with contextlib.suppress(OSError, sqlite3.Error):
                await self.spool.run(partial(_write, event))
        for code in self._active - set(found):
            log.info("notify: %s is over", code)
        self._active &= set(found)

    async def _found(self) -> dict[str, str]:
        """The alerts that hold now: code -> message."""
        config = self.ctx.config
        found: dict[str, str] = {}
        if config.notify.disk_free_mb:
            with contextlib.suppress(OSError):
                usage = await asyncio.to_thread(shutil.disk_usage, self.folder)
                free_mb = usage.free / 2**20
                if free_mb < config.notify.disk_free_mb:
                    found["disk-low"] = (
                        f"only {free_mb:.0f} MB free on the disk of {self.folder} "
                        f"(alert below {config.notify.disk_free_mb} MB)"
                    )
        if config.notify.spool_stuck_minutes and config.store.postgres.dsn:
            with contextlib.suppress(OSError, sqlite3.Error):
                oldest = await self.spool.run(lambda db: db.oldest_pending_ts())
                limit = config.notify.spool_stuck_minutes * 60
                if oldest is not None and time.time() - oldest > limit:
                    minutes = (time.time() - oldest) / 60
                    found["spool-stuck"] = (
                        f"the oldest record has waited {minutes:.0f} minutes to reach "
                        "PostgreSQL; see `laundrybot status` and `journalctl -u "
                        "laundrybot-recorder`"
                    )
        return found


def _write(event: Event, db: SpoolDB) -> None:
    db.write([event])
