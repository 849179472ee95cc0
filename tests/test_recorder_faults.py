"""The recorder against real PostgreSQL faults: nothing lost, nothing doubled, nobody waits.

Each test prints how many turns it sent and found (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

from laundrybot.store.spool import SpoolDB

from .conftest import kiosk
from .pg_fixtures import (
    await_until,
    query,
    requires_pg,
    spool_pending,
    wait_until,
)
from .test_recorder import fill_spool, make_turn

pytestmark = requires_pg

QUESTIONS = (
    "how much is a wash?",
    "what are your hours",
    "is machine 4 free?",
    "how do I use the dryer",
    "what is the capital of peru",
)


def count_in_pg(dsn: str, ids: list[str]) -> tuple[int, int]:
    """(rows, distinct ids) in PostgreSQL among ``ids``."""
    rows = query(
        dsn, "SELECT count(*), count(DISTINCT id) FROM turns WHERE id = ANY(%s::uuid[])", [ids]
    )
    return rows[0][0], rows[0][1]


def recorder_backends(dsn: str) -> list[int]:
    rows = query(
        dsn,
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'laundrybot-recorder'"
        " AND datname = current_database()",
    )
    return [r[0] for r in rows]


async def test_postgresql_stopped_during_a_steady_stream(
    pg_config, pg_dsn, pg_cluster, start_units, tmp_path
):
    units = await start_units(pg_config(), ["gateway", "recorder"])
    recorder = units.service("recorder")
    ids: list[str] = []
    latencies: dict[str, list[float]] = {"before": [], "outage": [], "after": []}
    phase = "before"
    done = asyncio.Event()

    async def customer(n: int) -> None:
        async with kiosk(units.gateway_url, kiosk=f"kiosk-{n}") as k:
            i = n
            while not done.is_set():
                started = time.monotonic()
                reply = await k.ask(QUESTIONS[i % len(QUESTIONS)])
                latencies[phase].append(time.monotonic() - started)
                ids.append(reply["turn"])
                i += 1
                await asyncio.sleep(0.15)

    customers = [asyncio.create_task(customer(n)) for n in range(4)]
    await asyncio.sleep(2)
    phase = "outage"
    await asyncio.to_thread(pg_cluster.stop_immediate)
    stopped_at = len(ids)
    await await_until(lambda: recorder.database_ok is False, what="the database seen down")
    dep = units.runner.readiness.get("database")
    assert dep is not None and not dep.ok and dep.detail
    # Down until the pool gives up one reconnection series (reconnect_timeout is 3 s here).
    await await_until(
        lambda: recorder.metrics.reconnect_failures._value.get() >= 1,
        what="reconnect_failed",
    )
    await asyncio.to_thread(pg_cluster.start)
    started_at = len(ids)
    phase = "after"
    await asyncio.sleep(2)
    done.set()
    await asyncio.gather(*customers)  # a failed reply would raise here

    found = await await_until(
        lambda: count_in_pg(pg_dsn, ids)[0] == len(ids) and count_in_pg(pg_dsn, ids),
        timeout=60,
        what="every turn in PostgreSQL",
    )
    assert found == (len(ids), len(ids))
    assert query(pg_dsn, "SELECT count(*) FROM turns") == [(len(ids),)]
    assert recorder.database_ok
    codes = {c for (c,) in query(pg_dsn, "SELECT detail->>'code' FROM events WHERE kind = 'error'")}
    assert {"database-down", "database-unreachable"} <= codes
    worst = {name: max(values, default=0.0) for name, values in latencies.items()}
    print(
        f"\n[fault: postgresql stopped] turns sent {len(ids)} (during the outage "
        f"{started_at - stopped_at}), found in PostgreSQL {found[0]} ({found[1]} distinct); "
        f"max reply latency before {worst['before'] * 1000:.1f} ms, during "
        f"{worst['outage'] * 1000:.1f} ms, after {worst['after'] * 1000:.1f} ms; "
        f"database down detail: {dep.detail!r}"
    )
    assert started_at - stopped_at > 0, "no turns were sent while PostgreSQL was down"
    assert max(worst.values()) < 2.0
    assert await units.stop() == 0


async def test_backends_killed_the_pool_recovers_by_itself(
    pg_config, pg_dsn, start_units, tmp_path
):
    spool = tmp_path / "spool.sqlite"
    units = await start_units(pg_config(), ["recorder"])
    recorder = units.service("recorder")
    pool = recorder.pool
    sent: list[str] = []
    killed = rounds = 0
    while killed < 8 and rounds < 40:
        rounds += 1
        turns = [make_turn(n) for n in range(150)]
        await asyncio.to_thread(fill_spool, spool, turns)
        sent += [t.id for t in turns]
        await asyncio.sleep(0.05)  # let a batch start, then pull the rug
        pids = await asyncio.to_thread(recorder_backends, pg_dsn)
        for pid in pids:
            query(pg_dsn, "SELECT pg_terminate_backend(%s)", [pid])
        killed += len(pids)
        await asyncio.sleep(0.3)
    await await_until(
        lambda: spool_pending(spool) == 0 and count_in_pg(pg_dsn, sent)[0] == len(sent),
        timeout=60,
        what="every turn forwarded",
    )
    found = count_in_pg(pg_dsn, sent)
    stats = recorder.pool_stats()
    print(
        f"\n[fault: pg_terminate_backend] turns sent {len(sent)}, found {found[0]} "
        f"({found[1]} distinct); backends killed {killed}; pool connections made "
        f"{stats.get('connections_num', 0)}, lost {stats.get('connections_lost', 0)}, "
        f"returned bad {stats.get('returns_bad', 0)}"
    )
    assert found == (len(sent), len(sent))
    assert killed >= 8
    assert recorder.pool is pool, "the pool was rebuilt instead of recovering"
    assert stats["connections_num"] > 1
    await await_until(lambda: recorder.database_ok, what="the database up again")
    assert await units.stop() == 0


def _marked_ids(spool) -> list[str]:  # type: ignore[no-untyped-def]
    db = SpoolDB(spool, "shop")
    try:
        rows = db.conn.execute("SELECT id FROM turns WHERE forwarded_at > 0").fetchall()
    finally:
        db.close()
    return [r[0] for r in rows]


def test_recorder_killed_mid_batch_loses_and_doubles_nothing(
    pg_config, pg_dsn, notify_socket, tmp_path
):
    spool = tmp_path / "spool.sqlite"
    turns = [make_turn(n, ts=time.time() - 3600 + n * 0.01) for n in range(30_000)]
    fill_spool(spool, turns)
    sent = [t.id for t in turns]
    config = pg_config({"batch_size": 100, "forward_interval": 0.05})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    env |= {"NOTIFY_SOCKET": str(notify_socket.path), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(config)]
    log = (tmp_path / "recorder.log").open("ab")
    kills = []
    procs = []
    try:
        for round_ in range(6):
            proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            procs.append(proc)
            notify_socket.wait_for("READY", "1", count=round_ + 1, timeout=30)
            if round_ == 5:
                break  # the last one is left to finish
            target = (round_ + 1) * 4000
            wait_until(
                lambda t=target: query(pg_dsn, "SELECT count(*) FROM turns")[0][0] >= t,
                timeout=60,
                interval=0.01,
                what=f"{target} rows forwarded",
            )
            time.sleep(random.uniform(0, 0.03))  # land anywhere in a batch
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            in_pg = query(pg_dsn, "SELECT count(*) FROM turns")[0][0]
            marked = _marked_ids(spool)
            # Every row the spool calls forwarded really is in PostgreSQL.
            assert count_in_pg(pg_dsn, marked)[0] == len(marked)
            kills.append((in_pg, len(marked)))
        wait_until(lambda: spool_pending(spool) == 0, timeout=90, what="the spool drained")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(15)
        log.close()
    found = count_in_pg(pg_dsn, sent)
    replayed = sum(max(0, pg - marked) for pg, marked in kills)
    print(
        f"\n[fault: recorder SIGKILL] turns sent {len(sent)}, found {found[0]} ({found[1]} "
        f"distinct); kills at (rows in PostgreSQL, rows marked in the spool): {kills}; "
        f"committed-but-unmarked rows replayed: {replayed}"
    )
    assert found == (len(sent), len(sent))
    assert query(pg_dsn, "SELECT count(*) FROM turns") == [(len(sent),)]


async def test_a_short_max_lifetime_recycles_connections(pg_config, pg_dsn, start_units, tmp_path):
    spool = tmp_path / "spool.sqlite"
    units = await start_units(pg_config({"max_lifetime": 1, "min_size": 1}), ["recorder"])
    recorder = units.service("recorder")
    sent: list[str] = []
    pids: set[int] = set()
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        turns = [make_turn(n) for n in range(20)]
        await asyncio.to_thread(fill_spool, spool, turns)
        sent += [t.id for t in turns]
        pids.update(await asyncio.to_thread(recorder_backends, pg_dsn))
        await asyncio.sleep(0.2)
    await await_until(lambda: spool_pending(spool) == 0, what="every turn forwarded")
    found = count_in_pg(pg_dsn, sent)
    stats = recorder.pool_stats()
    print(
        f"\n[fault: max_lifetime 1 s] turns sent {len(sent)}, found {found[0]}; backend pids "
        f"seen {len(pids)}, pool connections made {stats.get('connections_num', 0)} in ~4.5 s"
    )
    assert found == (len(sent), len(sent))
    assert len(pids) >= 3
    assert stats["connections_num"] >= 3
    assert await units.stop() == 0


async def test_wrong_password_is_reported_retried_and_fixed_by_reload(
    pg_config, pg_dsn, start_units, notify_socket, tmp_path
):
    secret = tmp_path / "pgpassword"
    secret.write_text("not-the-password\n")
    config = pg_config({"password_file": str(secret)})
    units = await start_units(config, ["gateway", "recorder"])
    recorder = units.service("recorder")
    status = notify_socket.wait_for("STATUS", timeout=20)
    deadline = time.monotonic() + 20
    while "password authentication failed" not in status.get("STATUS", ""):
        assert time.monotonic() < deadline, notify_socket.messages[-5:]
        await asyncio.sleep(0.1)
        status = notify_socket.with_key("STATUS")[-1][1]
    assert "degraded: database" in status["STATUS"]
    # Customers are still answered, and the recorder keeps trying.
    async with kiosk(units.gateway_url) as k:
        turn = (await k.ask("how much is a wash?"))["turn"]
    failures = recorder.metrics.batches.labels("failed")._value.get()
    await await_until(
        lambda: recorder.metrics.batches.labels("failed")._value.get() > failures + 1,
        what="more attempts",
    )
    secret.write_text(os.environ["PGPASSWORD"] + "\n")
    assert await units.runner.reload()
    await await_until(lambda: count_in_pg(pg_dsn, [turn])[0] == 1, what="the turn forwarded")
    await await_until(lambda: recorder.database_ok, what="the database up")
    codes = query(pg_dsn, "SELECT detail->>'code' FROM events WHERE kind = 'error'")
    statuses = " ".join(m.get("STATUS", "") for _, m in notify_socket.messages)
    print(
        f"\n[fault: wrong password] turns sent 1, found {count_in_pg(pg_dsn, [turn])[0]}; "
        f"status said: {status['STATUS']!r}; error events: {sorted({c for (c,) in codes})}"
    )
    assert "not-the-password" not in statuses
    assert ("database-down",) in codes
    assert await units.stop() == 0


async def test_wrong_dsn_is_reported_and_fixed_by_reload(
    pg_dsn, write_config, start_units, tmp_path
):
    from .pg_fixtures import FAST_RECORDER

    wrong = {"store": {"postgres": FAST_RECORDER | {"dsn": "dbname=no_such_database"}}}
    config = write_config(wrong)
    units = await start_units(config, ["gateway", "recorder"])
    recorder = units.service("recorder")
    await await_until(lambda: "no_such_database" in recorder.problem, what="the reason")
    assert "does not exist" in units.runner.status_line()
    reason = recorder.problem
    async with kiosk(units.gateway_url) as k:
        turn = (await k.ask("what are your hours"))["turn"]
    write_config({"store": {"postgres": FAST_RECORDER | {"dsn": pg_dsn}}})
    assert await units.runner.reload()
    await await_until(lambda: count_in_pg(pg_dsn, [turn])[0] == 1, what="the turn forwarded")
    print(f"\n[fault: wrong dsn] turns sent 1, found 1; status said: {reason!r}")
    assert await units.stop() == 0
