"""Malformed frames never kill the gateway nor grow its memory beyond a bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .conftest import KNOWLEDGE, NotifyListener, port_from_status
from .test_gateway import http_get

TYPES = ["hello", "text", "ping", "audio-start", "audio-stop", "interrupt", "dance", "", "HELLO"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES)},
    optional={
        "kiosk": json_values | st.from_regex(r"[a-z0-9-]{1,70}", fullmatch=True),
        "text": json_values | st.text(max_size=700),
        "resume": json_values | st.from_regex(r"[0-9a-f]{32}", fullmatch=True),
        "lang": json_values,
        "token": json_values,
        "rate": json_values | st.sampled_from([16000, 8000, 0, -1]),
        "id": json_values,
    },
)
frames = st.one_of(
    messages.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
    st.binary(max_size=3000),
    st.just('{"type": "text", "text": "' + "x" * 70000 + '"}'),  # over max_message_bytes
    st.just("[" * 5000 + "]" * 5000),  # deep nesting
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[tuple[str, psutil.Process]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    config = tmp / "laundrybot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "knowledge": str(KNOWLEDGE),
                "gateway": {
                    "listen": "127.0.0.1:0",
                    "limits": {"messages_per_second": 5000, "message_burst": 5000},
                },
                "store": {"spool": str(tmp / "spool.sqlite")},
            }
        )
    )
    notify = NotifyListener(tmp / "notify.sock")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    env["NOTIFY_SOCKET"] = str(notify.path)
    log = (tmp / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "gateway", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        port = port_from_status(notify.wait_for("READY", "1")["STATUS"])
        yield f"127.0.0.1:{port}", psutil.Process(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        notify.close()


async def send_frames(address: str, batch: list[str | bytes]) -> None:
    """Send the frames, reconnecting when the server closes on one (too big, bad hello...)."""
    pending = list(batch)
    while pending:
        with contextlib.suppress(ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
            async with connect(f"ws://{address}/kiosk", max_size=2**20, open_timeout=10) as ws:
                while pending:
                    await ws.send(pending.pop(0))
                    # Read whatever came back, so the server's writes never back up.
                    with contextlib.suppress(TimeoutError):
                        while True:
                            await asyncio.wait_for(ws.recv(), 0.005)


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


def test_malformed_frames_never_kill_the_gateway(gateway):
    address, process = gateway
    asyncio.run(send_frames(address, ['{"type": "hello", "kiosk": "warm"}'] + ["{}"] * 200))
    baseline = rss_mb(process)
    sent = 0

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(frames, min_size=1, max_size=20))
    def fuzz(batch: list[str | bytes]) -> None:
        nonlocal sent
        asyncio.run(send_frames(address, batch))
        sent += len(batch)
        assert process.is_running() and process.status() != psutil.STATUS_ZOMBIE

    fuzz()
    time.sleep(0.5)
    code, body = http_get(f"http://{address}/healthz")
    grown = rss_mb(process) - baseline
    print(f"\nfuzz: {sent} frames sent, RSS {baseline:.1f} -> {rss_mb(process):.1f} MB")
    assert code == 200, body
    # A real answer still comes back.
    assert asyncio.run(ask(address, "what are your hours"))["intent"] == "hours"
    assert grown < 40, f"RSS grew by {grown:.1f} MB"


async def ask(address: str, question: str) -> dict:
    async with connect(f"ws://{address}/kiosk") as ws:
        await ws.send(json.dumps({"type": "hello", "kiosk": "after-fuzz"}))
        await ws.send(json.dumps({"type": "text", "text": question}))
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "reply":
                return message
