"""Liveness (what a restart could fix) and readiness (what we depend on).

Liveness gates the systemd watchdog: event-loop lag, RSS and open fds under their limits, and
every watched worker thread alive and not stuck on one job.
Readiness is a set of named dependencies, each ok or not with a reason; a dead dependency
never stops the watchdog, it shows in STATUS=, ``/readyz`` and the metrics instead.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from laundrybot.config import OTHER_UNITS_MAX_RSS_MB, HealthConfig


class LoopLagMonitor:
    """Measures how late the event loop wakes a sleeping task: a direct reading of blocking."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.last_lag = 0.0
        # The worst lag since the watchdog last looked (reset by take_worst()).
        self._worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="loop-lag")

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(self.interval)
            self.last_lag = max(0.0, time.monotonic() - started - self.interval)
            self._worst = max(self._worst, self.last_lag)

    def take_worst(self) -> float:
        worst, self._worst = self._worst, 0.0
        return worst

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class WorkerWatch:
    """The pulse of one worker thread, read by the watchdog.

    The thread calls ``busy()`` when it takes a job and ``idle()`` when the job is done. A
    thread that died, or has been on one job longer than ``stall_limit`` seconds, is a problem
    a restart fixes: waiters on its queue would otherwise wait for ever.
    """

    def __init__(self, name: str, stall_limit: float) -> None:
        self.name = name
        self.stall_limit = stall_limit
        self._thread: threading.Thread | None = None
        self._busy_since: float | None = None

    def attach(self, thread: threading.Thread) -> None:
        self._thread = thread

    def detach(self) -> None:
        """The thread ended on purpose (a graceful stop): nothing to report any more."""
        self._thread = None
        self._busy_since = None

    def busy(self) -> None:
        self._busy_since = time.monotonic()

    def idle(self) -> None:
        self._busy_since = None

    @property
    def alive(self) -> bool:
        return self._thread is None or self._thread.is_alive()

    def problem(self) -> str | None:
        if not self.alive:
            return f"{self.name} thread died"
        since = self._busy_since
        if since is not None and time.monotonic() - since > self.stall_limit:
            return (
                f"{self.name} thread stuck on one job for {time.monotonic() - since:.0f}s"
                f" (limit {self.stall_limit:g}s)"
            )
        return None


@dataclass(frozen=True)
class Dependency:
    name: str
    ok: bool
    detail: str
    since: float


class Readiness:
    """Named dependencies and their state; listeners hear about every change."""

    def __init__(self) -> None:
        self._deps: dict[str, Dependency] = {}
        self._listeners: list[Callable[[], None]] = []

    def set(self, name: str, ok: bool, detail: str = "") -> None:
        current = self._deps.get(name)
        if current is not None and current.ok == ok and current.detail == detail:
            return
        self._deps[name] = Dependency(name, ok, detail, time.time())
        for listener in list(self._listeners):
            listener()

    def get(self, name: str) -> Dependency | None:
        return self._deps.get(name)

    def dependencies(self) -> list[Dependency]:
        return sorted(self._deps.values(), key=lambda d: d.name)

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def ready(self) -> bool:
        return all(d.ok for d in self._deps.values())

    @property
    def degraded(self) -> list[str]:
        return sorted(name for name, d in self._deps.items() if not d.ok)

    def as_json(self) -> dict[str, object]:
        return {
            "ready": self.ready,
            "dependencies": {
                d.name: {"ok": d.ok, "detail": d.detail, "since": round(d.since, 3)}
                for d in self.dependencies()
            },
        }


def open_files(fd_dir: str = "/proc/self/fd") -> int | None:
    """Open file descriptors that are not sockets (None where /proc is not there).

    Sockets are left out on purpose: kiosk connections are capped by the gateway's own limits,
    and a thousand half-open connections from outside are not something a restart would fix -
    withholding the watchdog for them would only hand the attacker a restart loop.
    """
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return None
    count = 0
    for name in names:
        try:
            if not os.readlink(f"{fd_dir}/{name}").startswith("socket:"):
                count += 1
        except OSError:
            continue  # closed meanwhile (the listing's own fd too)
    return count


class Liveness:
    """Decides whether this process deserves a WATCHDOG=1 ping right now."""

    def __init__(self, limits: HealthConfig, lag: LoopLagMonitor) -> None:
        self.limits = limits
        self.lag = lag
        self._process = psutil.Process()
        self._workers: list[WorkerWatch] = []

    def watch(self, worker: WorkerWatch) -> None:
        """Withhold the watchdog ping while ``worker`` is dead or stuck."""
        self._workers.append(worker)

    def unwatch(self, worker: WorkerWatch) -> None:
        if worker in self._workers:
            self._workers.remove(worker)

    def problems(self) -> list[str]:
        """Reasons a restart would help, over the time since the last call (the watchdog's)."""
        return self._problems(self.lag.take_worst())

    def problems_now(self) -> list[str]:
        """The same, from the latest readings only (for /healthz; leaves the watchdog's alone)."""
        return self._problems(self.lag.last_lag)

    def _problems(self, lag: float) -> list[str]:
        """Empty when healthy. Cheap: a few /proc reads."""
        found = []
        if lag > self.limits.max_loop_lag:
            found.append(f"event loop lagged {lag:.1f}s (limit {self.limits.max_loop_lag:g}s)")
        rss_mb = self._process.memory_info().rss / 2**20
        # 0 is "derived" (config.effective_health, which the runner applies); if not applied:
        max_rss_mb = self.limits.max_rss_mb or OTHER_UNITS_MAX_RSS_MB
        if rss_mb > max_rss_mb:
            found.append(f"RSS {rss_mb:.0f} MB (limit {max_rss_mb} MB)")
        fds = open_files()
        if fds is None:
            fds = self._process.num_fds()
        if fds > self.limits.max_open_fds:
            found.append(f"{fds} open fds other than sockets (limit {self.limits.max_open_fds})")
        for worker in self._workers:
            problem = worker.problem()
            if problem is not None:
                found.append(problem)
        return found
