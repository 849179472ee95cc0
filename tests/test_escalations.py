"""Escalations close: `laundrybot escalations list|resolve` on a real spool file, a follow-up
machine number added to the open report, and what the report and PostgreSQL make of both."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import sqlite3
import time
from pathlib import Path

import pytest

from laundrybot.cli import main
from laundrybot.config import NotifyConfig
from laundrybot.escalations import duration, escalations, resolve
from laundrybot.gateway.session import Session
from laundrybot.gateway.turns import Turns
from laundrybot.notify.message import classify, from_event, group_key
from laundrybot.store.spool import Event, Spool, SpoolDB

from .conftest import kiosk
from .pg_fixtures import await_until, query, requires_pg


def escalation(
    reason: str = "money-taken", machine: int | None = 12, kiosk: str = "k1", ago: float = 600
) -> Event:
    return Event(
        kind="escalation",
        kiosk=kiosk,
        session="s1",
        machine=machine,
        detail={"reason": reason, "question": "the dryer took my money", "turn": "t1"},
        ts=time.time() - ago,
    )


def fill(spool: Path, events: list[Event]) -> None:
    db = SpoolDB(spool, "shop")
    try:
        db.write(events)
    finally:
        db.close()


def events_of(spool: Path, kind: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(spool)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM events WHERE kind = ? ORDER BY ts", (kind,)).fetchall()
    finally:
        conn.close()


@pytest.fixture
def shop(write_config, tmp_path):
    """A configuration and its spool holding two escalations: (config, spool, [events])."""
    first = escalation("money-taken", 12, "front-1", ago=3 * 3600)
    second = escalation("call-staff", None, "back-2", ago=300)
    fill(tmp_path / "spool.sqlite", [first, second])
    return str(write_config()), tmp_path / "spool.sqlite", [first, second]


def test_list_shows_each_escalation_open_with_how_long(shop, capsys):
    config, _, (first, second) = shop
    assert main(["escalations", "list", "--config", config]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "when", "kiosk", "machine", "reason", "state", "open", "for"]
    assert len(rows) == 2
    assert rows[0].startswith(first.id[:8]) and "front-1" in rows[0]
    assert "dryer 12" in rows[0] and "money-taken" in rows[0] and "open" in rows[0]
    assert rows[0].rstrip().endswith("3 h 00 min")
    assert rows[1].startswith(second.id[:8]) and "back-2" in rows[1] and "call-staff" in rows[1]
    assert rows[1].rstrip().endswith("5 min")


def test_list_json_is_in_shop_time(shop, capsys):
    config, _, (first, _) = shop
    assert main(["escalations", "list", "--json", "--config", config]) == 0
    data = json.loads(capsys.readouterr().out)
    one = data[0]
    assert one["id"] == first.id and len(data) == 2
    assert one["state"] == "open" and one["machine"] == 12 and one["machine_name"] == "dryer 12"
    assert one["kiosk"] == "front-1" and one["reason"] == "money-taken"
    assert 3 * 3600 - 5 < one["open_seconds"] < 3 * 3600 + 60
    # conf/knowledge.yaml is in America/Chicago: its offset, not UTC's.
    assert one["time"].endswith(("-05:00", "-06:00"))


def test_resolve_by_a_prefix_writes_the_event_and_closes_it(shop, capsys, monkeypatch):
    config, spool, (first, second) = shop
    monkeypatch.setenv("SUDO_USER", "mina")
    assert main(["escalations", "resolve", first.id[:6].upper(), "--note", "refunded $4",
                 "--config", config]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"resolved escalation {first.id}" in out and "money-taken" in out
    (row,) = events_of(spool, "escalation-resolved")
    assert json.loads(row["detail"]) == {
        "escalation": first.id,
        "note": "refunded $4",
        "who": "mina",
    }
    assert row["forwarded_at"] is None  # the recorder forwards it like any event
    assert row["kiosk"] == "front-1" and row["machine"] == 12
    assert main(["escalations", "list", "--open", "--config", config]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 1 and rows[0].startswith(second.id[:8])
    assert main(["escalations", "list", "--config", config]) == 0
    listed = capsys.readouterr().out
    assert "resolved" in next(line for line in listed.splitlines() if line.startswith(first.id[:8]))


def test_who_is_the_login_name_without_sudo(shop, monkeypatch):
    config, spool, (first, _) = shop
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "owner")
    assert main(["escalations", "resolve", first.id, "--config", config]) == 0
    (row,) = events_of(spool, "escalation-resolved")
    assert json.loads(row["detail"])["who"] == "owner"
    assert json.loads(row["detail"])["note"] == ""


def test_resolving_twice_or_an_unknown_id_is_a_clear_error(shop, capsys):
    config, spool, (first, _) = shop
    assert main(["escalations", "resolve", first.id, "--config", config]) == 0
    capsys.readouterr()
    assert main(["escalations", "resolve", first.id, "--config", config]) == 1
    err = capsys.readouterr().err
    assert f"escalation {first.id} was resolved already" in err
    assert len(events_of(spool, "escalation-resolved")) == 1
    assert main(["escalations", "resolve", "ffff0000", "--config", config]) == 1
    assert "no escalation has an id starting with 'ffff0000'" in capsys.readouterr().err


@pytest.mark.parametrize("given", ["ab", "not-an-id!", ""])
def test_a_prefix_that_names_no_id_is_a_usage_error(shop, capsys, given):
    config = shop[0]
    assert main(["escalations", "resolve", given, "--config", config]) == 2
    assert "is not an escalation id" in capsys.readouterr().err


def test_an_ambiguous_prefix_is_a_usage_error(write_config, tmp_path, capsys):
    a = Event(kind="escalation", detail={"reason": "call-staff"}, id="abcd1111-0000-4000-8000-0")
    b = Event(kind="escalation", detail={"reason": "call-staff"}, id="abcd2222-0000-4000-8000-0")
    fill(tmp_path / "spool.sqlite", [a, b])
    config = str(write_config())
    assert main(["escalations", "resolve", "abcd", "--config", config]) == 2
    assert "starts 2 escalation ids" in capsys.readouterr().err
    assert main(["escalations", "resolve", "abcd2", "--config", config]) == 0


def test_an_action_is_needed_and_an_empty_spool_lists_nothing(write_config, capsys):
    config = str(write_config())
    assert main(["escalations", "--config", config]) == 2
    assert main(["escalations", "list", "--open", "--config", config]) == 0
    assert "no open escalations" in capsys.readouterr().out
    assert main(["escalations", "resolve", "abcd1234", "--config", config]) == 1


def test_a_racing_resolution_is_seen_not_doubled(tmp_path):
    spool = tmp_path / "spool.sqlite"
    event = escalation()
    fill(spool, [event])
    one, two = SpoolDB(spool, "shop"), SpoolDB(spool, "shop")
    try:
        resolve(one, event.id, "", "a")
        with pytest.raises(Exception, match=event.id):
            resolve(two, event.id, "", "b")
        (found,) = escalations(two)
        assert found.resolved_by == "a" and found.state == "resolved"
    finally:
        one.close()
        two.close()


def test_durations_read_well():
    assert [duration(s) for s in (5, 125, 3 * 3600 + 300, 50 * 3600)] == [
        "5 s",
        "2 min",
        "3 h 05 min",
        "2 d 2 h",
    ]


# -- the report and PostgreSQL ----------------------------------------------------------------


def test_report_counts_open_escalations_with_the_oldest_and_falls_on_resolve(shop, capsys):
    config, spool, (first, _) = shop
    old = escalation("machine-broken", 3, "front-1", ago=9 * 86400)  # before --since: still open
    fill(spool, [old])
    assert main(["report", "--since", "1d", "--config", config]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("escalations:"))
    assert "escalations: 2 (call-staff 1, money-taken 1); open: 3, the oldest from " in line
    assert line.endswith("(open 9 d 0 h)")
    assert main(["escalations", "resolve", old.id[:8], "--config", config]) == 0
    assert main(["report", "--since", "1d", "--json", "--config", config]) == 0
    data = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert data["open_total"] == 2 and abs(data["open_oldest"] - first.ts) < 1e-3
    assert [e["kiosk"] for e in data["open_escalations"]] == ["back-2", "front-1"]


def _pg_rows(spool: Path) -> list[dict[str, object]]:
    db = SpoolDB(spool, "shop")
    try:
        return db.pending("events", 1000)
    finally:
        db.close()


def _mark(spool: Path, rows: list[dict[str, object]]) -> None:
    db = SpoolDB(spool, "shop")
    try:
        db.mark_forwarded("events", [str(r["id"]) for r in rows], time.time())
    finally:
        db.close()


def _dashboard_stat() -> str:
    from .test_report import _dashboard_sql

    (sql,) = [s for title, s in _dashboard_sql() if title == "Open escalations"]
    return sql.replace("${shop:sqlstring}", "'shop'")


@requires_pg
async def test_postgresql_open_escalations_fall_when_one_is_resolved(pg_config, pg_dsn, capsys):
    import asyncio

    from laundrybot.config import load_config
    from laundrybot.store import postgres

    path = pg_config()
    config = str(path)
    spool = load_config(path).spool_path
    first, second = escalation(ago=7200), escalation("call-staff", None, "back-2", ago=60)
    fill(spool, [first, second])
    target = postgres.target_from_config(load_config(path))
    assert target is not None

    async def forward() -> None:
        rows = _pg_rows(spool)
        async with postgres.connect(target) as conn:
            await postgres.migrate(conn)
            await postgres.forward(conn, [], rows)
        _mark(spool, rows)

    await forward()
    ((count, oldest),) = query(pg_dsn, _dashboard_stat())
    assert count == 2 and 7200 - 5 < float(oldest) < 7200 + 120
    assert await asyncio.to_thread(main, ["report", "--config", config]) == 0
    assert "; open: 2, the oldest from " in capsys.readouterr().out
    assert (
        await asyncio.to_thread(main, ["escalations", "resolve", first.id, "--config", config]) == 0
    )
    await forward()
    ((count, oldest),) = query(pg_dsn, _dashboard_stat())
    assert count == 1 and float(oldest) < 300
    assert await asyncio.to_thread(main, ["report", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "from PostgreSQL" in out and "; open: 1, the oldest from " in out
    who = query(pg_dsn, "SELECT detail->>'who' FROM events WHERE kind = 'escalation-resolved'")
    assert who and who[0][0]


@requires_pg
async def test_an_escalation_arriving_after_its_resolution_is_resolved(pg_config, pg_dsn):
    from laundrybot.config import load_config
    from laundrybot.store import postgres

    path = pg_config()
    spool = load_config(path).spool_path
    report = escalation()
    fill(spool, [report])
    db = SpoolDB(spool, "shop")
    try:
        resolve(db, report.id, "", "owner")
    finally:
        db.close()
    rows = _pg_rows(spool)
    target = postgres.target_from_config(load_config(path))
    assert target is not None
    async with postgres.connect(target) as conn:
        await postgres.migrate(conn)
        await postgres.forward(conn, [], [r for r in rows if r["kind"] != "escalation"])
        await postgres.forward(conn, [], [r for r in rows if r["kind"] == "escalation"])
    assert query(
        pg_dsn, "SELECT resolved_at IS NOT NULL FROM events WHERE kind = 'escalation'"
    ) == [(True,)]
    assert query(pg_dsn, "SELECT count(*) FROM open_escalations") == [(0,)]


# -- a machine named after the report ---------------------------------------------------------


async def _talk(turns: Turns, who: Session, question: str, update: int | None = None) -> str:
    """A typed turn in ``who``'s conversation; ``update``: as if the answer named that machine
    for the open report (what the dialogue does not offer twice)."""
    answer = turns.understand(who.lang, question, who.dialogue)
    if update is not None:
        answer = dataclasses.replace(answer, escalation=None, report_update=update)
    async with turns.take(who, question, answer, time.monotonic(), "text") as reply:
        return reply.text


async def test_a_machine_named_after_the_report_is_added_to_it(tmp_path, write_config, capsys):
    from .test_turns import Desk, FakeNotify

    spool = Spool(tmp_path / "spool.sqlite", "shop")
    await spool.start()
    try:
        desk = Desk(spool, FakeNotify("accepted"))
        who = Session(id="s" * 32, kiosk="front-1", lang="en")
        # Urgent, so filed at once without a machine (a plain "took my money" asks first).
        await _talk(desk.turns, who, "water is pouring out of the washer, hurry")
        (report,) = await desk.rows("events")
        assert report["kind"] == "escalation" and report["machine"] is None
        assert who.report is not None and who.report.id == report["id"]
        told = await _talk(desk.turns, who, "its number 3")
        assert told == "Thanks, I've added washer 3 to your report for the staff."
        await _talk(desk.turns, who, "its number 3", update=3)  # said again: nothing new
        for _ in range(50):
            if len(desk.notify.asked) == 2:
                break
            await asyncio.sleep(0.01)
        rows = await desk.rows("events")
        assert [r["kind"] for r in rows] == ["escalation", "escalation-updated"]
        update = rows[1]
        assert update["machine"] == 3 and update["kiosk"] == "front-1"
        detail = json.loads(str(update["detail"]))
        assert detail["escalation"] == report["id"] and detail["machine"] == 3
        assert detail["reason"] == "machine-broken" and detail["question"] == "its number 3"
        assert desk.notify.asked == [report["id"], update["id"]]  # the staff are told now
        assert who.report.machine == 3
        # Another machine later ("sorry, it's 4") corrects it; a new session has no report.
        await _talk(desk.turns, who, "sorry, its number 4", update=4)
        stranger = Session(id="n" * 32, kiosk="front-1", lang="en")
        await _talk(desk.turns, stranger, "its number 5", update=5)
        machines = [r["machine"] for r in await desk.rows("events")]
        assert machines == [None, 3, 4]
    finally:
        await spool.stop()
    assert main(["escalations", "list", "--config", str(write_config())]) == 0
    (row,) = capsys.readouterr().out.splitlines()[1:]
    assert "washer 4" in row and "machine-broken" in row and "open" in row


def test_the_staff_follow_up_message_names_the_machine():
    config = NotifyConfig()
    event = {
        "id": "u1", "ts": 1_780_000_000.0, "shop": "shop", "kind": "escalation-updated",
        "kiosk": "front-1", "session": "s", "machine": 3,
        "detail": {"escalation": "e1", "machine": 3, "reason": "money-taken", "turn": "t"},
    }  # fmt: skip
    assert classify("escalation-updated", event["detail"], config) == ("update", "money-taken")
    assert classify("escalation-updated", {"reason": "other"}, config) is None
    assert group_key("update", "money-taken", 3, "front-1", event["detail"]) == ""
    note = from_event(event, "update", "money-taken", "Suds", {3: "washer 3"}, datetime.UTC)
    assert (
        note.text
        == "Suds: Update on the report from kiosk front-1: it is washer 3 (money taken, 20:26)."
    )
    assert note.title == "Update on a report: washer 3" and note.urgent
    body = note.body()
    assert body["type"] == "update" and body["detail"]["escalation"] == "e1"
    assert "escalation: e1" in note.email_body()


async def test_a_report_then_its_machine_reach_the_staffs_webhook(
    write_config, start_units, tmp_path
):
    from .test_notify import HttpPeer

    peer = HttpPeer(name="phone").start()
    try:
        config = write_config(
            {
                "notify": {
                    "retry_first": 0.2, "retry_max": 1.5, "attempt_timeout": 5,
                    "disk_free_mb": 0, "answer_wait": 3,
                    "socket": str(tmp_path / "notify-unit.sock"),
                    "webhooks": {"phone": peer.url},
                }
            }
        )  # fmt: skip
        units = await start_units(config, ["gateway", "notify"])
        async with kiosk(units.gateway_url, kiosk="front-1") as k:
            told = await k.ask("water is pouring out of the washer, hurry")
            assert "I've messaged the staff" in told["text"]
            await k.ask("its number 3")
            await await_until(lambda: len(peer.arrivals) == 2, timeout=20, what="the update")
        first, second = (peer.bodies[i] for i in peer.arrivals)
        assert first["type"] == "escalation" and first["machine"] is None
        assert second["type"] == "update" and second["machine"] == 3
        assert second["detail"]["escalation"] == first["id"]
        assert "Update on the report from kiosk front-1: it is washer 3" in second["text"]
        assert await units.stop() == 0
    finally:
        peer.stop()
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    try:
        (found,) = escalations(db)
    finally:
        db.close()
    assert found.machine == 3 and found.kiosk == "front-1" and found.reason == "machine-broken"
