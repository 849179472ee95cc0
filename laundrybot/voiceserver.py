"""What the ASR and TTS units share: a WebSocket server on a Unix socket, and on TCP if asked,
and a watch on the threads that run their recognition or synthesis jobs.

The socket's folder is made private (0700) when we create it; a stale socket file left by a
crash is removed, but one that a running server still answers on is an error, so two copies
of a unit never steal each other's socket. The file is removed again on a clean stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.server import Server, serve, unix_serve

from laundrybot.config import make_private_folder, parse_listen
from laundrybot.health import WorkerWatch

log = logging.getLogger(__name__)

T = TypeVar("T")


class PoolWatch(WorkerWatch):
    """A WorkerWatch for a thread pool: ``busy()`` and ``idle()`` are per calling thread, and
    the job running longest decides. One shared mark would be reset by every other job, so a
    stuck job would hide behind the ones still coming and going on the other threads."""

    def __init__(self, name: str, stall_limit: float) -> None:
        super().__init__(name, stall_limit)
        self._jobs: dict[int, float] = {}
        self._jobs_lock = threading.Lock()

    def busy(self) -> None:
        with self._jobs_lock:
            self._jobs[threading.get_ident()] = time.monotonic()

    def idle(self) -> None:
        with self._jobs_lock:
            self._jobs.pop(threading.get_ident(), None)

    def detach(self) -> None:
        super().detach()
        with self._jobs_lock:
            self._jobs.clear()

    def problem(self) -> str | None:
        with self._jobs_lock:
            oldest = min(self._jobs.values(), default=None)
        if oldest is not None and time.monotonic() - oldest > self.stall_limit:
            return (
                f"{self.name} thread stuck on one job for {time.monotonic() - oldest:.0f}s"
                f" (limit {self.stall_limit:g}s)"
            )
        return None


def _watched(watch: WorkerWatch, fn: Callable[[], T]) -> T:
    watch.busy()
    try:
        return fn()
    finally:
        watch.idle()


async def run_watched(
    executor: Executor, watch: WorkerWatch, fn: Callable[..., T], *args: Any
) -> T:
    """``fn(*args)`` in ``executor``, marked busy on ``watch`` while it runs (not while it
    waits its turn in the queue: a long queue is load, not a stuck thread)."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, _watched, watch, partial(fn, *args))


class VoiceServer:
    """One handler served on a Unix socket and, optionally, a TCP address."""

    def __init__(self, socket_path: Path, listen: str) -> None:
        self.socket_path = socket_path
        self.listen = listen
        self.servers: list[Server] = []
        self.addresses: list[str] = []
        self._inode: int | None = None

    async def start(self, handler: Any, **options: Any) -> None:
        prepare_socket(self.socket_path)
        unix = await unix_serve(handler, str(self.socket_path), **options)
        self.servers.append(unix)
        st = os.stat(self.socket_path)
        self._inode = st.st_ino
        # Group may connect too: under systemd every unit runs as the same user and group.
        os.chmod(self.socket_path, 0o660)
        self.addresses.append(str(self.socket_path))
        if self.listen:
            host, port = parse_listen(self.listen)
            tcp = await serve(handler, host, port, **options)
            self.servers.append(tcp)
            name = tcp.sockets[0].getsockname()
            host = f"[{name[0]}]" if ":" in name[0] else name[0]
            self.addresses.append(f"{host}:{name[1]}")

    def close(self, close_connections: bool = True) -> None:
        for server in self.servers:
            server.close(close_connections=close_connections)

    async def stop(self, busy: Callable[[], bool], grace: float) -> None:
        """Stop accepting, give streams in progress ``grace`` seconds, then close the rest
        with 1001 and remove the socket file."""
        for server in self.servers:
            # websockets' close() acts once: stop the listening sockets underneath first.
            server.server.close()
        deadline = time.monotonic() + grace
        while busy() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.close(close_connections=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_closed(), grace + 2)

    async def wait_closed(self) -> None:
        for server in self.servers:
            await server.wait_closed()
        # Remove our socket file, unless a newer server already replaced it.
        with contextlib.suppress(OSError):
            if self._inode is not None and os.stat(self.socket_path).st_ino == self._inode:
                os.unlink(self.socket_path)
        self._inode = None


def prepare_socket(path: Path) -> None:
    """Make the folder (private when ours) and clear a stale socket file at ``path``."""
    make_private_folder(path.parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise RuntimeError(f"{path}: exists and is not a socket; remove it or set another path")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
    except OSError:
        log.info("removing the stale socket %s", path)
        os.unlink(path)
    else:
        raise RuntimeError(f"{path}: another server is listening there already")
    finally:
        probe.close()
