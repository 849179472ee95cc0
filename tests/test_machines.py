"""Machine status from the shop floor: the state, the spool's record of it, the power readings,
the payload kinds and the topic mapping (no broker here; tests/test_machines_mqtt.py has one)."""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

import pytest

from laundrybot.config import Config, MachineFeed, load_config
from laundrybot.errors import ConfigError
from laundrybot.machines.mapping import BadPayload, TopicMap, parse, subscription
from laundrybot.machines.power import PowerThresholds, PowerTracker
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


# -- power readings ----------------------------------------------------------------------------

LIMITS = PowerThresholds(running_watts=15, running_seconds=30, done_watts=5, done_seconds=180)


def test_power_running_after_the_hold_done_after_the_long_hold() -> None:
    p = PowerTracker(LIMITS)
    assert p.reading(500, 0) is None  # above, but not for 30 s yet
    assert p.reading(480, 29) is None
    assert p.reading(510, 30) is MachineState.BUSY
    assert p.reading(1, 100) is None  # below: the 180 s start now
    assert p.tick(279) is None
    assert p.tick(280) is MachineState.FREE
    assert p.state is MachineState.FREE


def test_a_pause_between_wash_and_spin_stays_running() -> None:
    p = PowerTracker(LIMITS)
    p.reading(500, 0)
    assert p.tick(30) is MachineState.BUSY
    assert p.reading(2, 60) is None  # soaking: 2 W for two minutes
    assert p.tick(179) is None
    assert p.reading(600, 180) is None  # the spin: the "done" clock starts again
    assert p.reading(2, 400) is None
    assert p.tick(579) is None and p.state is MachineState.BUSY


def test_hysteresis_between_the_thresholds_changes_nothing() -> None:
    p = PowerTracker(LIMITS)
    p.reading(500, 0)
    p.tick(30)
    for t in range(31, 1000, 10):  # wobbling between done_watts and running_watts
        assert p.reading(5 + (t % 10), t) is None
    assert p.state is MachineState.BUSY
    p = PowerTracker(LIMITS)
    p.reading(0, 0)
    assert p.tick(180) is MachineState.FREE
    for t in range(181, 1000, 10):
        assert p.reading(10, t) is None  # a standby light, never "running"
    assert p.state is MachineState.FREE


def test_a_short_burst_is_no_cycle() -> None:
    p = PowerTracker(LIMITS)
    p.reading(0, 0)
    p.tick(180)
    assert p.reading(900, 200) is None  # someone opened the door: the drum light, a pump
    assert p.reading(0, 210) is None
    assert p.tick(400) is None and p.state is MachineState.FREE
    assert p.next_deadline() is None


# -- payloads ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("power", b'{"Time":"2024-01-01T00:00:00","ENERGY":{"Total":1.2,"Power":512}}', 512.0),
        ("power", b'{"ENERGY":{"Power":[100, 23.5]}}', 123.5),
        ("power", b"42.5", 42.5),
        ("power", b" 0 \n", 0.0),
        ("power", b'{"id":0,"apower":1800.2}', 1800.2),
        ("power", b'{"power": 7}', 7.0),
    ],
)
def test_power_payloads(kind: str, payload: bytes, expected: float) -> None:
    assert parse(kind, payload).watts == expected


@pytest.mark.parametrize(
    ("kind", "payload", "state", "minutes"),
    [
        ("state", b"ON", MachineState.BUSY, None),
        ("state", b"off", MachineState.FREE, None),
        ("state", b"free", MachineState.FREE, None),
        ("state", b"busy", MachineState.BUSY, None),
        ("state", b"error", MachineState.OUT_OF_ORDER, None),
        ("json", b'{"state": "busy", "minutes_left": 34}', MachineState.BUSY, 34.0),
        ("json", b'{"state": "free"}', MachineState.FREE, None),
    ],
)
def test_state_payloads(
    kind: str, payload: bytes, state: MachineState, minutes: float | None
) -> None:
    reading = parse(kind, payload)
    assert (reading.state, reading.minutes_left) == (state, minutes)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("power", b""),
        ("power", b"lots"),
        ("power", b"-5"),
        ("power", b"nan"),
        ("power", b"true"),
        ("power", b'{"ENERGY": {"Voltage": 230}}'),
        ("power", b'{"ENERGY": {"Power": "x"}}'),
        ("power", b"\xff\xfe"),
        ("state", b"maybe"),
        ("json", b'{"state": "busy", "minutes_left": -3}'),
        ("json", b'{"state": "busy", "minutes_left": "soon"}'),
        ("json", b'{"minutes_left": 3}'),
        ("json", b"[1, 2]"),
        ("json", b"{not json"),
    ],
)
def test_malformed_payloads_raise_bad_payload(kind: str, payload: bytes) -> None:
    with pytest.raises(BadPayload):
        parse(kind, payload)


# -- topics and their configuration -------------------------------------------------------------


def feeds(*items: dict[str, object]) -> tuple[MachineFeed, ...]:
    return tuple(MachineFeed(**item) for item in items)  # type: ignore[arg-type]


def test_topic_patterns_and_exact_topics() -> None:
    topics = TopicMap(
        feeds(
            {"topic": "tele/washer-{n}/SENSOR"},
            {"topic": "tele/dryer-{n}/SENSOR", "offset": 10},
            {"topic": "shop/m7/state", "machine": 7, "payload": "state"},
        )
    )
    assert topics.subscriptions() == ["shop/m7/state", "tele/+/SENSOR"]
    hit = topics.match("tele/washer-4/SENSOR")
    assert hit is not None and hit.number == 4
    hit = topics.match("tele/dryer-2/SENSOR")
    assert hit is not None and hit.number == 12
    hit = topics.match("shop/m7/state")
    assert hit is not None and (hit.number, hit.feed.payload) == (7, "state")
    assert topics.match("tele/fridge/SENSOR") is None
    assert topics.match("tele/washer-4x/SENSOR") is None
    assert topics.match("tele/washer-4/SENSOR/extra") is None
    assert subscription("a/{n}/b") == "a/+/b"


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_machines_config_reads_feeds(tmp_path: Path) -> None:
    config = load_config(
        write_yaml(
            tmp_path / "laundrybot.yaml",
            "machines:\n  broker: localhost\n  password_file: mqtt.pw\n  feeds:\n"
            "    - {topic: 'tele/washer-{n}/SENSOR', done_seconds: 240}\n"
            "    - {topic: 'shop/7', machine: 7, payload: json, stale_after: 0}\n",
        )
    )
    assert config.machines.password_file == str(tmp_path / "mqtt.pw")
    assert config.machines.feeds[0].done_seconds == 240
    assert config.machines.feeds[1] == MachineFeed(
        topic="shop/7", machine=7, payload="json", stale_after=0
    )
    assert Config().machines.broker == ""  # off by default


@pytest.mark.parametrize(
    ("feed", "key", "expected"),
    [
        ("{topic: 'a/#'}", "machines.feeds[0].topic", "without MQTT wildcards"),
        ("{topic: 'a/{x}', machine: 1}", "machines.feeds[0].topic", "at most one"),
        ("{topic: 'a/b'}", "machines.feeds[0].machine", "the machine number"),
        ("{topic: 'a/{n}', machine: 3}", "machines.feeds[0].machine", "no machine number"),
        ("{topic: 'a/{n}', payload: xml}", "machines.feeds[0].payload", "one of power"),
        ("{topic: 'a/{n}', done_watts: 50}", "machines.feeds[0].done_watts", "at most"),
        ("{topic: 'a/{n}', colour: red}", "machines.feeds[0].colour", "a known setting"),
        ("{machine: 2}", "machines.feeds[0].topic", "an MQTT topic"),
        ("5", "machines.feeds[0]", "a mapping"),
    ],
)
def test_feed_errors_name_the_file_and_the_feed(
    tmp_path: Path, feed: str, key: str, expected: str
) -> None:
    path = write_yaml(tmp_path / "bad.yaml", f"machines:\n  feeds:\n    - {feed}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: expected"), message
    assert expected in message


def test_the_attendant_does_not_guess_the_state_of_a_machine_whose_sensor_is_silent() -> None:
    from laundrybot.dialog.engine import Dialog
    from laundrybot.dialog.knowledge import load_knowledge

    dialog = Dialog(load_knowledge(Path(__file__).parent.parent / "conf" / "knowledge.yaml"))
    now = datetime.datetime(2025, 3, 3, 15, 30, tzinfo=datetime.UTC)
    unknown = {4: MachineStatus(4, MachineState.UNKNOWN, None, now.timestamp(), "mqtt")}
    nothing: dict[int, MachineStatus] = {}
    said = dialog.answer("is washer 4 free?", unknown, now).text
    assert said == dialog.answer("is washer 4 free?", nothing, now).text
    assert "busy" not in said.lower()


def test_the_machines_message_for_the_kiosk_board() -> None:
    from laundrybot.dialog.knowledge import MachineInfo
    from laundrybot.machines.board import machines_message

    infos = [MachineInfo(1, "washer", "20 lb"), MachineInfo(12, "dryer", "30 lb")]
    statuses = {1: MachineStatus(1, MachineState.BUSY, 1000.0 + 33.5 * 60, 990.0, "mqtt")}
    message = json.loads(machines_message(infos, statuses, 1000.0))
    assert message == {
        "type": "machines",
        "machines": [
            {"number": 1, "kind": "washer", "size": "20 lb", "state": "busy",
             "minutes_left": 34, "source": "mqtt", "updated": 990.0},
            {"number": 12, "kind": "dryer", "size": "30 lb", "state": "unknown",
             "minutes_left": None, "source": None, "updated": None},
        ],
    }  # fmt: skip
