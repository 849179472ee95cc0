"""One thread that owns a unit's SpoolDB: the recorder's and the notify unit's way in.

SQLite connections belong to the thread that made them, and SQLite must never run on the
event loop: every job runs in one dedicated thread, which opens the database on its first job
(a missing or unreadable file is then that job's error, retried by the caller's loop). The
thread's pulse is ``watch``; a unit hands it to ``ctx.liveness`` so that a dead thread, or one
stuck on a job, withholds the watchdog and systemd restarts the unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from laundrybot.health import WorkerWatch
from laundrybot.store.spool import WRITER_STALL_LIMIT, SpoolDB

T = TypeVar("T")


class SpoolWorker:
    """``await worker.run(fn)``: ``fn(db)`` in the worker's own thread, and its result."""

    def __init__(
        self,
        path: Path,
        shop: str,
        name: str = "spool",
        stall_limit: float = WRITER_STALL_LIMIT,
    ) -> None:
        self.path = path
        self.shop = shop
        self.watch = WorkerWatch(f"{name} spool", stall_limit)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{name}-spool")
        self._db: SpoolDB | None = None

    async def run(self, fn: Callable[[SpoolDB], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._job, fn)

    def _job(self, fn: Callable[[SpoolDB], T]) -> T:
        # The executor starts its thread on the first job: the watch learns of it here.
        self.watch.attach(threading.current_thread())
        self.watch.busy()
        try:
            if self._db is None:
                self._db = SpoolDB(self.path, self.shop)
            return fn(self._db)
        finally:
            self.watch.idle()

    def _close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    async def close(self) -> None:
        """Close the database in its thread and end the thread (after the jobs queued)."""
        with contextlib.suppress(Exception):
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close_db)
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        self.watch.detach()  # ended on purpose: not a death
