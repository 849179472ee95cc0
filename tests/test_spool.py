"""The spool: durable before the reply, degraded but answering when the disk fails."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from laundrybot.machines.state import MachineState, MachineStatus
from laundrybot.store.spool import MIGRATIONS, Event, Spool, SpoolDB, SpoolUnavailable, Turn

from .conftest import kiosk
from .test_gateway import http_get


def turn(n: int = 0) -> Turn:
    return Turn(
        session="s" * 32,
        kiosk="k",
        question=f"q{n}",
        answer="a",
        intent="hours",
        source="knowledge",
        latency_ms=0.1,
    )


def test_schema_is_created_and_versioned(tmp_path):
    db = SpoolDB(tmp_path / "spool.sqlite", "shop-1")
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    # Opening again migrates nothing and keeps rows.
    db = SpoolDB(tmp_path / "spool.sqlite", "shop-1")
    db.write([turn()])
    db.close()
    db = SpoolDB(tmp_path / "spool.sqlite", "shop-1")
    assert db.count_turns() == 1
    db.close()


def test_a_newer_schema_is_refused(tmp_path):
    db = SpoolDB(tmp_path / "spool.sqlite", "s")
    db.conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(Exception, match="newer than this laundrybot"):
        SpoolDB(tmp_path / "spool.sqlite", "s")


def test_rows_are_idempotent_by_id(tmp_path):
    db = SpoolDB(tmp_path / "spool.sqlite", "s")
    t = turn()
    e = Event(kind="escalation", machine=3, detail={"reason": "call-staff"})
    db.write([t, e, t, e])
    db.write([t])
    assert db.counts() == {
        "turns_total": 1,
        "turns_pending": 1,
        "events_total": 1,
        "events_pending": 1,
    }
    kind, machine, detail, shop = db.conn.execute(
        "SELECT kind, machine, detail, shop FROM events"
    ).fetchone()
    assert (kind, machine, json.loads(detail), shop) == (
        "escalation",
        3,
        {"reason": "call-staff"},
        "s",
    )
    db.close()


def test_machines_upsert(tmp_path):
    db = SpoolDB(tmp_path / "spool.sqlite", "s")
    db.write([MachineStatus(4, MachineState.BUSY, 100.0, 1.0)])
    db.write([MachineStatus(4, MachineState.FREE, None, 2.0)])
    assert db.machines() == {4: MachineStatus(4, MachineState.FREE, None, 2.0)}
    db.close()


async def test_concurrent_records_are_group_committed(tmp_path):
    states = []
    spool = Spool(tmp_path / "spool.sqlite", "s", on_state=lambda ok, d: states.append(ok))
    await spool.start()
    await asyncio.gather(*(spool.record(turn(n)) for n in range(500)))
    assert await spool.read(lambda db: db.count_turns()) == 500
    await spool.stop()
    assert states[-1] is True


async def test_unopenable_spool_degrades_and_recovers_with_the_rows_kept(tmp_path):
    blocker = tmp_path / "later"
    blocker.write_text("a file where the spool folder should be")
    states: list[tuple[bool, str]] = []
    spool = Spool(blocker / "spool.sqlite", "s", on_state=lambda ok, d: states.append((ok, d)))
    await spool.start()
    assert spool.ok is False
    with pytest.raises(SpoolUnavailable, match="cannot open"):
        await spool.record(turn(1))
    assert spool.backlog == 1
    blocker.unlink()  # the owner fixes it; the next write opens the file and catches up
    await spool.record(turn(2))
    assert spool.ok is True and spool.backlog == 0
    assert await spool.read(lambda db: db.count_turns()) == 2
    await spool.stop()
    await asyncio.sleep(0)
    assert [ok for ok, _ in states] == [False, True]


@contextlib.contextmanager
def small_tmpfs(path: Path, size: str = "2m"):
    path.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    filler = path / "filler"
    # Unbuffered: a buffered file would try the write that failed again when closed, and
    # raise there (whether it does depends on how much space the spool left).
    with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    return filler


async def test_full_disk_degrades_replies_go_on_and_nothing_is_lost(
    write_config, start_gateway, tmp_path
):
    with small_tmpfs(tmp_path / "disk") as disk:
        gw = await start_gateway(write_config({"store": {"spool": str(disk / "spool.sqlite")}}))
        answered = []
        async with kiosk(gw.url) as k:
            answered.append((await k.ask("what are your hours"))["turn"])
            filler = await asyncio.to_thread(fill, disk)
            for question in ("how much is a wash", "is machine 4 free", "where is lost and found"):
                answered.append((await k.ask(question))["turn"])
            assert gw.service.spool.ok is False
            code, body = await asyncio.to_thread(http_get, gw.http + "/readyz")
            assert code == 503
            assert "full" in json.loads(body)["dependencies"]["spool"]["detail"]
            filler.unlink()
            answered.append((await k.ask("what are your hours"))["turn"])
            assert gw.service.spool.ok is True
        ids = await gw.service.spool.read(
            lambda db: {r[0] for r in db.conn.execute("SELECT id FROM turns")}
        )
        assert set(answered) <= ids


def test_sigkill_under_load_keeps_a_row_for_every_reply_received(
    write_config, start_gateway_process, tmp_path
):
    config = write_config(
        {"gateway": {"limits": {"messages_per_second": 1000, "message_burst": 1000}}}
    )
    gw = start_gateway_process(config)
    received: list[str] = []
    questions = ["how much is a wash", "is machine 3 free", "what are your hours", "call staff"]

    async def client(n: int, stop: asyncio.Event) -> None:
        with contextlib.suppress(ConnectionClosed, OSError, asyncio.TimeoutError):
            async with kiosk(gw.url, kiosk=f"k{n}") as k:
                while not stop.is_set():
                    received.append((await k.ask(random.choice(questions)))["turn"])

    async def load() -> None:
        stop = asyncio.Event()
        clients = [asyncio.create_task(client(n, stop)) for n in range(20)]
        await asyncio.sleep(1.5)
        os.kill(gw.proc.pid, signal.SIGKILL)  # in the middle of the load
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.wait(clients, timeout=10)

    asyncio.run(load())
    assert gw.proc.wait(5) == -signal.SIGKILL
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    ids = {row[0] for row in db.conn.execute("SELECT id FROM turns")}
    db.close()
    missing = set(received) - ids
    print(
        f"\nSIGKILL durability: {len(received)} replies received, {len(ids)} turns in the spool, "
        f"{len(missing)} missing"
    )
    assert len(received) > 100
    assert not missing
