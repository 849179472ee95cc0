"""The gateway holds under attack: one attack client per known abuse, against a real gateway.

Each test starts ``laundrybot serve gateway`` as a child process (its RSS and fds are its own,
and its systemd watchdog pings are heard on a fake NOTIFY_SOCKET), runs one attack on loopback,
bounded in count and time, while a well-behaved canary kiosk keeps asking questions on one
connection and opens fresh ones now and then. Every test asserts that the canary kept getting
answers, that RSS and fds stayed under bounds, that the watchdog kept being fed and that every
answer the canary received is in the spool; and prints the figures, prefixed ``[attack]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from laundrybot.store.spool import SpoolDB

from .conftest import GatewayProcess, Kiosk

CANARY = "canary"
CANARY_TOKEN = "canary-secret-token"
# A kiosk of the shop turned hostile (it has a token; the attacks that need one use it).
MALLORY = "mallory"
MALLORY_TOKEN = "mallory-secret-token"
CROWD_TOKEN = "crowd-secret-token"
# What the canary's answers may take, at worst, while an attack runs (the bound asserted).
CANARY_P95_LIMIT = 1.0
FRESH_LIMIT = 3.0


# -- the target ----------------------------------------------------------------------------


@dataclass
class Figures:
    rss_mb: float
    fds: int

    def __str__(self) -> str:
        return f"RSS {self.rss_mb:.0f} MB, fds {self.fds}"


@dataclass
class Target:
    gateway: GatewayProcess
    spool: Path
    process: psutil.Process = field(init=False)
    peak_rss_mb: float = 0.0
    peak_fds: int = 0

    def __post_init__(self) -> None:
        self.process = psutil.Process(self.gateway.proc.pid)

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def port(self) -> int:
        return self.gateway.port

    def figures(self) -> Figures:
        figures = Figures(self.process.memory_info().rss / 2**20, self.process.num_fds())
        self.peak_rss_mb = max(self.peak_rss_mb, figures.rss_mb)
        self.peak_fds = max(self.peak_fds, figures.fds)
        return figures

    def watchdog_pings(self) -> int:
        return len([m for _, m in self.gateway.notify.with_key("WATCHDOG") if m["WATCHDOG"] == "1"])

    def alive(self) -> bool:
        return self.gateway.proc.poll() is None


@pytest.fixture
def target(write_config: Any, start_gateway_process: Any, tmp_path: Path) -> Callable[..., Target]:
    """Start a gateway process with the canary's token and any overrides."""

    def start(overrides: dict[str, Any] | None = None, **env: str) -> Target:
        tokens = {CANARY: CANARY_TOKEN, MALLORY: MALLORY_TOKEN, "crowd": CROWD_TOKEN}
        settings: dict[str, Any] = {"gateway": {"tokens": tokens}}
        for key, value in (overrides or {}).items():
            if isinstance(value, dict) and isinstance(settings.get(key), dict):
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
        config = write_config(settings)
        # The watchdog every 0.5 s: a withheld ping shows within the attack.
        gateway = start_gateway_process(config, env={"WATCHDOG_USEC": "1000000", **env})
        return Target(gateway, tmp_path / "spool.sqlite")

    return start


# -- the canary ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Canary:
    """A good kiosk: asks every ``every`` seconds, and opens a fresh connection every second."""

    url: str
    every: float = 0.1
    latencies: list[float] = field(default_factory=list)
    fresh: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    turns: list[str] = field(default_factory=list)

    async def _hello(self, ws: Any) -> Kiosk:
        kiosk = Kiosk(ws)
        await kiosk.send(type="hello", kiosk=CANARY, token=CANARY_TOKEN)
        await kiosk.recv_type("welcome", timeout=FRESH_LIMIT)
        return kiosk

    async def ask(self, kiosk: Kiosk, timeout: float = 5) -> float:
        started = time.monotonic()
        await kiosk.send(type="text", text="what are your hours")
        reply = await kiosk.recv_type("reply", timeout=timeout)
        self.turns.append(reply["turn"])
        return time.monotonic() - started

    async def steady(self, stop: asyncio.Event) -> None:
        """One long connection, a question every ``every`` seconds (reconnecting if dropped)."""
        while not stop.is_set():
            try:
                async with connect(self.url, open_timeout=FRESH_LIMIT) as ws:
                    kiosk = await self._hello(ws)
                    while not stop.is_set():
                        self.latencies.append(await self.ask(kiosk))
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.every)
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.failures.append(f"steady: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.2)

    async def fresh_connections(self, stop: asyncio.Event) -> None:
        """A new kiosk connection a second: connect, hello, one question, leave."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                async with connect(self.url, open_timeout=FRESH_LIMIT) as ws:
                    kiosk = await self._hello(ws)
                    await self.ask(kiosk, timeout=FRESH_LIMIT)
                self.fresh.append(time.monotonic() - started)
            except (OSError, ConnectionClosed, TimeoutError) as exc:
                self.failures.append(f"fresh: {type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    def summary(self) -> str:
        def ms(values: list[float], q: float) -> str:
            return f"{percentile(values, q) * 1000:.0f}"

        return (
            f"canary replies {len(self.latencies)} p50 {ms(self.latencies, 0.5)} ms"
            f" p95 {ms(self.latencies, 0.95)} ms; fresh connections {len(self.fresh)}"
            f" p50 {ms(self.fresh, 0.5)} ms p95 {ms(self.fresh, 0.95)} ms;"
            f" failures {len(self.failures)}"
        )


async def under_attack(
    name: str,
    target: Target,
    attack: Callable[[], Awaitable[object]],
    *,
    max_rss_mb: float = 200,
    max_fds: int = 400,
    settle: float = 1.0,
    check_watchdog: bool = True,
) -> Canary:
    """Run ``attack`` while the canary talks; check and print the figures before and after."""
    await asyncio.sleep(0.3)
    before = target.figures()
    baseline = Canary(target.url)
    quiet = asyncio.Event()
    asyncio.get_running_loop().call_later(1.0, quiet.set)
    await baseline.steady(quiet)

    canary = Canary(target.url)
    stop = asyncio.Event()
    pings_before = target.watchdog_pings()
    started = time.monotonic()

    async def sample() -> None:
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                target.figures()
            await asyncio.sleep(0.05)

    tasks = [
        asyncio.create_task(canary.steady(stop)),
        asyncio.create_task(canary.fresh_connections(stop)),
        asyncio.create_task(sample()),
    ]
    try:
        result = await attack()
    finally:
        attack_seconds = time.monotonic() - started
        await asyncio.sleep(settle)
        stop.set()
        await asyncio.gather(*tasks)
    pings = target.watchdog_pings() - pings_before
    after = target.figures()
    # A kiosk arriving after the attack is served as usual.
    after_canary = Canary(target.url)
    async with connect(target.url, open_timeout=FRESH_LIMIT) as ws:
        kiosk = await after_canary._hello(ws)
        for _ in range(5):
            after_canary.latencies.append(await after_canary.ask(kiosk))
    print(
        f"\n[attack] {name}: {result}\n"
        f"[attack] {name}: before {before}; peak RSS {target.peak_rss_mb:.0f} MB, peak fds "
        f"{target.peak_fds}; after {after}; watchdog pings during {pings} in "
        f"{attack_seconds + settle:.1f} s\n"
        f"[attack] {name}: quiet {baseline.summary()}\n"
        f"[attack] {name}: during {canary.summary()}\n"
        f"[attack] {name}: after {after_canary.summary()}"
    )
    if canary.failures:
        print(f"[attack] {name}: canary failures: {canary.failures[:5]}")
    assert target.alive(), "the gateway died"
    assert not canary.failures, canary.failures[:5]
    assert len(canary.latencies) >= 3, "the canary got (almost) no answers"
    assert percentile(canary.latencies, 0.95) < CANARY_P95_LIMIT, canary.summary()
    assert canary.fresh, "no fresh connection got through"
    assert target.peak_rss_mb < max_rss_mb, f"peak RSS {target.peak_rss_mb:.0f} MB"
    assert target.peak_fds < max_fds, f"peak fds {target.peak_fds}"
    if check_watchdog:
        # Every 0.5 s; allow for the first and the last.
        assert pings >= int((attack_seconds + settle) / 0.5) - 2, f"{pings} watchdog pings"
    # Nothing acknowledged is lost: every answer the canary got was recorded first.
    recorded = await asyncio.to_thread(recorded_turns, target.spool)
    acknowledged = set(baseline.turns + canary.turns + after_canary.turns)
    assert acknowledged <= recorded, f"{len(acknowledged - recorded)} answered turns not recorded"
    return canary


def recorded_turns(spool: Path) -> set[str]:
    db = SpoolDB(spool, "shop")
    try:
        return {row[0] for row in db.conn.execute("SELECT id FROM turns")}
    finally:
        db.close()


# -- attack clients --------------------------------------------------------------------------


# Attackers connect from another loopback address than the canary (127.0.0.1), as another
# machine on the shop's network would: the gateway caps waiting connections per address.
ATTACKER = "127.0.0.2"


async def open_raw(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(ATTACKER, 0))


async def ws_handshake(port: int, sndbuf: int | None = None) -> socket.socket:
    """A raw, blocking-free socket that completed the WebSocket handshake (and reads no more)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    sock.setblocking(False)
    sock.bind((ATTACKER, 0))
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    request = (
        "GET /kiosk HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    response = b""
    async with asyncio.timeout(5):
        while b"\r\n\r\n" not in response:
            chunk = await loop.sock_recv(sock, 4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response[:80]
    return sock


def frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (FIN set)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


@contextlib.asynccontextmanager
async def many(
    count: int, opener: Callable[[], Awaitable[Any]], batch_size: int = 50
) -> AsyncIterator[list[Any]]:
    """Open up to ``count`` things (in batches), close them all at the end."""
    opened: list[Any] = []
    try:
        for start in range(0, count, batch_size):
            batch = await asyncio.gather(
                *(opener() for _ in range(min(batch_size, count - start))),
                return_exceptions=True,
            )
            opened.extend(b for b in batch if not isinstance(b, BaseException))
        yield opened
    finally:
        for item in opened:
            with contextlib.suppress(Exception):
                if isinstance(item, socket.socket):
                    item.close()
                elif isinstance(item, tuple):
                    item[1].close()
                else:
                    await asyncio.wait_for(item.close(), 1)


# -- attacks that already held ---------------------------------------------------------------


MALFORMED = [
    "{not json",
    "[1, 2]",
    '{"type": 5}',
    '{"type": "text"}',
    '{"type": "dance"}',
    '{"type": "hello", "kiosk": "bad name!"}',
    "[" * 5000 + "]" * 5000,
    '{"type": "text", "text": "\\ud800"}',
    '{"type": "ping", "id": {"a": [1, 2, 3]}}',
]


async def test_malformed_payloads(target: Callable[..., Target]) -> None:
    # Not a flood (the next test): the flood bounds are raised to let the payloads through.
    unlimited = {"max_frames_per_second": 1_000_000, "max_kb_per_second": 1_000_000}
    gw = target(
        {"gateway": {"limits": {"messages_per_second": 1000, "message_burst": 1000, **unlimited}}}
    )

    async def attack() -> str:
        sent = 0
        deadline = time.monotonic() + 4
        async with connect(gw.url) as ws:
            kiosk = Kiosk(ws)
            await kiosk.send(type="hello", kiosk=CANARY, token=CANARY_TOKEN)
            await kiosk.recv_type("welcome")
            while time.monotonic() < deadline and sent < 5000:
                await ws.send(MALFORMED[sent % len(MALFORMED)])
                sent += 1
                if sent % 50 == 0:
                    await asyncio.sleep(0.02)
                    with contextlib.suppress(TimeoutError):
                        while True:  # read what came back, so the connection is a fair one
                            await asyncio.wait_for(ws.recv(), 0.001)
        return f"{sent} malformed frames on one connection"

    await under_attack("malformed payloads", gw, attack)


async def test_oversized_frames(target: Callable[..., Target]) -> None:
    gw = target()

    async def attack() -> str:
        closed = []
        for _ in range(20):
            with contextlib.suppress(OSError):
                sock = await ws_handshake(gw.port)
                loop = asyncio.get_running_loop()
                with contextlib.suppress(OSError):
                    # Announces 16 MB; the gateway closes (1009) after the header.
                    await loop.sock_sendall(sock, frame(1, b"x" * 70000))
                    async with asyncio.timeout(5):
                        data = await loop.sock_recv(sock, 4096)
                    if data[:1] == b"\x88":
                        closed.append(struct.unpack("!H", data[2:4])[0])
                sock.close()
        assert closed and set(closed) == {1009}, closed
        return f"20 connections sending a 70 kB frame: closed with {sorted(set(closed))}"

    await under_attack("oversized frames", gw, attack)


@pytest.mark.slow
async def test_slowloris_headers(target: Callable[..., Target]) -> None:
    gw = target()

    async def attack() -> str:
        # 200 connections sending a header line a second, never ending the request.
        async with many(200, lambda: open_raw(gw.port)) as conns:
            for _, writer in conns:
                writer.write(b"GET /kiosk HTTP/1.1\r\nHost: x\r\n")
            dropped = 0
            for n in range(6):
                for _, writer in conns:
                    with contextlib.suppress(OSError):
                        writer.write(f"X-Slow-{n}: {'a' * 20}\r\n".encode())
                await asyncio.sleep(1)
            for reader, _ in conns:
                if reader.at_eof() or reader.exception() is not None:
                    dropped += 1
            return f"{len(conns)} slowloris connections, a header line a second for 6 s"

    await under_attack("slowloris headers", gw, attack)


@pytest.mark.slow
async def test_a_thousand_websocket_connections(target: Callable[..., Target]) -> None:
    gw = target({"gateway": {"limits": {"max_connections": 2000}}})

    async def attack() -> str:
        async def open_one() -> Any:
            ws = await connect(gw.url, open_timeout=10, local_addr=(ATTACKER, 0))
            kiosk = Kiosk(ws)
            await kiosk.send(type="hello", kiosk="crowd", token=CROWD_TOKEN)
            return ws

        async with many(1000, open_one, batch_size=10) as conns:
            await asyncio.sleep(2)
            return f"{len(conns)} WebSocket connections open at once for 2 s"

    await under_attack("1,000 WebSocket connections", gw, attack, max_fds=1500, max_rss_mb=300)


@pytest.mark.slow
async def test_half_open_connections(target: Callable[..., Target]) -> None:
    """Item 2: 1,000 requests that never finish the HTTP handshake, held for 8 s."""
    gw = target()

    async def attack() -> str:
        async with many(1000, lambda: open_raw(gw.port)) as conns:
            for _, writer in conns:
                writer.write(b"GET /kiosk HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            await asyncio.sleep(8)  # past gateway.limits.handshake_timeout (5 s)
            dropped = sum(1 for reader, _ in conns if reader.at_eof())
            return f"{len(conns)} half-open requests held 8 s; {dropped} dropped by the gateway"

    await under_attack("half-open connections", gw, attack, max_fds=300)


async def test_slot_squatting(target: Callable[..., Target]) -> None:
    """Item 5: clients without a token keep connecting; a kiosk with one still gets a slot."""
    gw = target({"gateway": {"limits": {"max_connections": 8}}})

    async def attack() -> str:
        opened: list[Any] = []
        deadline = time.monotonic() + 6
        try:
            while time.monotonic() < deadline and len(opened) < 400:
                batch = await asyncio.gather(
                    *(connect(gw.url, local_addr=(ATTACKER, 0)) for _ in range(20)),
                    return_exceptions=True,
                )
                for ws in batch:
                    if isinstance(ws, BaseException):
                        continue
                    opened.append(ws)
                    if len(opened) % 2:  # half never say anything, half say hello without token
                        await ws.send('{"type": "hello", "kiosk": "squatter"}')
                await asyncio.sleep(0.3)
        finally:
            await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
        return f"{len(opened)} connections without a token over 6 s (max_connections 8)"

    await under_attack("slot squatting", gw, attack)


async def hostile_kiosk(port: int, rcvbuf: int | None = 4096) -> socket.socket:
    """Mallory, past the handshake and welcomed (what it is sent, it never reads)."""
    sock = await ws_handshake(port, rcvbuf)
    hello = json.dumps({"type": "hello", "kiosk": MALLORY, "token": MALLORY_TOKEN})
    await asyncio.get_running_loop().sock_sendall(sock, frame(1, hello.encode()))
    return sock


async def send_for(sock: socket.socket, chunk: bytes, seconds: float, max_bytes: int) -> int:
    """Send ``chunk`` again and again for at most ``seconds`` and ``max_bytes``; bytes sent."""
    loop = asyncio.get_running_loop()
    sent = 0
    deadline = time.monotonic() + seconds
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline and sent < max_bytes:
            async with asyncio.timeout(max(0.01, deadline - time.monotonic())):
                await loop.sock_sendall(sock, chunk)
            sent += len(chunk)
    return sent


@pytest.mark.slow
async def test_pings_never_read(target: Callable[..., Target]) -> None:
    """Item 3: pings as fast as possible, never reading a pong."""
    # The flood bound would close it first (item 7): raised, to test the unsent bound alone.
    unlimited = {"max_frames_per_second": 1_000_000, "max_kb_per_second": 1_000_000}
    gw = target({"gateway": {"limits": unlimited}})

    async def attack() -> str:
        sock = await hostile_kiosk(gw.port)
        ping = frame(9, b"p" * 125)  # the largest control frame: a 127-byte pong each
        with contextlib.suppress(TimeoutError):
            sent = await send_for(sock, ping * 8000, seconds=6, max_bytes=400 << 20)
        sock.close()
        assert sent < 64 << 20, "the gateway kept answering pings nobody reads"
        return f"{sent / 2**20:.0f} MB of pings sent without reading, then dropped"

    await under_attack("pings never read", gw, attack, max_rss_mb=100)


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def scrape(gw: Target) -> str:
    def get() -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{gw.port}/metrics",
            headers={"Authorization": f"Bearer {CANARY_TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return str(response.read().decode())

    return await asyncio.to_thread(get)


@pytest.mark.slow
async def test_conversation_memory(target: Callable[..., Target]) -> None:
    """Item 4: 12 connections filling session after session with 500-character questions."""
    gw = target({"gateway": {"limits": {"session_memory_mb": 2}}})
    question = ("where is the soap for the big washer and how much is it " * 10)[:500]

    async def one_connection(deadline: float) -> int:
        turns = 0
        while time.monotonic() < deadline:
            async with connect(gw.url, local_addr=(ATTACKER, 0)) as ws:
                kiosk = Kiosk(ws)
                await kiosk.send(type="hello", kiosk=MALLORY, token=MALLORY_TOKEN)
                await kiosk.recv_type("welcome")
                for _ in range(20):
                    await kiosk.send(type="text", text=question)
                for _ in range(20):
                    await kiosk.recv_type("reply")
                    turns += 1
        return turns

    async def attack() -> str:
        deadline = time.monotonic() + 8
        turns = sum(await asyncio.gather(*(one_connection(deadline) for _ in range(12))))
        await asyncio.sleep(1.2)  # the session figures are moved into the metrics each second
        text = await scrape(gw)
        held = metric(text, "laundrybot_gateway_session_bytes")
        bound = metric(text, "laundrybot_gateway_session_memory_bytes")
        sessions = metric(text, "laundrybot_gateway_sessions")
        assert bound == 2 * 2**20 and 0 < held <= bound, (held, bound)
        return (
            f"{turns} turns of 500 characters in {turns // 20} sessions; kept {sessions:.0f}"
            f" sessions, {held / 2**20:.1f} MB of {bound / 2**20:.0f} MB"
        )

    await under_attack("conversation memory", gw, attack, max_rss_mb=150)


@pytest.mark.slow
async def test_flood_of_tiny_frames(target: Callable[..., Target]) -> None:
    """Item 7: four connections sending tiny frames as fast as they can, again and again."""
    gw = target()
    codes: list[int] = []

    async def flooder(deadline: float) -> int:
        sent = 0
        # A new connection only while it has a second left to flood.
        while time.monotonic() < deadline - 1 and sent < 2_000_000:
            async with connect(gw.url, local_addr=(ATTACKER, 0)) as ws:
                kiosk = Kiosk(ws)
                await kiosk.send(type="hello", kiosk=MALLORY, token=MALLORY_TOKEN)

                async def read(ws: Any = ws) -> None:
                    with contextlib.suppress(ConnectionClosed):
                        async for _ in ws:  # reads, so it hears the close frame
                            pass

                reader = asyncio.create_task(read())
                with contextlib.suppress(ConnectionClosed):
                    while time.monotonic() < deadline:
                        await ws.send('{"type":"ping"}')
                        sent += 1
                        if sent % 100 == 0:
                            await asyncio.sleep(0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ws.wait_closed(), 3)
                reader.cancel()
                codes.append(ws.close_code or 0)
        return sent

    async def attack() -> str:
        deadline = time.monotonic() + 6
        sent = sum(await asyncio.gather(*(flooder(deadline) for _ in range(4))))
        # 1008, or (when the close frame was lost in the flood) the socket simply closed.
        assert 1008 in codes and set(codes) <= {1008, 1006}, codes
        dropped = metric(
            await scrape(gw), 'laundrybot_gateway_connections_dropped_total{reason="flood"}'
        )
        assert dropped >= len(codes)
        return (
            f"{sent} tiny frames from 4 connections in 6 s; {len(codes)} connections closed"
            f" ({codes.count(1008)} with 1008), {dropped:.0f} counted as floods"
        )

    await under_attack("flood of tiny frames", gw, attack)


async def test_resume_with_a_session_id_from_the_records(target: Callable[..., Target]) -> None:
    """Item 8: someone who reads the spool or the database tries to join a live conversation."""
    gw = target()

    async def attack() -> str:
        async with connect(gw.url) as ws:  # the real kiosk, mid-conversation
            kiosk = Kiosk(ws)
            await kiosk.send(type="hello", kiosk=CANARY, token=CANARY_TOKEN)
            await kiosk.recv_type("welcome")
            await kiosk.ask("how much is a wash?")
            db = SpoolDB(gw.spool, "shop")
            try:
                row = db.conn.execute("SELECT session FROM turns ORDER BY ts DESC").fetchone()
            finally:
                db.close()
            session = row[0]
            outcomes = []
            for name, token in ((CANARY, MALLORY_TOKEN), (CANARY, CANARY_TOKEN)):
                async with connect(gw.url, local_addr=(ATTACKER, 0)) as thief:
                    hello = {"type": "hello", "kiosk": name, "token": token, "resume": session}
                    await thief.send(json.dumps(hello))
                    answer = json.loads(await asyncio.wait_for(thief.recv(), 5))
                    assert answer["type"] == "error" or (
                        answer["resumed"] is False and answer["history"] == []
                    ), answer
                    outcomes.append(answer.get("code") or f"resumed={answer['resumed']}")
        return f"session id from the spool + kiosk name: {outcomes}"

    await under_attack("resume with a session id from the records", gw, attack)


async def test_http_figures_without_a_token(target: Callable[..., Target]) -> None:
    """Item 9: someone on the shop's network reads /metrics, /readyz and /kiosk.json."""
    gw = target()

    async def get(path: str) -> bytes:
        reader, writer = await open_raw(gw.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        try:
            return await asyncio.wait_for(reader.read(200), 5)
        finally:
            writer.close()

    async def attack() -> str:
        statuses: dict[bytes, int] = {}
        deadline = time.monotonic() + 3
        count = 0
        while time.monotonic() < deadline and count < 300:
            answers = await asyncio.gather(
                *(get(p) for p in ("/metrics", "/readyz", "/kiosk.json", "/metrics?token=x"))
            )
            for answer in answers:
                status = answer.split(b"\r\n", 1)[0]
                statuses[status] = statuses.get(status, 0) + 1
            count += len(answers)
        assert list(statuses) == [b"HTTP/1.1 401 Unauthorized"], statuses
        text = await scrape(gw)  # with a token: the figures
        assert "laundrybot_gateway_connections" in text
        return f"{count} HTTP requests without a valid token: {statuses}"

    await under_attack("HTTP figures without a token", gw, attack)


def test_open_files_leave_sockets_out(tmp_path: Path) -> None:
    from laundrybot.health import open_files

    before = open_files()
    assert before is not None
    socks = [socket.socket() for _ in range(20)]
    files = [(tmp_path / f"f{n}").open("w") for n in range(5)]
    try:
        assert open_files() == before + 5
    finally:
        for s in socks:
            s.close()
        for f in files:
            f.close()


def test_waiting_connections_drop_the_oldest_per_address_then_overall() -> None:
    from laundrybot.gateway.admission import Admission

    dropped: list[str] = []

    class Conn:
        def __init__(self, name: str) -> None:
            self.name = name

        def drop(self) -> None:
            dropped.append(self.name)

    admission = Admission(limit=4, per_address=2)
    a1, a2, a3 = Conn("a1"), Conn("a2"), Conn("a3")
    for conn in (a1, a2, a3):
        admission.arrived(conn, "10.0.0.9")
    assert dropped == ["a1"]  # the attacker's own oldest, not someone else's
    kiosk = Conn("kiosk")
    admission.arrived(kiosk, "10.0.0.5")
    admission.settled(kiosk)  # said hello: no longer waiting, never dropped
    for n in range(3):
        admission.arrived(Conn(f"b{n}"), f"10.0.1.{n}")
    assert "kiosk" not in dropped and len(admission) == 4
    assert dropped == ["a1", "a2"]  # overall, the oldest waiting one


def test_sessions_are_bounded_in_bytes_oldest_first() -> None:
    from laundrybot.gateway.session import SessionStore

    store = SessionStore(resume_window=300, max_sessions=10_000, max_bytes=200_000)
    sessions, secrets = [], []
    for n in range(40):
        session = store.new(f"k{n}", "en")
        secrets.append(store.new_resume_token(session))
        for _ in range(20):
            session.remember("q" * 500, "a" * 500)
        sessions.append(session)
        assert store.bytes <= store.max_bytes
    assert 5 < len(store) < 40
    assert store.resume(sessions[0].id, "k0", secrets[0]) is None  # the oldest went first
    assert sessions[0].history == type(sessions[0].history)()  # and its memory with it
    assert store.resume(sessions[-1].id, "k39", secrets[-1]) is sessions[-1]
    assert store.bytes == sum(s.size for s in sessions if s.store is store)


def test_memory_bounds_derive_from_one_budget() -> None:
    import dataclasses

    from laundrybot.config import Config, effective_health, gateway_memory

    config = Config()
    memory = gateway_memory(config)
    assert memory.budget == 448 * 2**20 < 512 * 2**20  # under the unit's MemoryMax=512M
    assert memory.sessions == memory.budget * 3 // 8
    assert 256 * 1024 <= memory.unsent <= 4 * 2**20
    assert effective_health(config, ["gateway"]).max_rss_mb == 448
    assert effective_health(config, ["asr"]).max_rss_mb == 1536
    small = dataclasses.replace(
        config, gateway=dataclasses.replace(config.gateway, memory_budget_mb=128)
    )
    assert gateway_memory(small).sessions == 48 * 2**20
    assert effective_health(small, ["gateway"]).max_rss_mb == 128
    explicit = dataclasses.replace(
        config, health=dataclasses.replace(config.health, max_rss_mb=300)
    )
    assert effective_health(explicit, ["gateway"]).max_rss_mb == 300
