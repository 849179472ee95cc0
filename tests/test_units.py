"""The systemd unit files in systemd/: `systemd-analyze verify` and `security`, on the host.

`systemd-analyze verify` exits 0 even for errors it only ignores ("Unknown key ...,
ignoring"), so any output at all fails the test. It also checks that ExecStart= binaries
exist: the units run /opt/venvs/laundrybot/bin/laundrybot, which the package installs, so
verify runs against a temporary root holding the units, a copy of the host's own units (for
sysinit.target and friends), /bin/kill (ExecReload=) and a stub executable at the venv's path,
standing in for the packaged command for this check only. The system tests verify the
installed units again inside the container, with the real command.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted(p for p in (ROOT / "systemd").iterdir() if p.is_file())
SERVICES = [u for u in UNITS if u.suffix == ".service"]
# The drop-in every laundrybot-*.service shares (the sandbox).
SHARED_DROPIN = ROOT / "systemd" / "laundrybot-.service.d" / "sandbox.conf"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)"
)


def unit_settings(path: Path) -> dict[str, list[str]]:
    """The settings of a unit file together with the shared drop-in, as systemd reads them."""
    settings: dict[str, list[str]] = {}
    sources = [path, SHARED_DROPIN] if path.name.startswith("laundrybot-") else [path]
    for source in sources:
        for line in source.read_text().splitlines():
            if "=" in line and not line.startswith(("#", "[")):
                key, _, value = line.partition("=")
                settings.setdefault(key.strip(), []).append(value.strip())
    return settings


# Every long-running unit is Type=notify; derived so a new unit cannot be left out. The
# gateway is a template ("gateway@": its peers @1 and @2).
LONG_RUNNING = sorted(
    u.name.removeprefix("laundrybot-").removesuffix(".service")
    for u in SERVICES
    if unit_settings(u).get("Type") == ["notify"]
)


def unit_root(tmp_path: Path) -> Path:
    """A root holding our units and the shared drop-in where systemd looks for them."""
    root = tmp_path / "root"
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy2(unit, units / unit.name)
    shutil.copytree(SHARED_DROPIN.parent, units / SHARED_DROPIN.parent.name)
    return root


def test_the_long_running_units_are_all_found():
    assert set(LONG_RUNNING) >= {"gateway@", "asr", "tts", "recorder", "notify", "machines"}


def test_the_units_verify_without_a_word(tmp_path):
    root = unit_root(tmp_path)
    units = root / "etc" / "systemd" / "system"
    shutil.copytree(
        "/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True
    )
    stub = root / "opt" / "venvs" / "laundrybot" / "bin" / "laundrybot"
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    (root / "bin").mkdir()
    shutil.copy2("/bin/kill", root / "bin" / "kill")
    names = [u.name for u in UNITS]
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", *names],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 0 and output == "", output


def test_a_broken_unit_is_caught(tmp_path):
    """The check above would see a typo: verify prints it (and still exits 0)."""
    broken = tmp_path / "laundrybot-broken.service"
    broken.write_text("[Service]\nType=notfy\nExecStart=/bin/true\n")
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "notfy" in done.stdout + done.stderr


@pytest.mark.parametrize("unit", SERVICES, ids=lambda u: u.name)
def test_each_service_scores_2_or_less_in_systemd_analyze_security(unit, tmp_path):
    root = unit_root(tmp_path)
    # A template is scored as an instance.
    name = unit.name.replace("@.service", "@laundrybot-asr.service.service")
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--root={root}", "--no-pager", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout + done.stderr)
    assert match, done.stdout + done.stderr
    score = float(match.group(1))
    print(f"\n[units] systemd-analyze security {unit.name}: {score}")
    assert score <= 2.0


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_units_have_the_supervision_settings(name):
    settings = unit_settings(ROOT / "systemd" / f"laundrybot-{name}.service")
    for key in (
        "WatchdogSec", "RestartSec", "StartLimitIntervalSec", "TimeoutAbortSec",
        "TimeoutStartSec", "MemoryMax", "LimitNOFILE", "TasksMax",
    ):  # fmt: skip
        assert key in settings, key
    # Never gives up by itself (the gateway's socket would fail with it): see the unit files.
    assert settings["StartLimitIntervalSec"] == ["0"]
    # A hang is noticed and restarted well within 10 s (the system tests measure it).
    watchdog = float(settings["WatchdogSec"][0].removesuffix("s"))
    restart = float(settings["RestartSec"][0].removesuffix("s"))
    assert watchdog + restart <= 6
    assert settings["Type"] == ["notify"]
    assert settings["Restart"] == ["always"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert settings["LimitCORE"] == ["0"]
    assert settings["SyslogIdentifier"] == [f"laundrybot-{name.removesuffix('@')}"]
    unit = f"{name}%i" if name.endswith("@") else name  # a peer runs as gateway@1, @2
    assert settings["ExecStart"] == [f"/opt/venvs/laundrybot/bin/laundrybot serve {unit}"]
    assert settings["PartOf"] == ["laundrybot.target"]
    assert settings["ReloadPropagatedFrom"] == ["laundrybot.target"]
    # Each failure is recorded: ExecStopPost= after every crash or hang (systemd 252 runs
    # OnFailure= only when the unit gives up), OnFailure= when it gives up.
    assert settings["OnFailure"] == ["laundrybot-failure@%n.service"]
    assert settings["ExecStopPost"] == ["/opt/venvs/laundrybot/bin/laundrybot record-failure %n"]
    # One shared set of folders: the sockets in /run/laundrybot outlive a single unit's stop.
    assert settings["RuntimeDirectory"] == ["laundrybot"]
    assert settings["RuntimeDirectoryPreserve"] == ["yes"]
    assert settings["StateDirectory"] == ["laundrybot"]
    assert settings["CacheDirectory"] == ["laundrybot laundrybot/tmp"]
    assert settings["User"] == ["laundrybot"]


@pytest.mark.parametrize("unit", SERVICES, ids=lambda u: u.name)
def test_every_service_gets_the_shared_sandbox(unit, tmp_path):
    """systemd itself must apply the drop-in: a unit scored without it is 9 (unsafe)."""
    root = unit_root(tmp_path)
    name = unit.name.replace("@.service", "@x.service")
    shown = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", f"--root={root}", "--no-pager", name],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = shown.stdout + shown.stderr
    # With the drop-in, the sandbox lines are in force (a ✓ for no new privileges).
    assert re.search(r"✓\s+NoNewPrivileges=", out), out


def test_the_gateway_peers_share_one_socket_and_the_timer_is_persistent():
    gateway = unit_settings(ROOT / "systemd" / "laundrybot-gateway@.service")
    assert gateway["Requires"] == ["laundrybot-gateway.socket"]
    assert "laundrybot-gateway.socket" in gateway["After"]
    # Both peers inherit the listening socket; it starts the first if nothing runs.
    assert gateway["Sockets"] == ["laundrybot-gateway.socket"]
    assert "WantedBy" not in gateway  # the target wants both instances
    socket = unit_settings(ROOT / "systemd" / "laundrybot-gateway.socket")
    assert socket["ListenStream"] == ["127.0.0.1:8765"]
    assert socket["Service"] == ["laundrybot-gateway@1.service"]
    target = unit_settings(ROOT / "systemd" / "laundrybot.target")
    assert target["Wants"] == ["laundrybot-gateway@1.service laundrybot-gateway@2.service"]
    timer = unit_settings(ROOT / "systemd" / "laundrybot-cleanup.timer")
    assert timer["Persistent"] == ["true"] and timer["RandomizedDelaySec"]
    cleanup = unit_settings(ROOT / "systemd" / "laundrybot-cleanup.service")
    assert cleanup["Type"] == ["oneshot"]
    assert cleanup["ExecStart"] == ["/opt/venvs/laundrybot/bin/laundrybot cleanup"]
    failure = unit_settings(ROOT / "systemd" / "laundrybot-failure@.service")
    assert failure["ExecStart"] == ["/opt/venvs/laundrybot/bin/laundrybot record-failure %i"]
    assert "OnFailure" not in failure  # no loop
