"""`laundrybot cleanup`: transcript retention in the spool and in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time

from laundrybot.cleanup import run_cleanup
from laundrybot.config import load_config
from laundrybot.store import postgres
from laundrybot.store.spool import Event, SpoolDB

from .pg_fixtures import query, requires_pg
from .test_recorder import fill_spool, make_turn

DAY = 86400


def old_and_new(now: float) -> list:  # type: ignore[type-arg]
    return [
        *[make_turn(n, ts=now - 100 * DAY + n) for n in range(5)],
        *[make_turn(n, ts=now - DAY + n) for n in range(3)],
        Event(
            kind="escalation",
            machine=12,
            ts=now - 100 * DAY,
            detail={"reason": "money-taken", "question": "dryer 12 ate my coins", "turn": "t"},
        ),
        Event(kind="escalation", ts=now - DAY, detail={"reason": "x", "question": "recent"}),
    ]


def spool_state(path) -> tuple[int, list[dict]]:  # type: ignore[no-untyped-def]
    db = SpoolDB(path, "shop")
    try:
        turns = db.count_turns()
        rows = db.conn.execute("SELECT detail FROM events ORDER BY ts")
        details = [json.loads(d) for (d,) in rows]
    finally:
        db.close()
    return turns, details


def test_spool_retention_dry_run_then_for_real(write_config, tmp_path, caplog):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    spool = tmp_path / "spool.sqlite"
    fill_spool(spool, old_and_new(time.time()))
    config = load_config(write_config({"store": {"retention_days": 30}}))
    assert run_cleanup(config, dry_run=True) == 0
    assert "would remove 5 transcripts (turns)" in caplog.text
    assert "would remove 1 customer questions quoted in events" in caplog.text
    assert spool_state(spool)[0] == 8
    caplog.clear()
    assert run_cleanup(config) == 0
    assert "removed 5 transcripts (turns)" in caplog.text
    turns, details = spool_state(spool)
    assert turns == 3
    # The old escalation still counts; the customer's words are gone.
    assert details[0] == {"reason": "money-taken", "turn": "t"}
    assert details[1]["question"] == "recent"
    caplog.clear()
    assert run_cleanup(config) == 0
    assert "removed 0 transcripts" in caplog.text


def test_retention_zero_keeps_everything(write_config, tmp_path, caplog):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    spool = tmp_path / "spool.sqlite"
    fill_spool(spool, old_and_new(time.time()))
    assert run_cleanup(load_config(write_config({"store": {"retention_days": 0}}))) == 0
    assert "kept forever" in caplog.text
    assert spool_state(spool)[0] == 8


def test_cleanup_command_logs_to_stderr_and_fails_when_postgresql_is_down(write_config, tmp_path):
    spool = tmp_path / "spool.sqlite"
    fill_spool(spool, old_and_new(time.time()))
    config = write_config({"store": {"postgres": {"dsn": "host=127.0.0.1 port=1 dbname=x"}}})
    command = [sys.executable, "-m", "laundrybot", "cleanup", "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "removed 5 transcripts (turns)" in done.stderr  # the spool part still ran
    assert "PostgreSQL retention failed" in done.stderr and "port=1" in done.stderr


@requires_pg
def test_postgresql_retention_touches_only_this_shops_old_rows(pg_config, pg_dsn, tmp_path, caplog):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    now = time.time()
    for shop in ("north", "south"):
        fill_spool(tmp_path / f"{shop}.sqlite", old_and_new(now), shop=shop)
    config = load_config(pg_config(shop_id="north", store={"retention_days": 30}))
    target = postgres.target_from_config(config)
    assert target is not None

    async def load() -> None:
        async with postgres.connect(target) as conn:
            await postgres.migrate(conn)
            for shop in ("north", "south"):
                db = SpoolDB(tmp_path / f"{shop}.sqlite", shop)
                rows = db.pending("turns", 100), db.pending("events", 100)
                db.close()
                await postgres.forward(conn, *rows)

    asyncio.run(load())
    assert run_cleanup(config, dry_run=True) == 0
    assert "would remove 5 transcripts (turns)" in caplog.text
    assert query(pg_dsn, "SELECT count(*) FROM turns") == [(16,)]
    assert run_cleanup(config) == 0
    counts = dict(query(pg_dsn, "SELECT shop, count(*) FROM turns GROUP BY shop"))
    assert counts == {"north": 3, "south": 8}
    quoted = query(
        pg_dsn, "SELECT shop, count(*) FROM events WHERE detail ? 'question' GROUP BY shop"
    )
    assert dict(quoted) == {"north": 1, "south": 2}
    print(f"\n[cleanup] PostgreSQL after retention: turns per shop {counts}")
