"""store.worker.SpoolWorker: one thread per unit for the spool, watched by the watchdog."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from laundrybot.config import HealthConfig
from laundrybot.health import Liveness, LoopLagMonitor
from laundrybot.store.spool import Event, SpoolDB
from laundrybot.store.worker import SpoolWorker


async def test_jobs_run_in_one_thread_of_their_own_on_a_lazily_opened_spool(tmp_path: Path):
    path = tmp_path / "spool.sqlite"
    worker = SpoolWorker(path, "shop", "test")
    assert not path.exists()  # nothing opens before the first job
    threads = [await worker.run(lambda db: threading.get_ident()) for _ in range(3)]
    assert path.exists()
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
    event = Event(kind="alert", detail={"code": "x"})
    await worker.run(lambda db: db.write([event]))
    assert await worker.run(lambda db: db.pending_count("events")) == 1
    with pytest.raises(ZeroDivisionError):
        await worker.run(lambda db: 1 / 0)
    assert await worker.run(lambda db: "still serving") == "still serving"
    await worker.close()
    assert worker.watch.problem() is None
    db = SpoolDB(path, "shop")  # closed cleanly: the row is there for the next reader
    try:
        assert db.pending_count("events") == 1
    finally:
        db.close()


async def test_a_job_stuck_past_the_limit_withholds_the_watchdog(tmp_path: Path):
    worker = SpoolWorker(tmp_path / "spool.sqlite", "shop", "test", stall_limit=0.1)
    liveness = Liveness(HealthConfig(), LoopLagMonitor())
    liveness.watch(worker.watch)
    await worker.run(lambda db: None)
    assert liveness.problems_now() == []
    release = threading.Event()
    stuck = asyncio.ensure_future(worker.run(lambda db: release.wait(10)))
    await asyncio.sleep(0.3)
    problems = liveness.problems_now()
    assert len(problems) == 1 and problems[0].startswith("test spool thread stuck on one job")
    release.set()
    await stuck
    assert liveness.problems_now() == []
    await worker.close()


@pytest.mark.parametrize("unit", ["notify", "recorder"])
async def test_the_units_hand_their_spool_thread_to_the_watchdog(
    unit: str, write_config: Any, start_units: Any, tmp_path: Path
):
    # The unit's socket in tmp_path (tests never share one); notify.sock is the fake systemd's.
    overrides = {"notify": {"socket": str(tmp_path / "notify-unit.sock")}}
    units = await start_units(write_config(overrides), [unit])
    service = units.service(unit)
    liveness = units.runner.ctx.liveness
    assert liveness.problems_now() == []
    service.spool.watch.stall_limit = 0.1
    release = threading.Event()
    stuck = asyncio.ensure_future(service.spool.run(lambda db: release.wait(10)))
    deadline = time.monotonic() + 5
    while not any(f"{unit} spool thread stuck" in p for p in liveness.problems_now()):
        assert time.monotonic() < deadline, liveness.problems_now()
        await asyncio.sleep(0.05)
    release.set()
    await stuck
    assert liveness.problems_now() == []
    assert await units.stop() == 0
    assert service.spool.watch not in liveness._workers  # unwatched on a graceful stop
