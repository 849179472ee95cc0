"""`laundrybot cleanup`: transcript retention in the spool and in PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import time

import pytest
import yaml

from laundrybot.cleanup import run_cleanup
from laundrybot.config import load_config
from laundrybot.store import postgres
from laundrybot.store.spool import REFUSED, Event, SpoolDB

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


def test_spool_retention_dry_run_then_for_real(write_config, tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    spool = tmp_path / "spool.sqlite"
    fill_spool(spool, old_and_new(time.time()))
    config = load_config(write_config({"store": {"retention_days": 30}}))
    assert run_cleanup(config, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "would remove 5 transcripts (turns)" in out
    assert "would remove 1 customer questions quoted in events" in out
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
def test_postgresql_retention_touches_only_this_shops_old_rows(
    pg_config, pg_dsn, tmp_path, caplog, capsys
):
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
    assert "would remove 5 transcripts (turns)" in capsys.readouterr().out
    assert query(pg_dsn, "SELECT count(*) FROM turns") == [(16,)]
    assert run_cleanup(config) == 0
    counts = dict(query(pg_dsn, "SELECT shop, count(*) FROM turns GROUP BY shop"))
    assert counts == {"north": 3, "south": 8}
    quoted = query(
        pg_dsn, "SELECT shop, count(*) FROM events WHERE detail ? 'question' GROUP BY shop"
    )
    assert dict(quoted) == {"north": 1, "south": 2}
    print(f"\n[cleanup] PostgreSQL after retention: turns per shop {counts}")


# -- files and forwarded rows (the packaging issue) -----------------------------------------

HOUR = 3600


def age(path, seconds: float, now: float) -> None:  # type: ignore[no-untyped-def]
    os.utime(path, (now - seconds, now - seconds), follow_symlinks=False)


@pytest.fixture
def dirs(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """laundrybot's folders as systemd would give them (State/CacheDirectory=)."""
    state, cache = tmp_path / "state", tmp_path / "cache"
    for folder in (state, cache / "tmp", cache / "tts", state / "models", state / "debug-audio"):
        folder.mkdir(parents=True)
    monkeypatch.setenv("STATE_DIRECTORY", str(state))
    monkeypatch.setenv("CACHE_DIRECTORY", str(cache))
    return state, cache


def files_config(write_config, **cleanup):  # type: ignore[no-untyped-def]
    # The spool and the phrase cache follow $STATE_DIRECTORY / $CACHE_DIRECTORY.
    path = write_config({"cleanup": cleanup, "tts": {"cache_mb": 1}})
    text = path.read_text().replace("spool:", "spool_unused:")
    data = yaml.safe_load(text)
    data["store"].pop("spool_unused")
    path.write_text(yaml.safe_dump(data))
    return load_config(path)


def test_temp_files_debug_audio_and_leftovers_go_when_old(write_config, dirs, caplog, capsys):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    state, cache = dirs
    now = time.time()
    old_tmp = cache / "tmp" / "old.wav"
    old_tmp.write_bytes(b"x" * 5000)
    old_folder = cache / "tmp" / "scratch"
    old_folder.mkdir()
    (old_folder / "inner").write_bytes(b"y" * 3000)
    fresh_tmp = cache / "tmp" / "fresh.wav"
    fresh_tmp.write_bytes(b"z")
    busy_folder = cache / "tmp" / "busy"  # old folder with a fresh file inside: kept
    busy_folder.mkdir()
    (busy_folder / "now").write_bytes(b"n")
    half_phrase = cache / "tts" / ".tmpabc"
    half_phrase.write_bytes(b"p" * 100)
    half_model = state / "models" / ".adding-xyz"
    half_model.mkdir()
    (half_model / "am.mdl").write_bytes(b"m" * 200)
    old_audio = state / "debug-audio" / "turn-1.wav"
    old_audio.write_bytes(b"a" * 7000)
    new_audio = state / "debug-audio" / "turn-2.wav"
    new_audio.write_bytes(b"a")
    outside = state.parent / "not-ours.tmp"  # beside laundrybot's folders: never touched
    outside.write_bytes(b"o")
    link = cache / "tmp" / "link-to-outside"
    link.symlink_to(outside)
    for path in (old_tmp, old_folder / "inner", old_folder, busy_folder, half_phrase, outside):
        age(path, 48 * HOUR, now)
    for path in (half_model / "am.mdl", half_model, link):
        age(path, 48 * HOUR, now)
    age(old_audio, 8 * 86400, now)
    age(new_audio, 6 * 86400, now)

    config = files_config(write_config, temp_hours=24, debug_audio_days=7)
    assert run_cleanup(config, dry_run=True, now=now) == 0
    assert "would remove 3 temporary files" in capsys.readouterr().out
    assert old_tmp.exists() and old_audio.exists() and half_model.exists()
    caplog.clear()

    assert run_cleanup(config, now=now) == 0
    assert not old_tmp.exists() and not old_folder.exists() and not link.is_symlink()
    assert fresh_tmp.exists() and busy_folder.exists()
    assert not half_phrase.exists() and not half_model.exists()
    assert not old_audio.exists() and new_audio.exists()
    assert outside.exists()  # the symlink went, not what it pointed to
    assert "removed 3 temporary files (7.9 KB)" in caplog.text  # with the link itself
    assert "removed 1 unfinished phrase cache files" in caplog.text
    assert "removed 1 unfinished model installs" in caplog.text
    assert "removed 1 debug audio files (6.8 KB)" in caplog.text
    assert re.search(r"cleanup done: removed \d+ items, freed 15\.\d KB", caplog.text)


def test_phrase_cache_is_cut_to_its_cap_least_recently_used_first(
    write_config, dirs, caplog, capsys
):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    _, cache = dirs
    now = time.time()
    phrases = []
    for n in range(6):  # 6 x 300 KB against a 1 MB cap
        path = cache / "tts" / (hashlib.sha256(str(n).encode()).hexdigest() + ".pcm")
        path.write_bytes(b"\0" * 300 * 1024)
        age(path, (10 - n) * HOUR, now)  # phrase 0 was used longest ago
        phrases.append(path)
    other = cache / "tts" / "notes.txt"  # not a phrase: never counted nor removed
    other.write_bytes(b"\0" * 2**20)
    age(other, 100 * HOUR, now)
    config = files_config(write_config)
    assert run_cleanup(config, dry_run=True, now=now) == 0
    assert "would remove 3 phrases beyond the size cap (900.0 KB)" in capsys.readouterr().out
    assert all(p.exists() for p in phrases)
    assert run_cleanup(config, now=now) == 0
    assert [p.exists() for p in phrases] == [False, False, False, True, True, True]
    assert other.exists()
    caplog.clear()
    assert run_cleanup(config, now=now) == 0
    assert "removed 0 phrases beyond the size cap" in caplog.text


def test_forwarded_spool_rows_go_after_forwarded_days_unforwarded_ones_stay(
    write_config, dirs, caplog, capsys
):
    caplog.set_level(logging.INFO, "laundrybot.cleanup")
    state, _ = dirs
    now = time.time()
    spool = state / "spool.sqlite"
    old = [make_turn(n, ts=now - 40 * DAY + n) for n in range(4)]
    recent = [make_turn(n, ts=now - DAY + n) for n in range(2)]
    old_event = Event(kind="unit-failure", ts=now - 40 * DAY, detail={"unit": "x.service"})
    fill_spool(spool, [*old, *recent, old_event])
    db = SpoolDB(spool, "shop")
    db.mark_forwarded("turns", [t.id for t in old[:3] + recent], now - 39 * DAY)
    db.mark_forwarded("turns", [old[3].id], REFUSED)  # refused by PostgreSQL: stays here
    db.mark_forwarded("events", [old_event.id], now - 39 * DAY)
    db.close()
    config = files_config(write_config, forwarded_days=30)
    assert run_cleanup(config, dry_run=True, now=now) == 0
    assert "would remove 3 turns already forwarded to PostgreSQL" in capsys.readouterr().out
    assert spool_state(spool)[0] == 6
    assert run_cleanup(config, now=now) == 0
    assert "removed 3 turns already forwarded to PostgreSQL" in caplog.text
    assert "removed 1 events already forwarded to PostgreSQL" in caplog.text
    db = SpoolDB(spool, "shop")
    kept = {row[0] for row in db.conn.execute("SELECT id FROM turns")}
    events = db.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    db.close()
    assert kept == {old[3].id, *(t.id for t in recent)}
    assert events == 0
    caplog.clear()
    config = files_config(write_config, forwarded_days=0)  # 0 keeps them
    assert run_cleanup(config, now=now + 100 * DAY) == 0
    assert "forwarded to PostgreSQL" not in caplog.text


def test_cleanup_dry_run_from_the_command_line_removes_nothing(write_config, dirs):
    _, cache = dirs
    now = time.time()
    old_tmp = cache / "tmp" / "old"
    old_tmp.write_bytes(b"x" * 2048)
    age(old_tmp, 30 * HOUR, now)
    config = write_config()
    command = [sys.executable, "-m", "laundrybot", "cleanup", "--dry-run", "--config", str(config)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # The list is the output: plain lines on stdout, no log prefixes, nothing on stderr.
    assert any(
        line.endswith("tmp: would remove 1 temporary files (2.0 KB)")
        for line in done.stdout.splitlines()
    ), done.stdout
    assert done.stdout.splitlines()[-1].startswith("cleanup dry run: would remove")
    assert "would remove" not in done.stderr
    assert old_tmp.exists()
