"""The kiosk page in a real headless Chromium (Debian's `chromium`), driven by Playwright.

Playwright comes from PyPI (the `test` extra) with its own driver; the browser is the system's
/usr/bin/chromium, never one downloaded by `playwright install`. The tests skip, saying why,
when either is missing; `.ci/test` installs both.

Gateways run as `laundrybot serve gateway` child processes on a fixed loopback port (so one can
be stopped and another started on the same port), sharing one pair of real ASR and TTS units.
Screenshots go to artifacts/browser/ at the repository root (ignored by git).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import KNOWLEDGE, ROOT, NotifyListener, socket_activated
from tests.voiceunit import Unit, run_unit

CHROMIUM = os.environ.get("LAUNDRYBOT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
# The machine has no internet: without these Chromium keeps trying to reach its services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


SKIP_REASON = _skip_reason()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if SKIP_REASON is None:
        return
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- gateways ------------------------------------------------------------------------------


@dataclass
class Gateway:
    proc: subprocess.Popen[bytes]
    notify: NotifyListener
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.notify.close()


@dataclass
class Gateways:
    """Starts `laundrybot serve gateway` processes; all are stopped at the end of the test."""

    folder: Path
    units_folder: Path | None
    started: list[Gateway] = field(default_factory=list)
    _listeners: list[socket.socket] = field(default_factory=list)

    def config(self, port: int, voice: bool) -> Path:
        settings: dict[str, Any] = {
            "knowledge": str(KNOWLEDGE),
            "gateway": {"listen": f"127.0.0.1:{port}", "voice": {"silence_ms": 500}},
            "store": {"spool": str(self.folder / "spool.sqlite"), "machine_refresh": 1},
        }
        if voice:
            assert self.units_folder is not None
            settings["asr"] = {"socket": str(self.units_folder / "asr.sock")}
            settings["tts"] = {
                "socket": str(self.units_folder / "tts.sock"),
                "cache_dir": str(self.units_folder / "tts-cache"),
            }
        else:
            settings["gateway"]["voice"] |= {"input": False, "output": False}
        path = self.folder / f"gateway-{port}-{'voice' if voice else 'text'}.yaml"
        path.write_text(yaml.safe_dump(settings, allow_unicode=True))
        return path

    def start(self, port: int | None = None) -> Gateway:
        port = port or free_port()
        voice = self.units_folder is not None
        n = len(self.started)
        notify = NotifyListener(self.folder / f"gateway-{n}-notify.sock")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
        env |= {"NOTIFY_SOCKET": str(notify.path), "PYTHONUNBUFFERED": "1"}
        log = self.folder / f"gateway-{n}.log"
        command = [sys.executable, "-m", "laundrybot", "serve", "gateway"]
        proc = subprocess.Popen(
            [*command, "--config", str(self.config(port, voice))],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        gateway = Gateway(proc, notify, port, log)
        self.started.append(gateway)
        try:
            notify.wait_for("READY", "1", timeout=30)
        except AssertionError:
            gateway.stop(5)
            raise AssertionError(f"gateway did not start:\n{log.read_text()}") from None
        return gateway

    def start_peers(self) -> list[Gateway]:
        """Two peers, `serve gateway@1` and `@2`, on one listening socket (as systemd runs
        them: the socket passed as fd 3 with LISTEN_FDS)."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listeners.append(listener)
        port = int(listener.getsockname()[1])
        config = self.config(port, self.units_folder is not None)
        peers = []
        for name in ("gateway@1", "gateway@2"):
            n = len(self.started)
            notify = NotifyListener(self.folder / f"gateway-{n}-notify.sock")
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))
            }
            env |= {"NOTIFY_SOCKET": str(notify.path), "PYTHONUNBUFFERED": "1"}
            log = self.folder / f"gateway-{n}.log"
            proc = subprocess.Popen(
                socket_activated(listener.fileno(), name, config),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),),
            )
            gateway = Gateway(proc, notify, port, log)
            self.started.append(gateway)
            notify.wait_for("READY", "1", timeout=30)
            peers.append(gateway)
        return peers

    def stop_all(self) -> None:
        for listener in self._listeners:
            listener.close()
        for gateway in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(gateway.proc.pid, signal.SIGCONT)  # one a test left hung
            if gateway.proc.poll() is None:
                gateway.proc.kill()
                gateway.proc.wait()
            gateway.notify.close()


@pytest.fixture(scope="session")
def voice_units(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Real ASR (Korean Vosk) and TTS (English Piper) units, shared by the browser tests."""
    if SKIP_REASON is not None:
        pytest.skip(SKIP_REASON)
    folder = tmp_path_factory.mktemp("browser-units")
    settings = {
        "asr": {"socket": str(folder / "asr.sock")},
        "tts": {"socket": str(folder / "tts.sock"), "cache_dir": str(folder / "tts-cache")},
        "store": {"spool": str(folder / "spool.sqlite")},
    }
    config = folder / "laundrybot.yaml"
    config.write_text(yaml.safe_dump(settings))
    units: list[Unit] = [run_unit("asr", config, folder), run_unit("tts", config, folder)]
    yield folder
    for unit in units:
        unit.stop()


@pytest.fixture
def gateways(tmp_path: Path) -> Iterator[Gateways]:
    """Gateways without voice: typed questions only (they start in a second)."""
    found = Gateways(tmp_path, None)
    yield found
    found.stop_all()


@pytest.fixture
def voice_gateways(tmp_path: Path, voice_units: Path) -> Iterator[Gateways]:
    """Gateways linked to the shared ASR and TTS units."""
    found = Gateways(tmp_path, voice_units)
    yield found
    found.stop_all()


# -- the browser ---------------------------------------------------------------------------


@dataclass
class KioskPage:
    """A Playwright page on the kiosk, with what it logged."""

    page: Any
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tapped: bool = False

    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def wait(self, expression: str, timeout: float = 15) -> Any:
        """Wait until the JS expression is truthy; fail with the page's state if it is not."""
        try:
            return self.page.wait_for_function(expression, timeout=timeout * 1000)
        except Exception as exc:
            state = self.js(
                "JSON.stringify({state: {...window.kiosk?.state, info: null}, "
                "stats: window.kiosk?.stats, conn: window.kiosk?.connection.stats})"
            )
            raise AssertionError(
                f"timed out waiting for {expression}\npage: {state}\nconsole: {self.console[-15:]}"
            ) from exc

    def console_errors(self, allow: tuple[str, ...] = ()) -> list[str]:
        bad = [text for kind, text in self.console if kind == "error"]
        bad = [text for text in bad if not any(a in text for a in allow)]
        return bad + self.errors

    def screenshot(self, name: str, scale: float = 1.0) -> Path:
        """Save a screenshot in artifacts/browser/; ``scale`` < 1 makes a smaller picture."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        if scale == 1.0:
            self.page.screenshot(path=str(path))
            return path
        size = self.page.viewport_size
        cdp = self.page.context.new_cdp_session(self.page)
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": scale}
        shot = cdp.send("Page.captureScreenshot", {"format": "png", "clip": clip})
        path.write_bytes(base64.b64decode(shot["data"]))
        cdp.detach()
        return path


@pytest.fixture
def browser() -> Iterator[Callable[..., Any]]:
    """launch(*extra_args) -> a Chromium browser; closed at the end of the test."""
    from playwright.sync_api import sync_playwright

    manager = sync_playwright()
    playwright = manager.start()
    launched: list[Any] = []

    def launch(*extra: str) -> Any:
        found = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra]
        )
        launched.append(found)
        return found

    yield launch
    for found in launched:
        try:
            found.close()
        except Exception:
            pass  # already gone
    manager.__exit__(None, None, None)


def open_kiosk(
    browser: Any, url: str, width: int = 1920, height: int = 1080, init_script: str = ""
) -> KioskPage:
    """Open the page like a kiosk screen, and give it the owner's one tap if it asks for it."""
    page = browser.new_page(viewport={"width": width, "height": height})
    if init_script:
        page.add_init_script(init_script)
    kiosk = KioskPage(page)
    page.on("console", lambda message: kiosk.console.append((message.type, message.text)))
    page.on("pageerror", lambda error: kiosk.errors.append(str(error)))
    page.goto(url)
    kiosk.wait("window.kiosk && window.kiosk.state.conn === 'online'")
    kiosk.wait("window.kiosk.state.audioReady || !document.getElementById('start').hidden")
    if page.locator("#start").is_visible():
        kiosk.tapped = True
        page.locator("#start-button").click(force=True)  # it breathes: never "stable"
        kiosk.wait("window.kiosk.state.audioReady && document.getElementById('start').hidden")
    return kiosk
