"""N concurrent kiosk clients asking typed questions against a real gateway process.

Prints turns/s, latency percentiles (question sent -> reply received), and the gateway's RSS and
open fds before and after. Figures only: nothing here passes or fails on timing.

    python bench/text_turns.py --clients 200 --turns 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import yaml
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "how much is a wash",
    "what are your hours",
    "is machine 4 free",
    "how long until dryer 12 is done",
    "how do I use the dryer",
    "which washers are free",
    "do you take credit cards",
    "where is the lost and found",
    "the machine took my money",
    "can I wash my dog bed here",
    "hello",
    "what's the weather like",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(workdir: Path, clients: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = workdir / "laundrybot.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "knowledge": str(ROOT / "conf" / "knowledge.yaml"),
                "log_level": "warning",
                "gateway": {
                    "listen": f"127.0.0.1:{port}",
                    "limits": {
                        "max_connections": clients + 10,
                        "messages_per_second": 10_000,
                        "message_burst": 10_000,
                    },
                },
                "store": {"spool": str(workdir / "spool.sqlite")},
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "gateway", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the gateway did not start")


def figures(process: psutil.Process) -> str:
    return f"RSS {process.memory_info().rss / 2**20:.1f} MB, {process.num_fds()} open fds"


async def client(
    address: str, n: int, turns: int, latencies: list[float], errors: list[str]
) -> None:
    rng = random.Random(n)
    async with connect(f"ws://{address}/kiosk", open_timeout=30, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "hello", "kiosk": f"bench-{n}"}))
        for _ in range(turns):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "text", "text": rng.choice(QUESTIONS)}))
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "reply":
                    latencies.append(time.perf_counter() - started)
                    break
                if message["type"] == "error":
                    errors.append(message["code"])
                    break


async def run_clients(
    address: str, clients: int, turns_each: int
) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(client(address, n, turns_each, latencies, errors) for n in range(clients))
    )
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--turns", type=int, default=20_000, help="turns in all, spread over the clients"
    )
    args = parser.parse_args()
    turns_each = max(1, args.turns // args.clients)
    with tempfile.TemporaryDirectory(prefix="laundrybot-bench-") as tmp:
        proc, address = start_gateway(Path(tmp), args.clients)
        gateway = psutil.Process(proc.pid)
        try:
            print(f"gateway before: {figures(gateway)}")
            latencies, errors, seconds = asyncio.run(run_clients(address, args.clients, turns_each))
            print(f"gateway after {len(latencies)} turns (clients gone): {figures(gateway)}")
            cpu = gateway.cpu_times()
        finally:
            proc.terminate()
            proc.wait(30)
    ms = [x * 1000 for x in latencies]
    print(
        f"{args.clients} clients, {len(latencies)} turns in {seconds:.1f} s: "
        f"{len(latencies) / seconds:.0f} turns/s; gateway CPU {cpu.user + cpu.system:.1f} s"
    )
    print(
        f"latency ms: p50 {percentile(ms, 50):.1f}, p95 {percentile(ms, 95):.1f}, "
        f"p99 {percentile(ms, 99):.1f}, mean {statistics.fmean(ms):.1f}, max {max(ms):.1f}"
    )
    print(f"errors: {len(errors)} {sorted(set(errors))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
