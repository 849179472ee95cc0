"""A full disk under the spool, for real (a small tmpfs mounted as root): what is promised.

Replies go on; every reply's turn survives a crash of the gateway while the disk is full (the
fallback journal is on another filesystem) and is in the spool once the disk has room again;
rows beyond the backlog are counted and exported at once, as is the backlog itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from laundrybot.store.spool import Spool, SpoolUnavailable, row_from_json

from .conftest import kiosk
from .test_gateway import http_get
from .test_spool import fill, small_tmpfs, turn

QUESTIONS = [
    "how much is a wash",
    "is machine 4 free",
    "what are your hours",
    "where is lost and found",
]


def samples(text: str) -> dict[str, float]:
    return {
        s.name: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("laundrybot_spool")
    }


def spool_ids(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT id FROM turns")}
    finally:
        db.close()


def test_a_crash_while_the_disk_is_full_loses_no_acknowledged_turn(
    write_config, start_gateway_process, tmp_path
):
    fallback = tmp_path / "run" / "spool-fallback.jsonl"  # not on the full disk
    with small_tmpfs(tmp_path / "disk") as disk:
        spool = disk / "spool.sqlite"
        config = write_config(
            {
                "store": {"spool": str(spool), "fallback": str(fallback)},
                "gateway": {"limits": {"messages_per_second": 1000, "message_burst": 1000}},
            }
        )
        gw = start_gateway_process(config)
        answered: list[str] = []

        async def talk(n: int, url: str) -> None:
            async with kiosk(url) as k:
                for i in range(n):
                    answered.append((await k.ask(QUESTIONS[i % len(QUESTIONS)]))["turn"])

        asyncio.run(talk(1, gw.url))
        filler = fill(disk)
        asyncio.run(talk(40, gw.url))
        # The figures are live: no waiting for the 15 s count loop.
        _, body = http_get(gw.http + "/metrics")
        figures = samples(body)
        journaled = len(fallback.read_text().splitlines())
        print(
            f"\nfull disk: {len(answered)} replies, {journaled} turns in the fallback journal, "
            f"backlog gauge {figures['laundrybot_spool_memory_backlog_rows']}"
        )
        assert figures["laundrybot_spool_up"] == 0
        assert figures["laundrybot_spool_fallback_up"] == 1
        assert figures["laundrybot_spool_dropped_rows_total"] == 0
        assert figures["laundrybot_spool_memory_backlog_rows"] == journaled
        assert journaled >= 30  # the disk was full for (nearly) all of them
        os.kill(gw.proc.pid, signal.SIGKILL)
        assert gw.proc.wait(5) == -signal.SIGKILL
        before = spool_ids(spool)
        assert not set(answered) <= before  # without the journal these would be lost
        filler.unlink()  # the owner makes room; the unit is restarted
        gw2 = start_gateway_process(config)
        asyncio.run(talk(1, gw2.url))
        missing = set(answered) - spool_ids(spool)
        print(f"after the crash and restart: {len(missing)} acknowledged turns missing")
        assert not missing
        assert fallback.read_text() == ""
        assert "rows from the fallback journal" in gw2.log.read_text()
        gw2.stop()


async def test_rows_beyond_the_backlog_are_counted_and_exported_at_once(
    write_config, start_gateway, tmp_path
):
    with small_tmpfs(tmp_path / "disk") as disk:
        # No second place: the journal is on the full disk too, so rows are in memory only.
        config = write_config(
            {"store": {"spool": str(disk / "spool.sqlite"), "fallback": str(disk / "fb.jsonl")}}
        )
        gw = await start_gateway(config)
        gw.service.spool._max_backlog = 3
        async with kiosk(gw.url) as k:
            await k.ask("what are your hours")
            filler = await asyncio.to_thread(fill, disk)
            for question in QUESTIONS + QUESTIONS[:1]:
                await k.ask(question)  # answered all the same
            _, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
            figures = samples(body)
            assert figures["laundrybot_spool_dropped_rows_total"] == 2
            assert figures["laundrybot_spool_memory_backlog_rows"] == 3
            assert figures["laundrybot_spool_fallback_up"] == 0
            filler.unlink()
            await k.ask("what are your hours")
            _, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
            figures = samples(body)
            assert figures["laundrybot_spool_memory_backlog_rows"] == 0
            assert figures["laundrybot_spool_dropped_rows_total"] == 2  # a counter: stays
            assert figures["laundrybot_spool_up"] == 1
        count = await gw.service.spool.read(lambda db: db.count_turns())
        assert count == 1 + 3 + 1


async def test_the_journal_holds_the_backlog_and_is_emptied_once_written(tmp_path):
    with small_tmpfs(tmp_path / "disk") as disk:
        journal = tmp_path / "fallback.jsonl"
        spool = Spool(disk / "spool.sqlite", "s", fallback=journal, max_backlog=3)
        await spool.start()
        await spool.record(turn(0))
        filler = await asyncio.to_thread(fill, disk)
        rows = [turn(n) for n in range(1, 6)]
        for row in rows:
            with pytest.raises(SpoolUnavailable):
                await spool.record(row)
        assert spool.backlog == 3 and spool.dropped == 2 and spool.journal_ok
        kept = [row_from_json(line) for line in journal.read_text().splitlines()]
        assert kept == rows[:3]  # the newest are the ones beyond the bound
        filler.unlink()
        await spool.record(turn(9))
        assert journal.read_text() == "" and spool.backlog == 0
        assert await spool.read(lambda db: db.count_turns()) == 5
        await spool.stop()
