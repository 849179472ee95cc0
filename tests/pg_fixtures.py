"""PostgreSQL for the tests: pg_virtualenv's throwaway cluster, one fresh database per test.

`bash .ci/test` runs pytest under pg_virtualenv, which exports PGHOST, PGPORT, PGUSER,
PGPASSWORD and PGDATABASE. Without them the tests that need PostgreSQL are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

NEEDS_PG = "needs PostgreSQL: run under pg_virtualenv (bash .ci/test), which sets PGHOST"

# Recorder settings that make faults show and heal within a test's patience.
FAST_RECORDER: dict[str, Any] = {
    "forward_interval": 0.1,
    "batch_size": 200,
    "connect_timeout": 2,
    "open_timeout": 3,
    "pool_timeout": 2,
    "reconnect_timeout": 3,
    "max_size": 2,
}


def have_pg() -> bool:
    return bool(os.environ.get("PGHOST"))


requires_pg = pytest.mark.skipif(not have_pg(), reason=NEEDS_PG)


def query(dsn: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run one statement on its own connection (autocommit) and return its rows."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def spool_pending(path: Path, shop: str = "shop") -> int:
    """Rows of the spool at ``path`` not forwarded yet (its own connection, any thread)."""
    from laundrybot.store.spool import SpoolDB

    db = SpoolDB(path, shop)
    try:
        return db.pending_count("turns") + db.pending_count("events")
    finally:
        db.close()


def wait_until(
    check: Callable[[], Any], timeout: float = 30, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error):  # down, or not migrated yet
            last = check()
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: {last!r}")


async def await_until(
    check: Callable[[], Any], timeout: float = 30, interval: float = 0.1, what: str = ""
) -> Any:
    """wait_until for async tests: the check runs in a thread, the loop keeps going."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await asyncio.to_thread(check)
        except psycopg.Error:  # down, or not migrated yet
            last = None
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: {last!r}")


@dataclass
class Cluster:
    """The pg_virtualenv cluster, to stop and start it as a fault."""

    version: str
    name: str

    def ctl(self, *args: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", self.version, self.name, *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop_immediate(self) -> None:
        self.ctl("stop", "-m", "immediate")

    def start(self) -> None:
        self.ctl("start")

    def online(self) -> bool:
        out = subprocess.run(
            ["pg_lsclusters", "-h", self.version, self.name], capture_output=True, text=True
        )
        return "online" in out.stdout


@pytest.fixture
def pg_cluster() -> Iterator[Cluster]:
    """The cluster to stop and start; started again after the test whatever happened."""
    if not have_pg():
        pytest.skip(NEEDS_PG)
    if not shutil.which("pg_lsclusters") or not shutil.which("pg_ctlcluster"):
        pytest.skip("needs Debian's postgresql-common (pg_lsclusters, pg_ctlcluster)")
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    port = os.environ.get("PGPORT", "5432")
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == port and fields[3] == "online":
            cluster = Cluster(fields[0], fields[1])
            break
    else:
        pytest.skip(f"no online cluster on port {port} in pg_lsclusters")
    yield cluster
    if not cluster.online():
        cluster.start()


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh, empty database for one test; the DSN names only it (the rest from PG*)."""
    if not have_pg():
        pytest.skip(NEEDS_PG)
    name = f"laundrybot_test_{uuid.uuid4().hex[:12]}"
    admin = os.environ.get("PGDATABASE", "postgres")
    query(f"dbname={admin}", f'CREATE DATABASE "{name}"')
    yield f"dbname={name}"
    # The cluster may have been stopped by a fault test that failed: bring it back first.
    with contextlib.suppress(Exception):
        wait_until(lambda: query(f"dbname={admin}", "SELECT 1"), timeout=15)
        query(f"dbname={admin}", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_config(write_config: Callable[..., Path], pg_dsn: str) -> Callable[..., Path]:
    """write_config with the test database and fast recorder settings; overrides on top."""

    def write(postgres: dict[str, Any] | None = None, **overrides: Any) -> Path:
        settings = FAST_RECORDER | {"dsn": pg_dsn} | (postgres or {})
        store = overrides.pop("store", {})
        return write_config({"store": {**store, "postgres": settings}, **overrides})

    return write


@dataclass
class RunningUnits:
    """A Runner with some services in this event loop (like `laundrybot serve A B`)."""

    runner: Any  # laundrybot.runner.Runner
    task: asyncio.Task[int]

    def service(self, name: str) -> Any:
        return next(s for s in self.runner.services if s.name == name)

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.service('gateway').address}/kiosk"

    @property
    def http(self) -> str:
        return f"http://{self.service('gateway').address}"

    async def stop(self) -> int:
        self.runner.request_stop()
        return await asyncio.wait_for(self.task, 30)


@pytest.fixture
async def start_units(monkeypatch: pytest.MonkeyPatch, notify_socket: Any) -> Any:
    """Start services in-process; each start waits for its READY=1 on the fake NOTIFY_SOCKET."""
    from laundrybot.config import load_config
    from laundrybot.runner import Runner

    for name in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_socket.path))
    running: list[RunningUnits] = []

    async def start(config_path: Path, names: list[str]) -> RunningUnits:
        runner = Runner(names, config_path, load_config(config_path))
        task = asyncio.create_task(runner.run())
        count = len(running) + 1
        deadline = time.monotonic() + 30
        while len([m for _, m in notify_socket.with_key("READY")]) < count:
            if task.done():
                raise AssertionError(f"{names} exited with {task.result()}")
            assert time.monotonic() < deadline, f"{names} did not get ready"
            await asyncio.sleep(0.02)
        units = RunningUnits(runner, task)
        running.append(units)
        return units

    yield start
    for units in running:
        if not units.task.done():
            units.runner.request_stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(units.task, 30)
