"""laundrybot serve machines against a real mosquitto (tests/mqtt_fixtures.py): power readings
and their hold times, retained state at start, a broker restart, bad TLS and credentials,
malformed payloads, silent feeds, and a load of 10,000 messages a minute."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from laundrybot import unitmetrics
from laundrybot.config import load_config
from laundrybot.machines.state import MachineState
from laundrybot.store.spool import SpoolDB

from .mqtt_fixtures import Broker, eventually, publish

FAST = {"reconnect_min": 0.05, "reconnect_max": 0.5, "keepalive": 5}
FEEDS = [
    {"topic": "tele/washer-{n}/SENSOR", "payload": "power", "running_watts": 15,
     "running_seconds": 0.3, "done_watts": 5, "done_seconds": 1.0, "stale_after": 0},
    {"topic": "shop/state/{n}", "payload": "state", "offset": 100, "stale_after": 0},
    {"topic": "shop/json/{n}", "payload": "json", "offset": 200, "stale_after": 0},
]  # fmt: skip


def machines_config(write_config: Callable[..., Path], mqtt: Broker, **extra: Any) -> Path:
    settings: dict[str, Any] = {"broker": "127.0.0.1", "port": mqtt.port, "feeds": FEEDS}
    return write_config({"machines": FAST | settings | extra})


def spool_changes(config_path: Path, tmp_path: Path) -> list[tuple[int, str]]:
    """(machine, state) of every machine-change event in the spool, in order."""
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    try:
        rows = db.conn.execute(
            "SELECT machine, detail FROM events WHERE kind = 'machine-change' ORDER BY ts"
        ).fetchall()
    finally:
        db.close()
    return [(m, json.loads(d)["state"]) for m, d in rows]


def spool_machines(tmp_path: Path) -> dict[int, Any]:
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    try:
        return db.machines()
    finally:
        db.close()


def last_status(notify_socket: Any) -> str:
    found = notify_socket.with_key("STATUS")
    return str(found[-1][1]["STATUS"]) if found else ""


async def test_no_broker_the_unit_idles_and_says_so(
    write_config: Callable[..., Path], start_units: Any, notify_socket: Any
) -> None:
    units = await start_units(write_config(), ["machines"])
    ready = notify_socket.wait_for("READY", "1")
    assert "no MQTT broker configured" in ready["STATUS"]
    assert await units.stop() == 0


async def test_power_readings_with_hold_times_and_a_pause_mid_cycle(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    tmp_path: Path,
) -> None:
    config = machines_config(write_config, mosquitto)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: service.connected)
    topic = "tele/washer-4/SENSOR"

    async def feed(watts: float, seconds: float) -> None:
        async with mosquitto.client() as client:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                reading = {"ENERGY": {"Power": watts}}
                await client.publish(topic, json.dumps(reading), qos=1)
                await asyncio.sleep(0.05)

    await feed(0, 1.3)  # idle long enough for "done": free
    await eventually(lambda: spool_changes(config, tmp_path) == [(4, "free")])
    await feed(8, 0.5)  # a standby light between the thresholds: still free
    await feed(500, 0.5)  # heating
    await eventually(lambda: spool_changes(config, tmp_path)[-1] == (4, "busy"))
    await feed(2, 0.6)  # soaking before the spin: shorter than done_seconds
    await feed(650, 0.4)  # the spin
    await feed(1, 0.5)
    assert spool_changes(config, tmp_path) == [(4, "free"), (4, "busy")]
    # Done: no more readings at all, the last one (1 W) holds until done_seconds are up.
    await eventually(lambda: spool_changes(config, tmp_path)[-1] == (4, "free"), timeout=3)
    assert spool_changes(config, tmp_path) == [(4, "free"), (4, "busy"), (4, "free")]
    status = spool_machines(tmp_path)[4]
    assert (status.state, status.source) == (MachineState.FREE, "mqtt")
    assert await units.stop() == 0


async def test_retained_messages_give_the_state_at_start(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    tmp_path: Path,
) -> None:
    await publish(
        mosquitto,
        ("shop/state/3", "busy", True),
        ("shop/state/5", "OFF", True),
        ("shop/json/1", '{"state": "busy", "minutes_left": 34}', True),
    )
    config = machines_config(write_config, mosquitto)
    started = time.time()
    units = await start_units(config, ["machines"])
    await eventually(lambda: len(spool_machines(tmp_path)) == 3)
    machines = spool_machines(tmp_path)
    assert machines[103].state is MachineState.BUSY and machines[103].source == "mqtt"
    assert machines[105].state is MachineState.FREE
    assert machines[201].state is MachineState.BUSY
    assert machines[201].until == pytest.approx(started + 34 * 60, abs=5)
    assert await units.stop() == 0


async def test_a_broker_restart_loses_and_doubles_nothing(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    notify_socket: Any,
    tmp_path: Path,
) -> None:
    config = machines_config(write_config, mosquitto)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: service.connected)
    await publish(mosquitto, ("shop/state/1", "busy", True), ("shop/state/2", "free", True))
    await eventually(lambda: len(spool_changes(config, tmp_path)) == 2)

    mosquitto.stop()
    await eventually(lambda: not service.connected)
    await eventually(lambda: "broker" in last_status(notify_socket) and "refused" in
                     last_status(notify_socket))  # fmt: skip
    assert units.runner.readiness.get("broker").ok is False
    mosquitto.start()
    # Published the moment the broker is back, before the unit has reconnected: the broker
    # keeps them for the unit's persistent session.
    await publish(
        mosquitto,
        ("shop/state/1", "free", True),
        ("shop/state/3", "busy", True),
        ("shop/state/2", "free", True),  # a repeat: no change
    )
    await eventually(lambda: service.connected)
    await eventually(lambda: len(spool_changes(config, tmp_path)) >= 4)
    await asyncio.sleep(0.5)  # the retained messages of the resubscription, if any
    assert spool_changes(config, tmp_path) == [
        (101, "busy"), (102, "free"), (101, "free"), (103, "busy"),
    ]  # fmt: skip
    assert service._link.connects >= 2
    assert "connected" in last_status(notify_socket)
    assert await units.stop() == 0


async def test_bad_tls_is_reported_and_retried_then_the_right_ca_connects(
    make_broker: Callable[..., Broker],
    write_config: Callable[..., Path],
    start_units: Any,
    notify_socket: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "laundrybot.machines")
    broker = make_broker(tls=True)
    # The system's CAs do not know the test CA: the certificate is refused.
    config = machines_config(write_config, broker, broker="localhost", tls=True)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: "TLS failed" in last_status(notify_socket))
    attempts = service._link.attempts
    await eventually(lambda: service._link.attempts >= attempts + 2)
    assert "certificate verify failed" in caplog.text.lower()
    assert not service.connected
    assert await units.stop() == 0
    # Plain MQTT to a TLS port is no better, and says so too.
    config = machines_config(
        write_config, broker, broker="localhost", tls=False, connect_timeout=0.5
    )
    units = await start_units(config, ["machines"])
    await eventually(lambda: "a TLS port without machines.tls" in last_status(notify_socket))
    assert await units.stop() == 0
    config = machines_config(
        write_config, broker, broker="localhost", tls=True, ca_file=str(broker.ca)
    )
    units = await start_units(config, ["machines"])
    await eventually(lambda: units.service("machines").connected)
    await publish(broker, ("shop/state/9", "busy", True))
    await eventually(lambda: 109 in units.service("machines").tracks)
    assert await units.stop() == 0


async def test_bad_credentials_are_reported_retried_and_a_fixed_file_is_read(
    make_broker: Callable[..., Broker],
    write_config: Callable[..., Path],
    start_units: Any,
    notify_socket: Any,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO, "laundrybot.machines")
    broker = make_broker(users={"laundrybot": "right horse battery"})
    password = tmp_path / "mqtt-password"
    password.write_text("wrong\n")
    config = machines_config(
        write_config, broker, username="laundrybot", password_file=str(password)
    )
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: "refused the login" in last_status(notify_socket))
    attempts = service._link.attempts
    await eventually(lambda: service._link.attempts >= attempts + 2)
    assert "refused the login" in caplog.text
    assert "wrong" not in last_status(notify_socket) and "wrong" not in caplog.text
    # Logged once per reason, not once per attempt.
    assert caplog.text.count("refused the login") < service._link.attempts
    password.write_text("right horse battery\n")  # read again on the next attempt
    await eventually(lambda: service.connected)
    assert "connected" in last_status(notify_socket)
    assert await units.stop() == 0


async def test_malformed_payloads_are_counted_logged_once_and_change_nothing(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.INFO, "laundrybot.machines")
    config = machines_config(write_config, mosquitto, max_payload_bytes=256)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: service.connected)
    await publish(mosquitto, ("shop/state/1", "busy", False))
    await eventually(lambda: spool_changes(config, tmp_path) == [(101, "busy")])
    bad: list[tuple[str, str | bytes, bool]] = [
        ("shop/state/1", "maybe", False),
        ("shop/state/1", "", False),
        ("shop/state/1", b"\xff\xfe", False),
        ("shop/json/1", "{broken", False),
        ("shop/json/1", '{"state": "busy", "minutes_left": -1}', False),
        ("tele/washer-1/SENSOR", '{"ENERGY": {"Voltage": 230}}', False),
        ("shop/state/1", "busy" + " " * 300, False),  # over max_payload_bytes
    ]
    await publish(mosquitto, *bad, ("shop/state/unmapped", "free", False))
    await eventually(lambda: service.received == 1 + len(bad) + 1)
    assert service.malformed == len(bad)
    assert spool_changes(config, tmp_path) == [(101, "busy")]
    assert spool_machines(tmp_path)[101].state is MachineState.BUSY
    assert caplog.text.count("ignored a message on shop/state/1") == 1
    assert caplog.text.count("ignored a message on shop/json/1") == 1
    registry = units.runner.metrics.registry
    malformed = registry.get_sample_value(
        "laundrybot_machines_messages_total", {"result": "malformed"}
    )
    unmapped = registry.get_sample_value(
        "laundrybot_machines_messages_total", {"result": "unmapped"}
    )
    assert (malformed, unmapped) == (len(bad), 1)
    assert await units.stop() == 0


async def test_a_silent_feed_makes_its_machine_unknown_until_it_speaks(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    tmp_path: Path,
) -> None:
    feeds = [{"topic": "shop/state/{n}", "payload": "state", "stale_after": 0.6}]
    config = machines_config(write_config, mosquitto, feeds=feeds)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: service.connected)
    await publish(mosquitto, ("shop/state/6", "busy", False))
    await eventually(lambda: spool_changes(config, tmp_path) == [(6, "busy"), (6, "unknown")])
    assert spool_machines(tmp_path)[6].state is MachineState.UNKNOWN
    registry = units.runner.metrics.registry
    assert registry.get_sample_value("laundrybot_machines_unknown") == 1
    await publish(mosquitto, ("shop/state/6", "busy", False))
    await eventually(lambda: spool_changes(config, tmp_path)[-1] == (6, "busy"))
    assert await units.stop() == 0


@pytest.mark.slow
async def test_a_load_of_10000_messages_a_minute(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    notify_socket: Any,
    tmp_path: Path,
    short_runtime: Path,
) -> None:
    """The unit as its own process (as systemd runs it), 167 readings a second from 60
    machines for 30 s: every message is handled, CPU and memory stay small."""
    seconds = float(os.environ.get("LAUNDRYBOT_MQTT_LOAD_SECONDS", "30"))
    rate = 10_000 / 60
    config = machines_config(write_config, mosquitto)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    env |= {"NOTIFY_SOCKET": str(notify_socket.path)}
    log = tmp_path / "machines.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "machines", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        notify_socket.wait_for("READY", "1")
        # Subscribed: readings published before that would be nobody's.
        await eventually(lambda: "connected" in last_status(notify_socket), timeout=20)
        unit = psutil.Process(proc.pid)
        cpu_before = unit.cpu_times()
        sent = 0
        started = time.monotonic()
        async with mosquitto.client() as client:
            while (elapsed := time.monotonic() - started) < seconds:
                due = int(elapsed * rate) + 1
                while sent < due:
                    machine = sent % 60 + 1
                    watts = 500 if (sent // 600) % 2 else 1  # cycles start and end
                    payload = json.dumps({"ENERGY": {"Power": watts + machine % 7}})
                    await client.publish(f"tele/washer-{machine}/SENSOR", payload, qos=1)
                    sent += 1
                await asyncio.sleep(0.005)
        took = time.monotonic() - started

        async def handled() -> float:
            text = await unitmetrics.fetch(
                unitmetrics.socket_path(load_config(config).runtime_path, "machines")
            )
            for line in text.splitlines():
                if line.startswith('laundrybot_machines_messages_total{result="applied"}'):
                    return float(line.split()[-1])
            return 0.0

        deadline = time.monotonic() + 20
        while await handled() < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert await handled() == sent
        cpu_after = unit.cpu_times()
        cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
        rss = unit.memory_info().rss / 2**20
        print(
            f"\n[machines load] {sent} messages in {took:.1f} s ({sent / took * 60:.0f}/min):"
            f" unit CPU {cpu:.2f} s ({cpu / took * 100:.1f}% of one core), RSS {rss:.0f} MB"
        )
        assert cpu / took < 0.5
        assert rss < 200
    finally:
        proc.terminate()
        assert proc.wait(20) == 0, log.read_text()[-3000:]


def board_state(message: dict[str, Any], number: int) -> tuple[str, int | None]:
    entry = next(m for m in message["machines"] if m["number"] == number)
    return entry["state"], entry["minutes_left"]


async def test_a_sensor_message_reaches_a_kiosk_answer_within_a_second(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    notify_socket: Any,
    start_gateway: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    short_runtime: Path,
) -> None:
    """End to end as systemd runs it: mosquitto -> the machines unit (its own process) ->
    the spool -> the gateway (PRAGMA data_version, store.machine_refresh at its default) ->
    a kiosk asking "is washer 4 free?". Each sample is timed from just before the publish to
    the answer that says the new state (the kiosk waits for the board push, then asks: the
    push and the answers read the same status, so this is the earliest answer that can)."""
    from .conftest import kiosk

    # short_runtime: $XDG_RUNTIME_DIR short enough for the per-config socket paths.
    runtime = short_runtime
    feeds = [{"topic": "shop/machine/{n}", "payload": "json", "stale_after": 0}]
    settings = FAST | {"broker": "127.0.0.1", "port": mosquitto.port, "feeds": feeds}
    config = write_config({"machines": settings, "store": {"machine_refresh": 0.25}})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    env |= {"NOTIFY_SOCKET": str(notify_socket.path), "XDG_RUNTIME_DIR": str(runtime)}
    log = tmp_path / "machines.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "machines", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        await eventually(lambda: "connected" in last_status(notify_socket), timeout=20)
        gw = await start_gateway(config)
        delays = []
        async with kiosk(gw.url) as k, mosquitto.client() as client:
            await k.recv_type("machines")
            for i in range(20):
                busy = i % 2 == 0
                minutes = 30 + i
                payload = {"state": "busy", "minutes_left": minutes} if busy else {"state": "free"}
                expected = ("busy", minutes) if busy else ("free", None)
                started = time.monotonic()
                await client.publish("shop/machine/4", json.dumps(payload), qos=1)
                while board_state(await k.recv_type("machines"), 4) != expected:
                    pass
                reply = await k.ask("is washer 4 free?")
                delays.append(time.monotonic() - started)
                said = f"about {minutes} minutes left" if busy else "free right now"
                assert said in reply["text"], reply["text"]
                await asyncio.sleep(0.1 + (i % 5) * 0.05)  # not in step with the looks
        delays.sort()
        p50, p95 = delays[len(delays) // 2], delays[int(len(delays) * 0.95) - 1]
        print(
            f"\n[machines] delay p50 {p50 * 1000:.0f} ms p95 {p95 * 1000:.0f} ms"
            f" (max {delays[-1] * 1000:.0f} ms, {len(delays)} sensor messages, mosquitto ->"
            " machines unit -> spool -> gateway -> kiosk answer)"
        )
        assert p95 < 1.0
        # The gateway's readiness: broker reachable, no silent sensor.
        dep = gw.service.ctx.readiness.get("machines")
        assert dep is not None and dep.ok, dep
    finally:
        proc.terminate()
        assert proc.wait(20) == 0, log.read_text()[-3000:]


async def test_readyz_machines_is_degraded_while_the_broker_is_away_or_a_sensor_is_silent(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    short_runtime: Path,
) -> None:
    from laundrybot.gateway import machinefeed

    monkeypatch.setattr(machinefeed, "HEALTH_INTERVAL", 0.2)
    feeds = [{"topic": "shop/state/{n}", "payload": "state", "stale_after": 1.0}]
    config = machines_config(write_config, mosquitto, feeds=feeds)
    machines = await start_units(config, ["machines"])  # a process of its own under systemd
    service = machines.service("machines")
    await eventually(lambda: service.connected)
    gateway = await start_units(config, ["gateway"])
    readiness = gateway.runner.readiness

    def machines_dep() -> tuple[bool, str]:
        dep = readiness.get("machines")
        return (dep.ok, dep.detail) if dep is not None else (False, "not set")

    await eventually(lambda: machines_dep() == (True, ""))
    await publish(mosquitto, ("shop/state/6", "busy", False))
    # Silent for over stale_after: the unit makes it unknown, the gateway says so.
    await eventually(lambda: "machine 6" in machines_dep()[1], timeout=5)
    assert machines_dep()[0] is False
    assert "sensor silent" in machines_dep()[1]
    await publish(mosquitto, ("shop/state/6", "free", False))
    await eventually(lambda: machines_dep()[0] is True, timeout=5)
    mosquitto.stop()
    await eventually(lambda: "broker" in machines_dep()[1], timeout=10)
    status = json.loads(await asyncio.to_thread(lambda: _get(gateway.http + "/readyz")))[
        "dependencies"
    ]["machines"]
    assert status["ok"] is False and "unreachable" in status["detail"]
    mosquitto.start()
    await eventually(lambda: machines_dep()[0] is True, timeout=10)
    await machines.stop()
    await eventually(lambda: "not answering" in machines_dep()[1], timeout=5)
    assert await gateway.stop() == 0


def _get(url: str) -> str:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())


async def test_a_change_of_the_gateway_api_settings_does_not_reconnect_the_unit(
    mosquitto: Broker,
    write_config: Callable[..., Path],
    start_units: Any,
    tmp_path: Path,
) -> None:
    from laundrybot.config import load_config

    config = machines_config(write_config, mosquitto)
    units = await start_units(config, ["machines"])
    service = units.service("machines")
    await eventually(lambda: service.connected)
    registry = units.runner.metrics.registry
    assert registry.get_sample_value("laundrybot_machines_broker_connects_total") == 1
    token = str(tmp_path / "token")
    changed = machines_config(write_config, mosquitto, api_token_file=token, api_rate=3)
    (await service.prepare_reload(load_config(changed)))()
    await asyncio.sleep(0.5)
    assert service.connected
    assert registry.get_sample_value("laundrybot_machines_broker_connects_total") == 1
    assert await units.stop() == 0
