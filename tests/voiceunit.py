"""`laundrybot serve asr|tts` in a child process with a fake NOTIFY_SOCKET, for the voice tests.

The models take seconds and hundreds of MB to load, so test modules share one unit each
(module-scoped fixtures) and talk to it over its real Unix socket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import yaml

from tests.conftest import NotifyListener


@dataclass
class Unit:
    proc: subprocess.Popen[bytes]
    notify: NotifyListener
    socket: Path
    log: Path

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.notify.close()


def write_config(folder: Path, settings: dict[str, Any]) -> Path:
    path = folder / "laundrybot.yaml"
    path.write_text(yaml.safe_dump(settings, allow_unicode=True))
    return path


def run_unit(name: str, config: Path, folder: Path, env: dict[str, str] | None = None) -> Unit:
    """Start the unit; returns once it sent READY=1 (raises with its output if it exits)."""
    notify = NotifyListener(folder / f"{name}-notify.sock")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    full_env |= {"NOTIFY_SOCKET": str(notify.path), "PYTHONUNBUFFERED": "1"} | (env or {})
    log = folder / f"{name}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", name, "--config", str(config)],
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    settings = yaml.safe_load(config.read_text()) or {}
    unit = Unit(proc, notify, Path(settings.get(name, {}).get("socket", "")), log)
    try:
        notify.wait_for("READY", "1", timeout=60)
    except AssertionError:
        unit.stop(5)
        raise AssertionError(f"{name} did not become ready:\n{unit.output()}") from None
    return unit


def run_to_exit(name: str, config: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a unit that is expected to fail at start; returns its exit code and output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.run(
        [sys.executable, "-m", "laundrybot", "serve", name, "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
