"""Runs one or more services in one event loop and keeps systemd informed.

SIGTERM/SIGINT -> STOPPING=1 and a graceful stop; SIGHUP -> RELOADING=1, re-read and validate
everything, switch atomically, READY=1. The watchdog task pings only while the process is
healthy in ways a restart could fix; a blocked loop cannot run it, so systemd restarts us.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from laundrybot import unitmetrics
from laundrybot.config import Config, effective_health, load_config, make_private_folder
from laundrybot.errors import ConfigError
from laundrybot.health import Liveness, LoopLagMonitor, Readiness
from laundrybot.metrics import RunnerMetrics
from laundrybot.service import Service, ServiceContext
from laundrybot.systemd import Notifier, listen_sockets, watchdog_interval

log = logging.getLogger("laundrybot")

# Unit name -> "module:Class". `laundrybot serve` with no name runs them all.
SERVICES: dict[str, str] = {
    "gateway": "laundrybot.gateway.server:GatewayService",
    "asr": "laundrybot.asr.service:AsrService",
    "tts": "laundrybot.tts.service:TtsService",
    "recorder": "laundrybot.recorder:RecorderService",
    "notify": "laundrybot.notify.service:NotifyService",
    "machines": "laundrybot.machines.service:MachinesService",
}

# Units that may run as several peers ("gateway@1", "gateway@2"): each its own process on the
# same listening socket, so one that hangs leaves the kiosks to the other (ARCHITECTURE.md).
PEER_UNITS = frozenset({"gateway"})
PEER_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")

# Seconds between STATUS= refreshes when nothing pushes one sooner.
STATUS_REFRESH = 5.0
# Readiness entries that are the gateway's links to another unit, by that unit. All in one
# process, that unit has only just started when READY=1 would go: the link has not looked
# again yet, and "unreachable" would be untrue. Wait for it, at most LINK_WAIT seconds.
IN_PROCESS_LINKS = {"voice-input": "asr", "voice-output": "tts"}
LINK_WAIT = 5.0


def base_name(unit: str) -> str:
    """The service a unit name runs: "gateway" for "gateway@2"."""
    return unit.partition("@")[0]


def valid_unit(unit: str) -> bool:
    base, at, peer = unit.partition("@")
    if not at:
        return base in SERVICES
    return base in PEER_UNITS and PEER_NAME.fullmatch(peer) is not None


def service_class(name: str) -> type[Service]:
    module_name, _, class_name = SERVICES[base_name(name)].partition(":")
    cls: type[Service] = getattr(importlib.import_module(module_name), class_name)
    return cls


def setup_logging(level: str) -> None:
    """Log to stderr; under journald, prefix syslog priorities instead of timestamps."""
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # websockets logs every failed handshake at ERROR/INFO; those are the client's problem.
    logging.getLogger("websockets").setLevel(logging.WARNING)


class _JournalFormatter(logging.Formatter):
    PRIORITY: ClassVar[dict[str, int]] = {
        "DEBUG": 7,
        "INFO": 6,
        "WARNING": 4,
        "ERROR": 3,
        "CRITICAL": 2,
    }

    def format(self, record: logging.LogRecord) -> str:
        return f"<{self.PRIORITY.get(record.levelname, 6)}>" + super().format(record)


class AlreadyRunning(Exception):
    """Another process runs this unit for the same configuration."""


def lock_unit(runtime: Path, unit: str, config_file: Path | None) -> int:
    """Hold ``<runtime>/<unit>.lock`` (flock) for as long as the returned descriptor is open.

    Two instances of one configuration would share sockets and spool; the second is refused,
    naming the pid of the first (written into the file by whoever holds the lock). flock is
    per open file, so a second runner in the same process is refused as well.
    """
    make_private_folder(runtime)
    path = runtime / f"{unit}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        source = f"the configuration {config_file}" if config_file else "the built-in defaults"
        raise AlreadyRunning(
            f"laundrybot {unit} is already running for {source} (pid {holder}, lock {path}); "
            "stop it first, or give this one another --config"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class Runner:
    def __init__(self, names: list[str], config_file: Path | None, config: Config) -> None:
        self.names = names
        self.bases = [base_name(name) for name in names]
        self.config_file = config_file
        self.notifier = Notifier()
        self.lag = LoopLagMonitor()
        self.readiness = Readiness()
        # Without a cgroup memory limit, health.max_rss_mb is the one that restarts us.
        self.metrics = RunnerMetrics(
            "+".join(names), fallback_limit=lambda: self.ctx.liveness.limits.max_rss_mb * 2**20
        )
        self.ctx = ServiceContext(
            config=config,
            readiness=self.readiness,
            liveness=Liveness(effective_health(config, names), self.lag),
            registry=self.metrics.registry,
            listen_sockets=listen_sockets(),
            status_changed=self._status_soon,
            unit="+".join(names),
        )
        self.services: list[Service] = [service_class(name)(self.ctx) for name in names]
        self._stop = asyncio.Event()
        self._status_wakeup = asyncio.Event()
        self._reloading: asyncio.Task[bool] | None = None
        self._last_status = ""
        # The instance's folder for sockets and locks: it follows the main file's path, which a
        # reload does not change.
        self.runtime = config.runtime_path
        self._locks: list[int] = []

    def _lock(self) -> None:
        try:
            for name in self.names:
                self._locks.append(lock_unit(self.runtime, name, self.config_file))
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        for fd in self._locks:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._locks.clear()

    async def run(self) -> int:
        try:
            self._lock()
        except (AlreadyRunning, OSError, RuntimeError) as exc:
            log.error("not starting: %s", exc)
            self.notifier.status(f"failed to start: {exc}")
            return 1
        try:
            return await self._run()
        finally:
            self._unlock()

    async def _run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.request_stop)
        loop.add_signal_handler(signal.SIGINT, self.request_stop)
        loop.add_signal_handler(signal.SIGHUP, self._reload_soon)
        self.lag.start()
        self.readiness.set("config", True)
        self.readiness.subscribe(self._status_soon)
        background: list[asyncio.Task[None]] = []
        interval = watchdog_interval()
        if interval is not None:
            # Ping during start-up too: loading models may take longer than WatchdogSec.
            background.append(asyncio.create_task(self._watchdog(interval), name="watchdog"))
        started: list[Service] = []
        try:
            for service in self.services:
                self.notifier.status(f"starting {service.name}")
                await service.start()
                started.append(service)
        except Exception as exc:
            log.error("could not start %s: %s", self.services[len(started)].name, exc)
            self.notifier.status(f"failed to start: {exc}")
            await self._stop_services(started)
            await self._cancel(background)
            return 1
        metrics_server = None
        if "gateway" not in self.bases or "@" in self.ctx.unit:
            # The gateway serves /metrics for every unit on this PC: let it read ours (a
            # gateway peer shares its own too, so that each peer's /metrics carries both).
            unit = "+".join(self.names)
            try:
                metrics_server = await unitmetrics.serve(self.metrics.registry, unit, self.runtime)
            except OSError as exc:
                log.warning("metrics not shared with the gateway: %s", exc)
        await self._settle_links()
        gateway = next((s for s in self.services if s.name == "gateway"), None)
        address = getattr(gateway, "address", "")
        if address:
            from laundrybot.status import remember_url

            remember_url(address, self.runtime)
        status = self.status_line()
        self.notifier.ready(status)
        log.info("ready: %s", status)
        if address:
            self._log_how_to_connect(address)
        background.append(asyncio.create_task(self._status_loop(), name="status"))
        await self._stop.wait()
        log.info("stopping")
        self.notifier.stopping("stopping")
        if self._reloading is not None:
            await asyncio.gather(self._reloading, return_exceptions=True)
        await self._stop_services(started)
        if metrics_server is not None:
            await unitmetrics.close(metrics_server, "+".join(self.names), self.runtime)
        await self._cancel(background)
        await self.lag.stop()
        return 0

    async def _settle_links(self) -> None:
        """All in one: give the links to units started in this process a moment to connect."""
        waiting = [
            dep
            for dep, unit in IN_PROCESS_LINKS.items()
            if unit in self.bases and dep in self.readiness.degraded
        ]
        if not waiting:
            return
        gateway = next((s for s in self.services if s.name == "gateway"), None)
        voice = getattr(gateway, "voice", None)
        # Their "failed" hooks make the links look again now instead of after their backoff.
        for hook in ("asr_failed", "tts_failed"):
            poke = getattr(voice, hook, None)
            if callable(poke):
                poke()
        changed = asyncio.Event()
        unsubscribe = self.readiness.subscribe(changed.set)
        try:
            async with asyncio.timeout(LINK_WAIT):
                while any(dep in self.readiness.degraded for dep in waiting):
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            pass  # the ready line then says what is still down, and that is true
        finally:
            unsubscribe()

    @staticmethod
    def _log_how_to_connect(address: str) -> None:
        from laundrybot.status import http_base

        base = http_base(address)
        # `laundrybot` is on PATH under the package; from a source checkout only in its venv.
        command = "laundrybot" if shutil.which("laundrybot") else f"{sys.executable} -m laundrybot"
        log.info("kiosk screens: open %s/?kiosk=NAME (NAME: the screen's, e.g. front)", base)
        log.info(
            "a terminal kiosk: %s talk %s", command, base.replace("http://", "ws://") + "/kiosk"
        )

    def request_stop(self) -> None:
        """What SIGTERM does; for embedding the runner (tests, benchmarks)."""
        self._stop.set()

    def status_line(self) -> str:
        parts = [p for p in (s.status() for s in self.services) if p]
        degraded = self.readiness.degraded
        if degraded:
            details = []
            for name in degraded:
                dep = self.readiness.get(name)
                details.append(f"{name} ({dep.detail})" if dep and dep.detail else name)
            parts.append("degraded: " + ", ".join(details))
        return "; ".join(parts) or "running"

    # -- reload ---------------------------------------------------------------------------

    def _reload_soon(self) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloading = asyncio.create_task(self.reload(), name="reload")

    async def reload(self) -> bool:
        """Re-read the configuration; all services switch together or none does."""
        self.notifier.reloading()
        log.info("reloading configuration")
        try:
            config = await asyncio.to_thread(load_config, self.config_file)
            commits: list[Callable[[], None]] = []
            for service in self.services:
                commits.append(await service.prepare_reload(config))
        except ConfigError as exc:
            log.error("reload refused, keeping the running configuration: %s", exc)
            self.readiness.set("config", False, f"reload refused: {exc}")
            self.metrics.reloads.labels("refused").inc()
            self.notifier.ready(self.status_line())
            return False
        for commit in commits:
            commit()
        self.ctx.config = config
        self.ctx.liveness.limits = effective_health(config, self.names)
        self.readiness.set("config", True)
        self.metrics.reloads.labels("ok").inc()
        log.info("configuration reloaded")
        self.notifier.ready(self.status_line())
        return True

    # -- background tasks -------------------------------------------------------------------

    async def _watchdog(self, interval: float) -> None:
        while True:
            problems = self.ctx.liveness.problems()
            self.metrics.loop_lag.set(self.lag.last_lag)
            if problems:
                self.metrics.watchdog_skipped.inc()
                log.warning("withholding the watchdog ping: %s", "; ".join(problems))
            else:
                self.notifier.watchdog()
            await asyncio.sleep(interval)

    def _status_soon(self) -> None:
        self._status_wakeup.set()

    async def _status_loop(self) -> None:
        while True:
            self.metrics.ready.set(1 if self.readiness.ready else 0)
            for dep in self.readiness.dependencies():
                self.metrics.dependency_up.labels(dep.name).set(1 if dep.ok else 0)
            status = self.status_line()
            if status != self._last_status:
                self._last_status = status
                self.notifier.status(status)
            self._status_wakeup.clear()
            try:
                await asyncio.wait_for(self._status_wakeup.wait(), STATUS_REFRESH)
            except TimeoutError:
                pass

    async def _stop_services(self, services: list[Service]) -> None:
        for service in reversed(services):
            try:
                await service.stop()
            except Exception:
                log.exception("error while stopping %s", service.name)

    @staticmethod
    async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def run(names: list[str], config_file: Path | None) -> int:
    """Entry point of `laundrybot serve`: exit 0 after a clean stop, 1 on a start failure."""
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        print(f"laundrybot: invalid configuration: {exc}", file=sys.stderr)
        return 1
    setup_logging(config.log_level)
    unknown = [n for n in names if not valid_unit(n)]
    if unknown:
        peers = ", ".join(f"{name}@N" for name in sorted(PEER_UNITS))
        print(
            f"laundrybot: unknown unit {', '.join(unknown)} "
            f"(known: {', '.join(SERVICES)}; peers: {peers})",
            file=sys.stderr,
        )
        return 2
    if len({base_name(n) for n in names}) < len(names):
        print("laundrybot: a unit named twice (run peers as separate processes)", file=sys.stderr)
        return 2
    return asyncio.run(_run(names or list(SERVICES), config_file, config))


async def _run(names: list[str], config_file: Path | None, config: Config) -> int:
    return await Runner(names, config_file, config).run()
