"""Shared fixtures: test configurations, a fake NOTIFY_SOCKET, gateways in and out of process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from websockets.asyncio.client import ClientConnection, connect

from laundrybot.config import load_config
from laundrybot.gateway.server import GatewayService
from laundrybot.runner import Runner

pytest_plugins = ["tests.pg_fixtures", "tests.mqtt_fixtures"]
ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "conf" / "knowledge.yaml"


def _deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = value
    return base


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a test configuration (any free port, spool in tmp_path) with overrides."""

    def write(overrides: dict[str, Any] | None = None, name: str = "laundrybot.yaml") -> Path:
        data: dict[str, Any] = {
            "knowledge": str(KNOWLEDGE),
            # Voice needs the ASR and TTS units: the voice tests start them, the others not.
            "gateway": {"listen": "127.0.0.1:0", "voice": {"input": False, "output": False}},
            "store": {"spool": str(tmp_path / "spool.sqlite"), "machine_refresh": 0.2},
            # An in-process gateway shares the test process's memory, far above what the
            # gateway's own budget derives (health.max_rss_mb 0 -> gateway.memory_budget_mb).
            "health": {"max_rss_mb": 16384},
        }
        _deep_update(data, overrides or {})
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data))
        return path

    return write


@pytest.fixture
def short_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """$XDG_RUNTIME_DIR in a short folder, outside systemd: pytest's tmp_path plus the runtime
    folder per configuration would pass the 108 bytes a Unix socket's path may have."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="lb-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


class NotifyListener:
    """A fake systemd NOTIFY_SOCKET: collects (monotonic time, {KEY: VALUE}) datagrams."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))

    def with_key(self, key: str) -> list[tuple[float, dict[str, str]]]:
        return [(t, m) for t, m in list(self.messages) if key in m]

    def wait_for(
        self, key: str, value: str | None = None, count: int = 1, timeout: float = 20
    ) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for _, m in self.with_key(key) if value is None or m[key] == value]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.02)
        raise AssertionError(f"no {key}={value} (x{count}) in {self.messages[-20:]}")

    def close(self) -> None:
        self._closed = True
        self._thread.join()
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(tmp_path / "notify.sock")
    yield listener
    listener.close()


def socket_activated(listener_fd: int, unit: str, config: Path) -> list[str]:
    """The command that runs ``laundrybot serve UNIT`` as systemd's socket activation would:
    ``listener_fd`` as fd 3 with LISTEN_FDS=1 and LISTEN_PID set to the process itself (pass
    the fd with ``pass_fds``)."""
    launcher = (
        "import os, sys; os.dup2(int(sys.argv[1]), 3);"
        "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()));"
        "os.execv(sys.executable, [sys.executable, '-m', 'laundrybot', 'serve', sys.argv[2],"
        " '--config', sys.argv[3]])"
    )
    return [sys.executable, "-c", launcher, str(listener_fd), unit, str(config)]


def port_from_status(status: str) -> int:
    match = re.search(r"listening on [^ ]*:(\d+)", status)
    assert match, status
    return int(match.group(1))


@dataclass
class GatewayProcess:
    """`laundrybot serve gateway` in a child process, as systemd would run it."""

    proc: subprocess.Popen[bytes]
    notify: NotifyListener
    port: int = 0
    log: Path = field(default_factory=Path)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/kiosk"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
def start_gateway_process(
    tmp_path: Path, notify_socket: NotifyListener
) -> Iterator[Callable[..., GatewayProcess]]:
    started: list[GatewayProcess] = []

    def start(
        config: Path,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        **popen: Any,
    ) -> GatewayProcess:
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))
        }
        full_env |= {"NOTIFY_SOCKET": str(notify_socket.path), "PYTHONUNBUFFERED": "1"}
        full_env |= env or {}
        log = tmp_path / f"gateway-{len(started)}.log"
        proc = subprocess.Popen(
            command
            or [sys.executable, "-m", "laundrybot", "serve", "gateway", "--config", str(config)],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            **popen,
        )
        gateway = GatewayProcess(proc, notify_socket, log=log)
        started.append(gateway)
        ready = notify_socket.wait_for("READY", "1", count=len(started))
        gateway.port = port_from_status(ready.get("STATUS", ""))
        return gateway

    yield start
    for gateway in started:
        if gateway.proc.poll() is None:
            gateway.proc.kill()
            gateway.proc.wait()


@dataclass
class InProcessGateway:
    runner: Runner
    task: asyncio.Task[int]

    @property
    def service(self) -> GatewayService:
        service = self.runner.services[0]
        assert isinstance(service, GatewayService)
        return service

    @property
    def url(self) -> str:
        return f"ws://{self.service.address}/kiosk"

    @property
    def http(self) -> str:
        return f"http://{self.service.address}"


@pytest.fixture
async def start_gateway(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Callable[[Path], Any]]:
    """Start a gateway in this event loop; stopped gracefully at the end of the test."""
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        monkeypatch.delenv(name, raising=False)
    running: list[InProcessGateway] = []

    async def start(config_path: Path) -> InProcessGateway:
        runner = Runner(["gateway"], config_path, load_config(config_path))
        task = asyncio.create_task(runner.run())
        deadline = time.monotonic() + 20
        while not runner.services[0].status().startswith("listening on 127"):
            if task.done():
                raise AssertionError(f"gateway exited with {task.result()}")
            assert time.monotonic() < deadline, "gateway did not start"
            await asyncio.sleep(0.01)
        gateway = InProcessGateway(runner, task)
        running.append(gateway)
        return gateway

    yield start
    for gateway in running:
        gateway.runner.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(gateway.task, 20)


class Kiosk:
    """A test kiosk: JSON in, JSON out."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        assert isinstance(frame, str), frame
        result: dict[str, Any] = json.loads(frame)
        return result

    async def recv_type(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next message of this type, skipping status pushes and the like."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if message["type"] == kind:
                return message

    async def hello(self, kiosk: str = "kiosk-1", **extra: Any) -> dict[str, Any]:
        await self.send(type="hello", kiosk=kiosk, **extra)
        return await self.recv_type("welcome")

    async def ask(self, text: str) -> dict[str, Any]:
        await self.send(type="text", text=text)
        return await self.recv_type("reply")


@contextlib.asynccontextmanager
async def kiosk(url: str, hello: bool = True, **hello_extra: Any) -> AsyncIterator[Kiosk]:
    async with connect(url, open_timeout=10) as ws:
        client = Kiosk(ws)
        if hello:
            await client.hello(**hello_extra)
        yield client
