"""Telling systemd the truth: notify sequence, watchdog, reload, stop, socket activation."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from laundrybot.systemd import Notifier, listen_sockets, watchdog_interval

from .conftest import KNOWLEDGE, Kiosk, NotifyListener, kiosk, socket_activated
from .test_gateway import http_get


def ask_sync(url: str, question: str) -> dict:
    async def go() -> dict:
        async with kiosk(url) as k:
            return await k.ask(question)

    return asyncio.run(go())


# -- the pieces ---------------------------------------------------------------------------


def test_notifier_is_a_silent_no_op_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    assert notifier.notify("READY=1") is False


def test_notifier_sends_datagrams_and_folds_status_to_one_line(notify_socket):
    notifier = Notifier(str(notify_socket.path))
    notifier.ready("serving\n3 kiosks")
    message = notify_socket.wait_for("READY")
    assert message == {"READY": "1", "STATUS": "serving 3 kiosks"}
    notifier.reloading()
    reloading = notify_socket.wait_for("RELOADING")
    assert int(reloading["MONOTONIC_USEC"]) > 0


def test_notifier_survives_a_vanished_socket(tmp_path):
    notifier = Notifier(str(tmp_path / "gone.sock"))
    assert notifier.enabled
    assert notifier.notify("WATCHDOG=1") is False  # logged, not raised


def test_watchdog_interval_honours_watchdog_pid(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == pytest.approx(0.1)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval() == pytest.approx(0.1)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "0")
    monkeypatch.delenv("WATCHDOG_PID")
    assert watchdog_interval() is None


def test_listen_sockets_only_for_our_pid(monkeypatch):
    monkeypatch.setenv("LISTEN_FDS", "1")
    monkeypatch.setenv("LISTEN_PID", str(os.getpid() + 1))
    assert listen_sockets() == []
    assert "LISTEN_FDS" not in os.environ  # not passed on to children


# -- a real gateway process -------------------------------------------------------------


def test_notify_sequence_ready_watchdog_reload_stop(write_config, start_gateway_process):
    gw = start_gateway_process(write_config(), env={"WATCHDOG_USEC": "200000"})
    ready = gw.notify.wait_for("READY", "1")
    assert f"listening on 127.0.0.1:{gw.port}" in ready["STATUS"]
    ready_at = gw.notify.with_key("READY")[0][0]
    time.sleep(1.2)
    pings = [t for t, _ in gw.notify.with_key("WATCHDOG") if t > ready_at]
    # WATCHDOG_USEC/2 = 100 ms: about 12 pings; allow for a loaded machine.
    assert len(pings) >= 6, pings
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert sorted(gaps)[len(gaps) // 2] == pytest.approx(0.1, abs=0.05)

    gw.signal(signal.SIGHUP)
    reloading = gw.notify.wait_for("RELOADING", "1")
    assert int(reloading["MONOTONIC_USEC"]) > 0
    gw.notify.wait_for("READY", "1", count=2)
    reload_at = gw.notify.with_key("RELOADING")[0][0]
    ready_again = gw.notify.with_key("READY")[1][0]
    assert ready_again > reload_at

    assert gw.stop() == 0
    stopping = gw.notify.wait_for("STOPPING", "1")
    assert stopping["STOPPING"] == "1"


def test_status_line_counts_turns(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())
    ask_sync(gw.url, "what are your hours")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        statuses = [m["STATUS"] for _, m in gw.notify.with_key("STATUS")]
        if any("1 turns served" in s for s in statuses):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(statuses)


def test_graceful_stop_closes_kiosks_with_1001(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())

    async def go() -> int:
        async with connect(gw.url) as ws:
            k = Kiosk(ws)
            await k.hello()
            gw.signal(signal.SIGTERM)
            await ws.wait_closed()
            assert ws.close_code is not None
            return ws.close_code

    assert asyncio.run(go()) == 1001
    assert gw.proc.wait(15) == 0


def test_bad_knowledge_on_reload_keeps_the_old_one_serving(
    write_config, start_gateway_process, tmp_path
):
    knowledge = tmp_path / "knowledge.yaml"
    original = KNOWLEDGE.read_text()
    knowledge.write_text(original)
    gw = start_gateway_process(write_config({"knowledge": str(knowledge)}))
    before = ask_sync(gw.url, "how much is a wash")["text"]
    assert "3.50" in before

    knowledge.write_text(original.replace("price: 3.50", "price: cheap", 1))
    gw.signal(signal.SIGHUP)
    gw.notify.wait_for("READY", "1", count=2)
    assert ask_sync(gw.url, "how much is a wash")["text"] == before
    code, body = http_get(gw.http + "/readyz")
    # Still serving, with the old knowledge: degraded, not down.
    assert code == 200 and json.loads(body)["state"] == "degraded"
    assert "config" in json.loads(body)["degraded"]
    config_state = json.loads(body)["dependencies"]["config"]
    assert config_state["ok"] is False
    assert "knowledge.yaml" in config_state["detail"] and "price" in config_state["detail"]
    assert "reload refused" in gw.notify.with_key("READY")[1][1]["STATUS"]

    knowledge.write_text(original.replace("price: 3.50", "price: 3.75", 1))
    gw.signal(signal.SIGHUP)
    gw.notify.wait_for("READY", "1", count=3)
    assert "3.75" in ask_sync(gw.url, "how much is a wash")["text"]
    assert http_get(gw.http + "/readyz")[0] == 200
    assert gw.stop() == 0


def test_bad_config_on_reload_keeps_serving(write_config, start_gateway_process, tmp_path):
    config = write_config()
    gw = start_gateway_process(config)
    config.write_text(config.read_text() + "\ngateway:\n  limits:\n    max_connections: 0\n")
    gw.signal(signal.SIGHUP)
    gw.notify.wait_for("READY", "1", count=2)
    code, body = http_get(gw.http + "/readyz")
    detail = json.loads(body)["dependencies"]["config"]["detail"]
    assert code == 200 and json.loads(body)["state"] == "degraded"
    assert "gateway.limits.max_connections" in detail
    assert ask_sync(gw.url, "what are your hours")["intent"] == "hours"


def test_socket_activation_serves_on_the_passed_socket(
    write_config, start_gateway_process, tmp_path
):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    # A kiosk connecting before the gateway runs waits in the socket's backlog, not refused.
    early = socket.create_connection(("127.0.0.1", port))
    config = write_config({"gateway": {"listen": "127.0.0.1:1"}})  # ignored: systemd's socket wins
    gw = start_gateway_process(
        config,
        command=socket_activated(listener.fileno(), "gateway", config),
        pass_fds=(listener.fileno(),),
    )
    assert gw.port == port

    async def go() -> None:
        async with connect(f"ws://127.0.0.1:{port}/kiosk", sock=early) as ws:
            k = Kiosk(ws)
            await k.hello()
            assert (await k.ask("what are your hours"))["intent"] == "hours"

    asyncio.run(go())
    listener.close()
    assert gw.stop() == 0


# -- the watchdog and a blocked event loop (in this process, to block its loop) ------------


async def test_blocked_event_loop_stops_the_pings(
    write_config, start_gateway, notify_socket: NotifyListener, monkeypatch
):
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify_socket.path))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    gw = await start_gateway(write_config({"health": {"max_loop_lag": 0.5}}))
    await asyncio.sleep(0.6)
    time.sleep(1.5)  # block this event loop, as a hung handler would
    blocked_at = time.monotonic()
    await asyncio.sleep(1.0)
    pings = [t for t, _ in notify_socket.with_key("WATCHDOG")]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    # While the loop was blocked no ping went out; right after it, the lag it left was
    # too big for one more; then the pings resume.
    assert max(gaps) >= 1.5
    assert any(t > blocked_at + 0.3 for t in pings)
    skipped = gw.runner.metrics.watchdog_skipped._value.get()
    assert skipped >= 1


def test_spool_dir_must_not_be_a_file_but_the_gateway_still_answers(
    write_config, start_gateway_process, tmp_path: Path
):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    gw = start_gateway_process(write_config({"store": {"spool": str(blocker / "spool.sqlite")}}))
    assert ask_sync(gw.url, "what are your hours")["intent"] == "hours"
    code, body = http_get(gw.http + "/readyz")
    spool = json.loads(body)["dependencies"]["spool"]
    assert code == 503 and spool["ok"] is False and "not-a-dir" in spool["detail"]
    assert gw.stop() == 0
