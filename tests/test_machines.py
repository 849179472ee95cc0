"""Machine status from the shop floor: the state, the spool's record of it, the power readings,
the payload kinds and the topic mapping (no broker here; tests/test_machines_mqtt.py has one)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from laundrybot.machines.state import MachineState, MachineStatus
from laundrybot.store import postgres
from laundrybot.store.spool import MIGRATIONS, SpoolDB


def test_machine_status_source_defaults_to_staff() -> None:
    status = MachineStatus(4, MachineState.BUSY, None, 1.0)
    assert status.source == "staff"
    assert MachineState("unknown") is MachineState.UNKNOWN


def test_the_spool_keeps_where_a_state_came_from(tmp_path: Path) -> None:
    db = SpoolDB(tmp_path / "spool.sqlite", "s")
    db.write([MachineStatus(4, MachineState.BUSY, 100.0, 1.0, "mqtt")])
    db.write([MachineStatus(5, MachineState.UNKNOWN, None, 2.0, "api")])
    assert db.machines() == {
        4: MachineStatus(4, MachineState.BUSY, 100.0, 1.0, "mqtt"),
        5: MachineStatus(5, MachineState.UNKNOWN, None, 2.0, "api"),
    }
    db.close()


def test_a_spool_of_version_2_gains_the_source_column(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:2]:
        conn.executescript(migration)
    conn.execute("PRAGMA user_version=2")
    conn.execute("INSERT INTO machines VALUES (7, 'busy', NULL, 5.0)")
    conn.close()
    db = SpoolDB(path, "s")
    assert db.machines() == {7: MachineStatus(7, MachineState.BUSY, None, 5.0, "staff")}
    db.close()


def test_postgres_machine_rows_carry_the_source() -> None:
    events = [
        {"kind": "machine-change", "machine": 3, "shop": "s", "ts": 1.0,
         "detail": '{"state": "unknown", "source": "mqtt"}'},
        {"kind": "machine-change", "machine": 4, "shop": "s", "ts": 1.0,
         "detail": '{"state": "busy", "until": 9.0}'},
    ]  # fmt: skip
    rows = postgres.machine_rows(events)
    assert [(r["number"], r["state"], r["source"]) for r in rows] == [
        (3, "unknown", "mqtt"),
        (4, "busy", "staff"),
    ]
