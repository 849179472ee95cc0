"""Recorder benchmark: forwarding throughput, and catch-up after a PostgreSQL outage.

1. throughput: a spool holding --rows turns is drained into PostgreSQL; rows/s per batch size.
2. catch-up: an outage of --outage seconds at --rate turns/s leaves rate*outage turns in the
   spool; the recorder then drains them while new turns keep arriving at --rate. The figure is
   the time until nothing waits any more (the outage itself is simulated by the backlog).

Needs PostgreSQL through the PG* variables, e.g. `pg_virtualenv -- .venv/bin/python
bench/recorder.py`; without PGHOST it says so and exits 0. Prints figures; never pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import yaml

from laundrybot.config import load_config
from laundrybot.recorder import RecorderService
from laundrybot.runner import Runner
from laundrybot.store.spool import SpoolDB, Turn


def turn(ts: float) -> Turn:
    return Turn(
        session="bench",
        kiosk="kiosk-1",
        question="how much is a big wash?",
        answer="A big wash is 5.50 and takes about 40 minutes.",
        intent="prices",
        source="knowledge",
        latency_ms=1.2,
        ts=ts,
    )


def fill(spool: Path, count: int, start: float, span: float) -> None:
    db = SpoolDB(spool, "bench")
    try:
        step = span / max(count, 1)
        for first in range(0, count, 5000):
            db.write([turn(start + (first + i) * step) for i in range(min(5000, count - first))])
    finally:
        db.close()


def lag(spool: Path) -> float:
    """Age in seconds of the oldest row not forwarded yet (0 when none waits)."""
    db = SpoolDB(spool, "bench")
    try:
        oldest = db.oldest_pending_ts()
    finally:
        db.close()
    return 0.0 if oldest is None else time.time() - oldest


def write_config(folder: Path, spool: Path, dsn: str, batch_size: int) -> Path:
    path = folder / "laundrybot.yaml"
    settings = {"dsn": dsn, "batch_size": batch_size, "forward_interval": 0.2, "max_size": 2}
    path.write_text(yaml.safe_dump({"store": {"spool": str(spool), "postgres": settings}}))
    return path


async def drain(config: Path, spool: Path, caught_up: float = 0.0) -> float:
    """Start a recorder; return seconds until the oldest unforwarded row is at most
    ``caught_up`` seconds old (0: until nothing waits)."""
    runner = Runner(["recorder"], config, load_config(config))
    started = time.monotonic()
    task = asyncio.create_task(runner.run())
    assert isinstance(runner.services[0], RecorderService)
    while True:
        await asyncio.sleep(0.05)
        if task.done():
            raise SystemExit(f"the recorder stopped: {task.result()}")
        age = await asyncio.to_thread(lag, spool)
        if (age <= caught_up) if caught_up else age == 0.0:
            break
    took = time.monotonic() - started
    runner.request_stop()
    await task
    return took


def fresh_database(admin: str) -> str:
    name = f"laundrybot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(admin: str, name: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="turns for the throughput run")
    parser.add_argument(
        "--batch-sizes", default="100,500,2000", help="comma-separated batch sizes to try"
    )
    parser.add_argument("--outage", type=float, default=600, help="outage seconds (default 600)")
    parser.add_argument("--rate", type=float, default=10, help="turns a second (default 10)")
    parser.add_argument("--catchup-batch", type=int, default=500, help="batch size for catch-up")
    parser.add_argument(
        "--real-outage",
        type=float,
        default=0,
        help="also stop the pg_virtualenv cluster for this many seconds while turns arrive at "
        "--rate, and time the recovery (needs root and pg_ctlcluster; default: skip)",
    )
    parser.add_argument("--short", action="store_true", help="a quick smoke run (CI)")
    args = parser.parse_args()
    if args.short:
        args.rows, args.batch_sizes, args.outage = 5000, "500", 60
    logging.getLogger().addHandler(logging.NullHandler())  # figures only, no log lines
    if not os.environ.get("PGHOST"):
        print("bench/recorder.py: skipped, needs PostgreSQL (run it under pg_virtualenv)")
        return 0
    admin = f"dbname={os.environ.get('PGDATABASE', 'postgres')}"

    print(f"recorder throughput, {args.rows} turns already in the spool:")
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        name = fresh_database(admin)
        try:
            with tempfile.TemporaryDirectory() as folder:
                spool = Path(folder) / "spool.sqlite"
                fill(spool, args.rows, time.time() - 3600, 3600)
                config = write_config(Path(folder), spool, f"dbname={name}", batch_size)
                took = asyncio.run(drain(config, spool))
        finally:
            drop_database(admin, name)
        print(f"  batch {batch_size:>5}: {args.rows / took:>8.0f} rows/s ({took:.2f} s)")

    backlog = int(args.outage * args.rate)
    print(
        f"catch-up after a {args.outage:g} s outage at {args.rate:g} turns/s "
        f"({backlog} turns waiting, new ones still arriving):"
    )
    name = fresh_database(admin)
    try:
        with tempfile.TemporaryDirectory() as folder:
            spool = Path(folder) / "spool.sqlite"
            fill(spool, backlog, time.time() - args.outage, args.outage)
            config = write_config(Path(folder), spool, f"dbname={name}", args.catchup_batch)
            arrivals = {"count": 0}
            stop = threading.Event()

            def feed() -> None:
                # New turns keep coming while the recorder catches up, one transaction each.
                db = SpoolDB(spool, "bench")
                try:
                    while not stop.is_set():
                        db.write([turn(time.time())])
                        arrivals["count"] += 1
                        time.sleep(1 / args.rate)
                finally:
                    db.close()

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            try:
                # Caught up: nothing older than 2 s waits (new turns go within a cycle).
                took = asyncio.run(drain(config, spool, caught_up=2.0))
            finally:
                stop.set()
                feeder.join()
    finally:
        drop_database(admin, name)
    print(
        f"  caught up {took:.2f} s after the database came back ({backlog} turns waiting, "
        f"{arrivals['count']} more arrived meanwhile)"
    )
    if args.real_outage:
        name = fresh_database(admin)
        try:
            with tempfile.TemporaryDirectory() as folder:
                took, sent = asyncio.run(real_outage(Path(folder), name, args))
        finally:
            drop_database(admin, name)
        print(
            f"real outage: PostgreSQL stopped (immediate) for {args.real_outage:g} s at "
            f"{args.rate:g} turns/s ({sent} turns in all): caught up {took:.2f} s after it "
            "was started again"
        )
    return 0


def cluster() -> tuple[str, str]:
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == os.environ.get("PGPORT") and fields[3] == "online":
            return fields[0], fields[1]
    raise SystemExit("no online cluster on $PGPORT")


async def real_outage(folder: Path, name: str, args: argparse.Namespace) -> tuple[float, int]:
    """Turns arrive at --rate; PostgreSQL is stopped, then started; time the catch-up."""
    version, cluster_name = cluster()
    spool = folder / "spool.sqlite"
    config = write_config(folder, spool, f"dbname={name}", args.catchup_batch)
    runner = Runner(["recorder"], config, load_config(config))
    task = asyncio.create_task(runner.run())
    sent = 0

    async def feed() -> None:
        nonlocal sent
        db = await asyncio.to_thread(SpoolDB, spool, "bench")
        try:
            while True:
                await asyncio.to_thread(db.write, [turn(time.time())])
                sent += 1
                await asyncio.sleep(1 / args.rate)
        finally:
            await asyncio.to_thread(db.close)

    # SQLite connections stay in their thread: give the feeder one of its own.
    pool = concurrent.futures.ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()
    loop.set_default_executor(pool)
    feeder = asyncio.create_task(feed())
    ctl = ["pg_ctlcluster", version, cluster_name]
    await asyncio.sleep(2)
    await asyncio.to_thread(subprocess.run, [*ctl, "stop", "-m", "immediate"], check=True)
    await asyncio.sleep(args.real_outage)
    await asyncio.to_thread(subprocess.run, [*ctl, "start"], check=True)
    back = time.monotonic()
    while await asyncio.to_thread(lag, spool) > 2.0:
        await asyncio.sleep(0.05)
    took = time.monotonic() - back
    feeder.cancel()
    await asyncio.gather(feeder, return_exceptions=True)
    runner.request_stop()
    await task
    return took, sent


if __name__ == "__main__":
    sys.exit(main())
