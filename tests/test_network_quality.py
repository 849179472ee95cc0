"""Network quality per kiosk, over a flaky link: a loopback TCP proxy between the kiosk and the
gateway adds delay and drops connections. The figures (keepalive RTT, reconnects, resumed
sessions, bytes, time offline, last seen) must show it, and the conversation must resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from laundrybot.gateway import protocol
from laundrybot.status import collect, format_status
from laundrybot.store.spool import SpoolDB

from .conftest import Kiosk, kiosk
from .pg_fixtures import await_until


class FlakyProxy:
    """127.0.0.1:PORT -> upstream, adding ``delay`` seconds each way; ``drop()`` cuts every
    connection and refuses new ones for ``down_for`` seconds."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream = upstream
        self.delay = delay
        self.down_until = 0.0
        self.port = 0
        self.accepted = 0
        self.refused = 0
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> FlakyProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/kiosk"

    def drop(self, down_for: float = 0.0) -> None:
        self.down_until = time.monotonic() + down_for
        for client, upstream in list(self._links):
            client.transport.abort()
            upstream.transport.abort()
        self._links.clear()

    async def stop(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self.down_until:
            self.refused += 1
            writer.transport.abort()
            return
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while True:
                data = await src.read(65536)
                if not data:
                    break
                await asyncio.sleep(self.delay)  # the link's latency, in this direction
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(Exception):
            dst.close()


def metric_values(http: str) -> dict[tuple[str, str], float]:
    """(sample name, kiosk label) -> value, for the kiosk samples of /metrics."""
    with urllib.request.urlopen(http + "/metrics", timeout=5) as response:
        text = response.read().decode()
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("laundrybot_kiosk_") and "le" not in sample.labels:
                out[(sample.name, sample.labels.get("kiosk", ""))] = sample.value
    return out


def reconnect_events(spool: Path, kiosk: str) -> list[dict[str, Any]]:
    db = SpoolDB(spool, "shop")
    try:
        rows = db.conn.execute(
            "SELECT detail FROM events WHERE kind = 'kiosk-reconnected' AND kiosk = ?", (kiosk,)
        ).fetchall()
    finally:
        db.close()
    return [json.loads(d) for (d,) in rows]


def test_hello_offline_ms_is_validated() -> None:
    hello = protocol.parse('{"type":"hello","kiosk":"k","offline_ms":1234}', 500)
    assert isinstance(hello, protocol.Hello) and hello.offline_ms == 1234
    plain = protocol.parse('{"type":"hello","kiosk":"k"}', 500)
    assert isinstance(plain, protocol.Hello) and plain.offline_ms is None
    for bad in ("-1", '"5"', "true", "1e15", "NaN", "[]"):
        with pytest.raises(protocol.ProtocolError) as raised:
            protocol.parse(f'{{"type":"hello","kiosk":"k","offline_ms":{bad}}}', 500)
        assert raised.value.code == protocol.BAD_MESSAGE


async def test_a_flaky_link_shows_in_the_figures_and_the_conversation_resumes(
    write_config: Any, start_gateway: Any, tmp_path: Path
) -> None:
    config = write_config({"gateway": {"ping_interval": 1, "ping_timeout": 10}})
    gw = await start_gateway(config)
    host, port = gw.service.address.rsplit(":", 1)
    proxy = await FlakyProxy((host, int(port)), delay=0.06).start()
    try:
        async with connect(proxy.url, open_timeout=10) as ws:
            k = Kiosk(ws)
            welcome = await k.hello("flaky-1")
            first = await k.ask("how much is a wash?")
            await asyncio.sleep(3.5)  # keepalive pings every second, through the delay
            proxy.drop(down_for=0.5)
            lost_at = time.monotonic()
            with pytest.raises(Exception):  # noqa: B017 (the connection is gone, any way)
                await k.recv(timeout=5)
        await asyncio.sleep(0.6)
        async with connect(proxy.url, open_timeout=10) as ws:
            k = Kiosk(ws)
            offline_ms = round((time.monotonic() - lost_at) * 1000)
            back = await k.hello(
                "flaky-1",
                resume=welcome["session"],
                resume_token=welcome["resume_token"],
                offline_ms=offline_ms,
            )
            assert back["resumed"] is True
            assert back["history"][0]["question"] == "how much is a wash?"
            assert back["history"][0]["answer"] == first["text"]
            again = await k.ask("what are your hours")
            assert again["intent"] == "hours"
            await asyncio.sleep(1.5)  # one more flush of the link figures
            figures = await asyncio.to_thread(metric_values, gw.http)
    finally:
        await proxy.stop()

    def get(name: str) -> float:
        return figures.get((f"laundrybot_kiosk_{name}", "flaky-1"), 0.0)

    rtt_count, rtt_sum = get("rtt_seconds_count"), get("rtt_seconds_sum")
    mean_rtt = rtt_sum / rtt_count if rtt_count else 0.0
    events = await asyncio.to_thread(reconnect_events, tmp_path / "spool.sqlite", "flaky-1")
    print(
        f"\n[flaky link: 60 ms each way, one drop] keepalive RTT samples {rtt_count:.0f}, "
        f"mean {mean_rtt * 1000:.0f} ms; reconnects {get('reconnects_total'):.0f}, resumed "
        f"{get('sessions_resumed_total'):.0f}, offline reported {get('offline_seconds_total'):.2f}"
        f" s; bytes in {get('received_bytes_total'):.0f}, out {get('sent_bytes_total'):.0f}; "
        f"last seen {get('last_seen_seconds'):.1f} s ago; spool events {events}"
    )
    assert rtt_count >= 2
    assert 0.1 <= mean_rtt < 2.0  # 60 ms each way, plus the loop's own time
    assert get("reconnects_total") == 1 and get("sessions_resumed_total") == 1
    assert get("offline_seconds_total") == pytest.approx(offline_ms / 1000)
    assert get("received_bytes_total") > 500 and get("sent_bytes_total") > 1000
    assert get("last_seen_seconds") < 5 and get("connected") == 1
    assert events == [{"offline_ms": offline_ms, "resumed": True}]

    # `laundrybot status` shows the same per kiosk.
    def fetch(path: str) -> str:
        with urllib.request.urlopen(gw.http + path, timeout=5) as response:
            return str(response.read().decode())

    text = await asyncio.to_thread(fetch, "/metrics")
    ready = json.loads(await asyncio.to_thread(fetch, "/readyz"))
    summary = format_status({"url": gw.http, "reachable": True, **collect(ready, text)})
    line = next(line for line in summary.splitlines() if "flaky-1" in line)
    print(f"[laundrybot status] {line.strip()}")
    assert "last seen" in line and "rtt " in line and "reconnects 1 (resumed 1" in line


async def test_laundrybot_talk_reports_its_time_offline_and_resumes(
    write_config: Any, start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(write_config())
    host, port = gw.service.address.rsplit(":", 1)
    proxy = await FlakyProxy((host, int(port)), delay=0.02).start()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "laundrybot",
        "talk",
        proxy.url,
        "--kiosk",
        "talk-1",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            lines.append(raw.decode().rstrip())

    reader = asyncio.create_task(read())

    def seen(text: str) -> bool:
        return any(text in line for line in lines)

    try:
        await await_until(lambda: seen("[connected, session"), timeout=20, what="connected")
        proc.stdin.write(b"how much is a wash?\n")
        await await_until(lambda: seen("laundrybot (prices)"), timeout=20, what="an answer")
        proxy.drop(down_for=1.5)  # the link goes away; talk retries until it is back
        await await_until(lambda: seen("[back after"), timeout=30, what="the reconnect")
        proc.stdin.write(b"what are your hours\n")
        await await_until(lambda: seen("laundrybot (hours)"), timeout=20, what="a 2nd answer")
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asyncio.wait_for(reader, 10)
        await proxy.stop()
    events = await asyncio.to_thread(reconnect_events, tmp_path / "spool.sqlite", "talk-1")
    back = next(line for line in lines if "[back after" in line)
    print(f"\n[flaky link: laundrybot talk] {back!r}; spool events {events}")
    assert "conversation resumed" in back
    assert len(events) == 1 and events[0]["resumed"] is True
    assert events[0]["offline_ms"] >= 1000  # cut off for at least the proxy's 1.5 s, roughly
    assert proxy.refused >= 1


def test_hello_client_is_screen_or_terminal() -> None:
    plain = protocol.parse('{"type":"hello","kiosk":"k"}', 500)
    assert isinstance(plain, protocol.Hello) and plain.client == "screen"
    talk = protocol.parse('{"type":"hello","kiosk":"k","client":"terminal"}', 500)
    assert isinstance(talk, protocol.Hello) and talk.client == "terminal"
    for bad in ('"phone"', "1", "null"):
        with pytest.raises(protocol.ProtocolError) as raised:
            protocol.parse(f'{{"type":"hello","kiosk":"k","client":{bad}}}', 500)
        assert raised.value.code == protocol.BAD_MESSAGE
        assert "'client' must be 'screen'" in raised.value.message


def _screen_gauges(http: str) -> dict[str, float]:
    with urllib.request.urlopen(http + "/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        s.labels["kiosk"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "laundrybot_kiosk_screen"
    }


async def test_kiosk_screens_and_terminals_are_told_apart_in_the_metrics(
    write_config: Any, start_gateway: Any
) -> None:
    # The "kiosk gone" alert watches screens only: `laundrybot talk` says it is a terminal,
    # whatever name it was given.
    gw = await start_gateway(write_config())
    async with kiosk(gw.url, kiosk="front") as screen:
        assert (await screen.ask("how much is a wash?"))["type"] == "reply"
    talk = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "laundrybot",
        "talk",
        gw.url,
        "--kiosk",
        "office",
        "-q",
        "how much is a wash?",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(talk.communicate(), 30)
    assert talk.returncode == 0, out
    async with kiosk(gw.url, kiosk="other-terminal", client="terminal"):
        pass
    gauges = await asyncio.to_thread(_screen_gauges, gw.http)
    assert gauges == {"front": 1.0, "office": 0.0, "other-terminal": 0.0}


def test_hello_audio_is_a_bool_defaulting_to_true() -> None:
    plain = protocol.parse('{"type":"hello","kiosk":"k"}', 500)
    assert isinstance(plain, protocol.Hello) and plain.audio is True
    quiet = protocol.parse('{"type":"hello","kiosk":"k","audio":false}', 500)
    assert isinstance(quiet, protocol.Hello) and quiet.audio is False
    for bad in ('"no"', "0", "null"):
        with pytest.raises(protocol.ProtocolError) as raised:
            protocol.parse(f'{{"type":"hello","kiosk":"k","audio":{bad}}}', 500)
        assert "'audio' must be true or false" in raised.value.message


async def test_laundrybot_talk_says_it_is_a_terminal_that_wants_no_audio() -> None:
    from websockets.asyncio.server import ServerConnection, serve

    hellos: list[dict[str, Any]] = []

    async def gateway(ws: ServerConnection) -> None:
        hellos.append(json.loads(await ws.recv()))
        await ws.send(protocol.encode("welcome", session="0" * 32, lang="en", languages=["en"]))
        await ws.recv()  # the question
        await ws.send(protocol.encode("reply", turn="t", text="A wash is $3.50."))
        with contextlib.suppress(Exception):
            await ws.wait_closed()

    async with serve(gateway, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        talk = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "laundrybot",
            "talk",
            f"ws://127.0.0.1:{port}/kiosk",
            "-q",
            "how much is a wash?",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(talk.communicate(), 30)
    assert talk.returncode == 0 and b"A wash is $3.50." in out, out
    assert hellos[0]["client"] == "terminal" and hellos[0]["audio"] is False
