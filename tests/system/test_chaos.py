"""Chaos under systemd: random SIGKILL/SIGSTOP of every unit for minutes, under kiosk load.

Its own container (the package installed fresh). A client inside it asks a question every
~100 ms over the kiosk protocol (loopback); meanwhile each unit's main process is killed or
stopped at random. Printed with a ``[chaos]`` prefix: questions answered within 2 s, the
longest time without an answer, refused connections, and turns lost (acknowledged by a reply
but missing from the spool afterwards), and each run of misses with the faults just before
it. The client does what the kiosk page does when its gateway peer hangs or dies: reconnect
at once, resume, ask again. $LAUNDRYBOT_CHAOS_SECONDS sets the length (180).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import pytest

from .container import Container
from .test_system import AS_LAUNDRYBOT, LONG_RUNNING, VENV_PYTHON, unit_state, wait_active

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("LAUNDRYBOT_CHAOS_SECONDS", "180"))
MAX_ACTIONS = 200

# Runs inside the container: KIOSKS kiosks, each asking every KIOSKS * 0.1 s (all together one
# question every ~100 ms), for the given seconds. A tick whose answer came more than 2 s after
# it was due, or never, is a miss; a kiosk busy reconnecting misses its ticks meanwhile.
LOAD = """
import asyncio, json, sys, time
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

SECONDS = float(sys.argv[1])
KIOSKS = 4
EVERY = 0.1 * KIOSKS
# As the kiosk page does (connection.js): no word ANSWER_CHECK s after a question, then a ping
# must be answered within QUICK_PONG s, or the gateway is hung: reconnect at once (the other
# peer accepts), resume, and ask once more.
ANSWER_CHECK, QUICK_PONG = 0.8, 0.7
URL = "ws://127.0.0.1:8765/kiosk"
QUESTIONS = ["how much is a wash?", "what are your hours?", "is machine 3 free?", "wifi?"]
out = {"ticks": 0, "within_2s": 0, "answered": [], "refused": 0, "errors": {}, "replies_at": []}
out["error_samples"] = {}
out["failovers"] = 0
out["missed_at"] = []  # seconds from the start of each tick not answered within 2 s
out["resumed"] = 0

class Hung(Exception):
    pass

async def message(ws, timeout=10):
    # The next JSON message; reply audio (binary frames) is skipped.
    while True:
        frame = await asyncio.wait_for(ws.recv(), timeout)
        if isinstance(frame, str):
            return json.loads(frame)

async def answer(ws):
    # The reply to the question just sent, or Hung.
    checked = False
    while True:
        try:
            reply = await message(ws, QUICK_PONG if checked else ANSWER_CHECK)
        except TimeoutError:
            if checked:
                raise Hung() from None
            await ws.send(json.dumps({"type": "ping", "id": 1}))
            checked = True
            continue
        checked = False
        if reply["type"] == "reply":
            return reply

async def kiosk(n, t0):
    tick = t0 + n * 0.1
    end = t0 + SECONDS
    ws = None
    session = token = None
    while tick < end:
        now = time.monotonic()
        if now > tick + 2:  # hopeless already: a miss
            out["ticks"] += 1
            out["missed_at"].append(round(tick - t0, 2))
            tick += EVERY
            continue
        if now < tick:
            await asyncio.sleep(tick - now)
        out["ticks"] += 1
        question = QUESTIONS[out["ticks"] % 4]
        for attempt in range(2):
            try:
                if ws is None:
                    ws = await connect(URL, open_timeout=10, close_timeout=0.2)
                    hello = {"type": "hello", "kiosk": f"chaos-{n}"}
                    if session:
                        hello |= {"resume": session, "resume_token": token}
                    await ws.send(json.dumps(hello))
                    while (welcome := await message(ws, 5))["type"] != "welcome":
                        pass
                    session, token = welcome["session"], welcome["resume_token"]
                    out["resumed"] += bool(welcome["resumed"])
                await ws.send(json.dumps({"type": "text", "text": question}))
                reply = await answer(ws)
                done = time.monotonic()
                out["answered"].append(reply["turn"])
                out["replies_at"].append(done - t0)
                if done - tick <= 2:
                    out["within_2s"] += 1
                else:
                    out["missed_at"].append(round(tick - t0, 2))
                break
            except (Hung, ConnectionClosed):
                # Hung, or closed under the question (a peer killed): at once, once.
                out["failovers"] += 1
                ws.transport.abort()
                ws = None
                continue
            except ConnectionRefusedError:
                out["refused"] += 1
                out["missed_at"].append(round(tick - t0, 2))
                ws = None
                await asyncio.sleep(0.1)
                break
            except Exception as exc:
                name = type(exc).__name__
                out["errors"][name] = out["errors"].get(name, 0) + 1
                out["error_samples"].setdefault(name, repr(exc)[:300])
                out["missed_at"].append(round(tick - t0, 2))
                if ws is not None:
                    ws.transport.abort()
                ws = None
                break
        tick += EVERY
    if ws is not None:
        await ws.close()

async def main():
    t0 = time.monotonic()
    await asyncio.gather(*(kiosk(n, t0) for n in range(KIOSKS)))
    print(json.dumps(out))

asyncio.run(main())
"""

SPOOL_TURN_IDS = (
    "import json, sqlite3\n"
    "db = sqlite3.connect('file:/var/lib/laundrybot/spool.sqlite?mode=ro', uri=True)\n"
    "print(json.dumps([i for (i,) in db.execute('SELECT id FROM turns')]))\n"
)


def test_chaos_kill_and_stop_every_unit_under_load(container: Container) -> None:
    box = container
    units = [f"laundrybot-{name}.service" for name in LONG_RUNNING]
    for unit in units:
        wait_active(box, unit)
    rng = random.Random(int(os.environ.get("LAUNDRYBOT_CHAOS_SEED", "0")) or None)
    load = box.popen([VENV_PYTHON, "-c", LOAD, str(SECONDS)])
    actions: list[tuple[float, str, str]] = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < SECONDS - 5 and len(actions) < MAX_ACTIONS:
            time.sleep(rng.uniform(1.5, 4.5))
            unit = rng.choice(units)
            state, pid = unit_state(box, unit)
            if state != "active" or pid == 0:
                continue  # already down: systemd is on it
            sig = rng.choice(["KILL", "STOP"])
            box.run(["kill", f"-{sig}", str(pid)], check=False)
            actions.append((time.monotonic() - start, unit, sig))
        out, err = load.communicate(timeout=SECONDS + 60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert out.strip(), err[-2000:]
    result = json.loads(out.strip().splitlines()[-1])
    for unit in units:
        wait_active(box, unit, timeout=60)
    done = box.run(f"{AS_LAUNDRYBOT} {VENV_PYTHON} -", input=SPOOL_TURN_IDS)
    stored = set(json.loads(done.stdout))
    lost = set(result["answered"]) - stored
    times = [0.0, *result["replies_at"], SECONDS]
    outage = max(b - a for a, b in itertools.pairwise(sorted(times)))
    ticks = result["ticks"]
    share = 100 * result["within_2s"] / ticks if ticks else 0.0
    kills = sum(1 for _, _, sig in actions if sig == "KILL")
    per_unit = {u.removeprefix("laundrybot-").removesuffix(".service"): 0 for u in units}
    for _, unit, _ in actions:
        per_unit[unit.removeprefix("laundrybot-").removesuffix(".service")] += 1
    print(
        f"\n[chaos] {SECONDS:.0f} s, {len(actions)} actions ({kills} SIGKILL, "
        f"{len(actions) - kills} SIGSTOP; per unit {per_unit})"
        f"\n[chaos] questions answered within 2 s: {share:.1f} % ({result['within_2s']} of "
        f"{ticks}); {len(result['answered'])} answered in all"
        f"\n[chaos] longest outage (no answer at all): {outage:.1f} s"
        f"\n[chaos] refused connections: {result['refused']}; other errors: {result['errors']}"
        f"\n[chaos] failovers to the other gateway peer: {result['failovers']}; "
        f"sessions resumed: {result['resumed']}"
        f"\n[chaos] turns lost (replied to, missing from the spool): {len(lost)}"
    )
    # Each run of misses with what was done to the units in the 8 s before it began.
    runs: list[list[float]] = []
    for at in sorted(result["missed_at"]):
        if runs and at - runs[-1][-1] <= 1.0:
            runs[-1].append(at)
        else:
            runs.append([at])
    for run in runs:
        before = [
            f"{when:.1f} {unit.removeprefix('laundrybot-').removesuffix('.service')} {sig}"
            for when, unit, sig in actions
            if run[0] - 8 <= when <= run[-1]
        ]
        print(f"[chaos] {len(run)} missed at {run[0]:.1f}-{run[-1]:.1f} s; actions: {before}")
    for name, sample in result["error_samples"].items():
        print(f"[chaos] first {name}: {sample}")
    assert not lost
    assert result["refused"] == 0
    # Loose bounds (the figures go in the note): with two gateway peers a hung or killed one
    # costs a kiosk one failover; only both down at once (chance) costs answers. One gateway
    # alone scored 93 % with a 5.9 s outage.
    assert share > 90
    assert result["failovers"] > 0  # the peers were really exercised
