"""The `laundrybot` command against a real gateway process."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from laundrybot.cli import build_parser, main
from laundrybot.config import Config
from laundrybot.runner import SERVICES, Runner
from laundrybot.service import Service


def run(
    *args: str, stdin: str | None = None, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "laundrybot", *args],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_talk_asks_and_prints_answers(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())
    result = run("talk", gw.url, "-q", "how much is a wash", "-q", "what are your hours")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "3.50" in lines[0]


def test_talk_interactive_shows_state_and_answers(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())
    result = run("talk", gw.url, stdin="how much is a wash\n")
    assert result.returncode == 0, result.stderr
    assert "[connected, session " in result.stdout
    assert "laundrybot (prices):" in result.stdout


def test_talk_reports_an_unreachable_gateway(write_config):
    result = run("talk", "ws://127.0.0.1:9/kiosk", "-q", "hello")
    assert result.returncode == 3
    assert "cannot reach ws://127.0.0.1:9/kiosk" in result.stderr


def test_status_summarises_a_running_gateway(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())
    run("talk", gw.url, "-q", "how much is a wash")
    result = run("status", gw.http)
    assert result.returncode == 0, result.stdout
    assert f"laundrybot at {gw.http}: READY" in result.stdout
    assert "spool" in result.stdout and "ok" in result.stdout
    assert "turns answered: 1 (knowledge 1)" in result.stdout
    assert "memory" in result.stdout


def test_status_of_nothing_says_not_reachable():
    result = run("status", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert "NOT REACHABLE" in result.stdout
    result = run("status", "--json", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert json.loads(result.stdout)["reachable"] is False


def test_status_with_a_broken_config_asks_the_running_gateway(
    write_config, start_gateway_process, tmp_path
):
    env = {"RUNTIME_DIRECTORY": str(tmp_path / "run")}
    config = write_config()
    gw = start_gateway_process(config, env=env)
    config.write_text("gateway: [this is not\n")  # the owner broke it after the start
    result = run("status", "--config", str(config), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"laundrybot at {gw.http}: READY"
    problem = [line for line in lines if "configuration on disk: INVALID" in line]
    assert len(problem) == 1 and str(config) in problem[0]
    result = run("status", "--json", "--config", str(config), env=env)
    data = json.loads(result.stdout)
    assert data["ready"] is True and data["url"] == gw.http
    assert str(config) in data["config_problem"]
    assert data["units"]["gateway"]["open_fds"] > 0


def test_status_with_a_broken_config_finds_its_own_instance_among_two(
    write_config, start_gateway_process, short_runtime
):
    # Outside systemd, two instances of one user: the runtime folder follows the config's
    # path (not its contents), so status with the broken file finds that file's gateway.
    env = {"XDG_RUNTIME_DIR": str(short_runtime), "RUNTIME_DIRECTORY": ""}
    first, second = write_config(name="first.yaml"), write_config(name="second.yaml")
    gw_first = start_gateway_process(first, env=env)
    gw_second = start_gateway_process(second, env=env)
    assert gw_first.port != gw_second.port
    first.write_text("gateway: [this is not\n")
    result = run("status", "--json", "--config", str(first), env=env)
    assert json.loads(result.stdout)["url"] == gw_first.http, result.stderr
    second.write_text("gateway: [this is not\n")
    result = run("status", "--json", "--config", str(second), env=env)
    assert json.loads(result.stdout)["url"] == gw_second.http, result.stderr


def test_machines_set_and_list(write_config, capsys):
    config = str(write_config())
    assert main(["machines", "--config", config, "set", "3", "busy", "--minutes", "12"]) == 0
    assert main(["machines", "--config", config, "set", "9", "out-of-order"]) == 0
    capsys.readouterr()
    assert main(["machines", "--config", config, "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    row3 = next(line for line in out if line.split()[:1] == ["3"])
    row9 = next(line for line in out if line.split()[:1] == ["9"])
    row1 = next(line for line in out if line.split()[:1] == ["1"])
    assert "busy" in row3 and "done in 12 min" in row3
    assert "out-of-order" in row9
    assert "unknown" in row1


def test_machines_set_validates(write_config, capsys):
    config = str(write_config())
    assert main(["machines", "--config", config, "set", "99", "free"]) == 1
    assert "no machine 99" in capsys.readouterr().err
    assert main(["machines", "--config", config, "set", "3", "free", "--minutes", "5"]) == 1
    assert "--minutes goes with 'busy'" in capsys.readouterr().err


# Every command, with --config after its action (as the man page promises).
CONFIG_ANYWHERE = [
    ["serve", "gateway"],
    ["check-config"],
    ["talk", "ws://127.0.0.1:9/kiosk"],
    ["status"],
    ["machines", "list"],
    ["machines", "set", "4", "busy"],
    ["escalations", "list", "--open"],
    ["escalations", "resolve", "1234abcd"],
    ["db", "migrate"],
    ["report", "--since", "1d"],
    ["cleanup", "--dry-run"],
    ["record-failure", "laundrybot-asr.service"],
    ["notify", "test"],
    ["models", "list"],
    ["models", "check"],
    ["models", "add", "vosk", "ko", "model.zip"],
]


@pytest.mark.parametrize("command", CONFIG_ANYWHERE, ids=lambda c: " ".join(c[:2]))
def test_config_is_accepted_after_the_action(command):
    parser = build_parser()
    assert parser.parse_args([*command, "--config", "x.yaml"]).config == "x.yaml"
    assert parser.parse_args(["--config", "x.yaml", *command]).config == "x.yaml"
    if len(command) > 1 and command[0] in ("machines", "escalations", "db", "notify", "models"):
        group, *rest = command
        args = parser.parse_args([group, "--config", "x.yaml", *rest])
        assert args.config == "x.yaml"


def test_machines_set_with_config_last(write_config, capsys):
    config = str(write_config())
    assert main(["machines", "set", "4", "busy", "--config", config]) == 0
    assert main(["machines", "list", "--config", config]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "busy" in next(line for line in out if line.split()[:1] == ["4"])


# The gateway's /metrics with another unit merged in (as unitmetrics.merge labels it): the
# gateway's own process samples carry unit="gateway", the recorder's unit="recorder".
MERGED = """\
# TYPE laundrybot_process_resident_memory_bytes gauge
laundrybot_process_resident_memory_bytes{unit="gateway"} 40894464
laundrybot_process_resident_memory_bytes{unit="recorder"} 174063616
# TYPE laundrybot_process_open_fds gauge
laundrybot_process_open_fds{unit="gateway"} 13
laundrybot_process_open_fds{unit="recorder"} 14
# TYPE laundrybot_process_threads gauge
laundrybot_process_threads{unit="gateway"} 3
laundrybot_process_threads{unit="recorder"} 5
"""


def test_status_shows_each_units_own_memory_and_fds():
    from laundrybot.status import collect, format_status

    text = format_status({"url": "http://x", "reachable": True, **collect({"ready": True}, MERGED)})
    gateway = next(line for line in text.splitlines() if "gateway:" in line)
    recorder = next(line for line in text.splitlines() if "recorder:" in line)
    assert "memory 39 MB, open fds 13, threads 3" in gateway
    assert "memory 166 MB, open fds 14, threads 5" in recorder
    assert text.index("gateway:") < text.index("recorder:")


# Two gateway peers: each reports its own turns and the kiosks it served.
PEERS = """\
# TYPE laundrybot_turns_total counter
laundrybot_turns_total{source="knowledge",unit="gateway@1"} 5
laundrybot_turns_total{source="knowledge",unit="gateway@2"} 3
# TYPE laundrybot_kiosk_connected gauge
laundrybot_kiosk_connected{kiosk="front",unit="gateway@1"} 0
laundrybot_kiosk_connected{kiosk="front",unit="gateway@2"} 1
# TYPE laundrybot_kiosk_last_seen_seconds gauge
laundrybot_kiosk_last_seen_seconds{kiosk="front",unit="gateway@1"} 600
laundrybot_kiosk_last_seen_seconds{kiosk="front",unit="gateway@2"} 2
# TYPE laundrybot_kiosk_reconnects_total counter
laundrybot_kiosk_reconnects_total{kiosk="front",unit="gateway@1"} 1
laundrybot_kiosk_reconnects_total{kiosk="front",unit="gateway@2"} 2
"""


def test_status_adds_up_the_gateway_peers():
    from laundrybot.status import collect

    data = collect({"ready": True}, PEERS)
    assert data["turns"]["total"] == 8
    # Seen 2 s ago (by the peer it moved to), connected, reconnected three times in all.
    assert data["kiosks"]["front"] == {"connected": 1, "seen": 2, "reconnects": 3}


def test_machines_list_json(write_config, capsys):
    config = str(write_config())
    assert main(["machines", "set", "3", "busy", "--minutes", "12", "--config", config]) == 0
    capsys.readouterr()
    assert main(["machines", "list", "--json", "--config", config]) == 0
    rows = {row["number"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[3]["state"] == "busy" and rows[3]["until"] > rows[3]["updated"]
    assert rows[1]["state"] == "unknown" and rows[1]["until"] is None


def test_models_list_json(write_config, tmp_path, capsys):
    config = str(write_config({"asr": {"models": {"ko": str(tmp_path / "nothing")}}}))
    assert main(["models", "list", "--json", "--config", config]) == 0
    data = json.loads(capsys.readouterr().out)
    vosk = next(m for m in data["configured"] if m["kind"] == "vosk")
    assert vosk["lang"] == "ko" and vosk["ok"] is False
    assert vosk["problems"] == ["does not exist"]


def test_talk_in_korean_with_lang(write_config, start_gateway_process):
    gw = start_gateway_process(write_config())
    english = run("talk", gw.url, "-q", "세탁 얼마예요")
    korean = run("talk", gw.url, "--lang", "ko", "-q", "세탁 얼마예요")
    assert korean.returncode == 0, korean.stderr
    assert english.stdout != korean.stdout
    assert "3달러 50센트" in korean.stdout  # the Korean price answer
    assert any("\uac00" <= ch <= "\ud7a3" for ch in korean.stdout)  # Hangul in the answer
    unknown = run("talk", gw.url, "--lang", "fr", "-q", "hello")
    assert unknown.returncode == 0
    assert "no 'fr' knowledge" in unknown.stderr


# -- `laundrybot serve` all in one: the ready line tells the truth about in-process links ----


class FakeVoice:
    def __init__(self) -> None:
        self.poked = 0

    def asr_failed(self) -> None:
        self.poked += 1


class FakeGateway(Service):
    """Like the gateway: its link to the ASR unit starts unreachable and looks again later."""

    name = "gateway"

    async def start(self) -> None:
        self.address = "0.0.0.0:8765"
        self.voice = FakeVoice()
        self.ctx.readiness.set("voice-input", False, "speech recognition unit unreachable")

    async def stop(self) -> None:
        pass


class FakeAsr(Service):
    name = "asr"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, self.ctx.readiness.set, "voice-input", True, "")

    async def stop(self) -> None:
        pass


async def _ready_line(monkeypatch, tmp_path, names: list[str]) -> tuple[str, float, Runner]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path / "run"))
    monkeypatch.setitem(SERVICES, "gateway", f"{__name__}:FakeGateway")
    monkeypatch.setitem(SERVICES, "asr", f"{__name__}:FakeAsr")
    runner = Runner(names, None, Config())
    seen: list[str | None] = []
    monkeypatch.setattr(runner.notifier, "ready", seen.append)
    started = time.monotonic()
    task = asyncio.create_task(runner.run())
    while not seen:
        await asyncio.sleep(0.01)
    took = time.monotonic() - started
    runner.request_stop()
    assert await task == 0
    return str(seen[0]), took, runner


async def test_all_in_one_ready_waits_for_the_in_process_links(monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.INFO, "laundrybot")
    status, took, runner = await _ready_line(monkeypatch, tmp_path, ["gateway", "asr"])
    assert "degraded" not in status
    assert took < 3
    assert runner.services[0].voice.poked == 1  # type: ignore[attr-defined]
    assert "kiosk screens: open http://127.0.0.1:8765/?kiosk=NAME" in caplog.text
    assert "talk ws://127.0.0.1:8765/kiosk" in caplog.text
    assert (tmp_path / "run" / "gateway.url").read_text() == "http://127.0.0.1:8765\n"


async def test_gateway_alone_does_not_wait_for_a_unit_elsewhere(monkeypatch, tmp_path):
    status, took, _ = await _ready_line(monkeypatch, tmp_path, ["gateway"])
    assert "degraded: voice-input (speech recognition unit unreachable)" in status
    assert took < 1


MAN_PAGE = Path(__file__).resolve().parent.parent / "debian" / "laundrybot.1"


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix}{name}")
                found += _commands(sub, f"{prefix}{name} ")
    return found


def test_the_man_page_covers_every_command_and_exit_status():
    # groff escapes: "\-" is "-"; fonts "\fB...\fR" go.
    text = re.sub(r"\\f[BIRP]", "", MAN_PAGE.read_text()).replace("\\-", "-")
    text = re.sub(r'"\s*"', "", re.sub(r"^\.(BR|B|BI|RI|TQ|TP) ?", "", text, flags=re.M))
    words = " ".join(text.split())
    for command in _commands(build_parser()):
        assert command in words, f"the man page does not mention `laundrybot {command}`"
    assert "laundrybot-notify.service" in words
    assert ".SH EXIT STATUS" in text and ".SH EXAMPLES" in text
    exit_status = text.split(".SH EXIT STATUS")[1].split(".SH")[0]
    for code in ("0", "1", "2", "3"):
        assert f"\n{code}\n" in exit_status


def test_the_readme_status_examples_are_status_output_for_every_unit():
    # The README's figures come from a real run: one line per unit as status prints it
    # (`UNIT: memory N MB, ...`), every unit of the split setup, and the all-in-one process.
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Reading `laundrybot status`", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    unit_line = re.compile(
        r"  ([a-z+@0-9]+): memory (\d+) MB, open fds \d+, threads \d+, up \d+[dhm] \d+[hms]"
    )
    memory_lines = [line for b in blocks for line in b.splitlines() if "memory" in line]
    assert memory_lines and all(unit_line.fullmatch(line) for line in memory_lines)
    split = {m.group(1) for m in map(unit_line.fullmatch, blocks[0].splitlines()) if m}
    # Under systemd the gateway runs as two peers.
    assert {"gateway@1", "gateway@2"} <= split
    assert {unit.partition("@")[0] for unit in split} == set(SERVICES)
    all_in_one = [m for m in map(unit_line.fullmatch, blocks[1].splitlines()) if m]
    assert [m.group(1) for m in all_in_one] == ["+".join(SERVICES)]
    assert all(
        line.startswith("laundrybot at http://") for line in (b.splitlines()[0] for b in blocks)
    )
