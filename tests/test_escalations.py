"""Escalations close: `laundrybot escalations list|resolve` on a real spool file, a follow-up
machine number added to the open report, and what the report and PostgreSQL make of both."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from laundrybot.cli import main
from laundrybot.escalations import duration, escalations, resolve
from laundrybot.store.spool import Event, SpoolDB


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
