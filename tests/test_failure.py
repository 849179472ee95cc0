"""`laundrybot record-failure UNIT`: run by systemd from ExecStopPost= and OnFailure=."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from laundrybot.config import load_config
from laundrybot.failure import failure_event, record_failure
from laundrybot.store.spool import SpoolDB

INVOCATION = "0123456789abcdef0123456789abcdef"
# What an OnFailure= unit gets (the unit gave up).
MONITOR = {
    "MONITOR_SERVICE_RESULT": "start-limit-hit",
    "MONITOR_EXIT_CODE": "exited",
    "MONITOR_EXIT_STATUS": "1",
    "MONITOR_INVOCATION_ID": INVOCATION,
    "MONITOR_UNIT": "laundrybot-gateway.service",
}
# What ExecStopPost= gets after a watchdog kill (the unit restarts).
STOP_POST = {
    "SERVICE_RESULT": "watchdog",
    "EXIT_CODE": "dumped",
    "EXIT_STATUS": "ABRT",
    "INVOCATION_ID": INVOCATION,
}


def events(spool) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    if not spool.exists():
        return []
    db = SpoolDB(spool, "shop")
    try:
        rows = db.conn.execute("SELECT kind, detail, forwarded_at FROM events").fetchall()
    finally:
        db.close()
    assert all(forwarded is None for _, _, forwarded in rows)  # waiting for the recorder
    return [(kind, json.loads(detail)) for kind, detail, _ in rows]


def test_the_event_carries_what_systemd_said():
    event = failure_event("laundrybot-gateway.service", STOP_POST)
    assert event is not None and event.kind == "unit-failure"
    assert event.detail == {
        "unit": "laundrybot-gateway.service",
        "result": "watchdog",
        "exit_code": "dumped",
        "exit_status": "ABRT",
        "invocation_id": INVOCATION,
        "via": "ExecStopPost",
    }
    gave_up = failure_event("laundrybot-gateway.service", MONITOR)
    assert gave_up is not None
    assert gave_up.detail["result"] == "start-limit-hit"
    assert gave_up.detail["via"] == "OnFailure"
    by_hand = failure_event("laundrybot-asr.service", {})
    assert by_hand is not None
    assert by_hand.detail == {
        "unit": "laundrybot-asr.service",
        "result": "unknown",
        "via": "command",
    }
    # ExecStopPost= also runs after a clean stop: nothing to record.
    assert failure_event("laundrybot-asr.service", {"SERVICE_RESULT": "success"}) is None


def test_record_failure_writes_each_failure_and_refuses_garbage(write_config, tmp_path, capsys):
    config = load_config(write_config())
    spool = tmp_path / "spool.sqlite"
    assert record_failure(config, "laundrybot-gateway.service", {"SERVICE_RESULT": "success"}) == 0
    assert events(spool) == []
    assert record_failure(config, "laundrybot-gateway.service", STOP_POST) == 0
    assert "failure of laundrybot-gateway.service: watchdog" in capsys.readouterr().out
    # Then it gives up: OnFailure= says so, with the last try's result (systemd 252).
    gave_up = {"MONITOR_" + key: value for key, value in STOP_POST.items()}
    assert record_failure(config, "laundrybot-gateway.service", gave_up) == 0
    assert "has failed for good" in capsys.readouterr().out
    assert record_failure(config, "not a unit; rm -rf /", MONITOR) == 2
    assert "is not a systemd unit name" in capsys.readouterr().err
    recorded = [(kind, d["result"], d["via"]) for kind, d in events(spool)]
    assert recorded == [
        ("unit-failure", "watchdog", "ExecStopPost"),
        ("unit-failure", "watchdog", "OnFailure"),
    ]


def test_record_failure_command_as_systemd_runs_it(tmp_path):
    # As ExecStopPost= does: no --config, the spool from $STATE_DIRECTORY.
    state = tmp_path / "state"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MONITOR_") and k not in ("SERVICE_RESULT", "INVOCATION_ID")
    }
    env |= {"STATE_DIRECTORY": str(state), "SERVICE_RESULT": "signal"}
    env |= {"EXIT_CODE": "killed", "EXIT_STATUS": "KILL"}
    env["LAUNDRYBOT_CONFIG"] = ""  # built-in defaults, not a config of this machine
    command = [sys.executable, "-m", "laundrybot", "record-failure", "laundrybot-tts.service"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "laundrybot-tts.service: signal (exit_code=killed, exit_status=KILL" in done.stdout
    [(kind, detail)] = events(state / "spool.sqlite")
    assert (kind, detail["unit"], detail["result"]) == (
        "unit-failure",
        "laundrybot-tts.service",
        "signal",
    )
