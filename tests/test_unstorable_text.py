"""Text nothing downstream can store (a JSON-escaped lone surrogate) must never wedge a kiosk.

Before the fix, one ``{"type":"text","text":"\\ud800"}`` killed the spool's writer thread and
every later reply waited for ever while the watchdog stayed happy.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from laundrybot.config import HealthConfig
from laundrybot.gateway.protocol import BAD_MESSAGE, ProtocolError, parse
from laundrybot.health import Liveness, LoopLagMonitor, WorkerWatch
from laundrybot.store.spool import Spool, SpoolDB, SpoolUnavailable, Turn

from .conftest import kiosk

LONE_SURROGATE = '"\\ud800"'


def frame(kind: str, key: str, value: str) -> str:
    """A text frame whose ``key`` is the raw JSON ``value`` (escapes kept as written)."""
    return '{"type": "%s", "%s": %s}' % (kind, key, value)  # noqa: UP031


def turn(question: str) -> Turn:
    return Turn(
        session="s" * 32,
        kiosk="k",
        question=question,
        answer="a",
        intent="hours",
        source="knowledge",
        latency_ms=0.1,
    )


@pytest.mark.parametrize(
    "text_frame",
    [
        frame("text", "text", LONE_SURROGATE),
        frame("text", "text", '"washer \\udfff 4"'),
        frame("ping", "id", LONE_SURROGATE),
        '{"type": "hello", "kiosk": "k", "token": "\\ud800"}',
    ],
)
def test_the_protocol_refuses_unstorable_text(text_frame):
    with pytest.raises(ProtocolError) as caught:
        parse(text_frame, 500)
    assert caught.value.code == BAD_MESSAGE


def test_a_paired_surrogate_escape_is_ordinary_text():
    message = parse('{"type": "text", "text": "washer \\ud83d\\ude00"}', 500)
    assert message.text == "washer \U0001f600"  # type: ignore[union-attr]


async def test_the_writer_survives_a_row_sqlite_cannot_encode(tmp_path):
    spool = Spool(tmp_path / "spool.sqlite", "shop")
    await spool.start()
    try:
        with pytest.raises(SpoolUnavailable, match="could not be stored"):
            await spool.record(turn("\ud800"))
        # The same batch's neighbours and every later row are still written.
        await asyncio.wait_for(spool.record(turn("after")), 5)
        assert spool.refused == 1
        assert spool.watch.problem() is None
    finally:
        await spool.stop()
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    assert [q for (q,) in db.conn.execute("SELECT question FROM turns")] == ["after"]
    db.close()


async def test_an_unexpected_error_fails_that_batch_only(tmp_path, monkeypatch):
    spool = Spool(tmp_path / "spool.sqlite", "shop")
    await spool.start()
    real = spool._run_batch
    calls = 0

    def once_broken(batch):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug in the writer")
        real(batch)

    monkeypatch.setattr(spool, "_run_batch", once_broken)
    try:
        with pytest.raises(SpoolUnavailable, match="a bug in the writer"):
            await asyncio.wait_for(spool.record(turn("lost")), 5)
        await asyncio.wait_for(spool.record(turn("kept")), 5)
    finally:
        await spool.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_dead_writer_fails_callers_at_once_and_stops_the_watchdog(tmp_path, monkeypatch):
    spool = Spool(tmp_path / "spool.sqlite", "shop")
    await spool.start()
    liveness = Liveness(HealthConfig(), LoopLagMonitor())
    liveness.watch(spool.watch)
    assert liveness.problems() == []

    def die(batch):  # type: ignore[no-untyped-def]
        raise SystemExit("the thread ends")  # not an Exception: nothing inside catches it

    monkeypatch.setattr(spool, "_run_batch", die)
    waiter = asyncio.ensure_future(spool.record(turn("never")))
    deadline = time.monotonic() + 5
    while spool.watch.alive:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert liveness.problems() == ["spool writer thread died"]
    with pytest.raises(SpoolUnavailable, match="died"):
        await asyncio.wait_for(waiter, 1)
    with pytest.raises(SpoolUnavailable, match="not running"):
        await asyncio.wait_for(spool.record(turn("later")), 1)
    await spool.stop()
    # A graceful stop is not a death.
    assert liveness.problems() == []


def test_a_stuck_worker_is_a_problem_once_past_its_limit():
    watch = WorkerWatch("synthesis", stall_limit=0.05)
    thread = threading.Thread(target=time.sleep, args=(0.3,))
    watch.attach(thread)
    thread.start()
    watch.busy()
    assert watch.problem() is None
    time.sleep(0.1)
    assert watch.problem() is not None and "stuck" in watch.problem()  # type: ignore[operator]
    watch.idle()
    assert watch.problem() is None
    thread.join()


async def test_a_kiosk_sending_a_lone_surrogate_wedges_nobody(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as attacker, kiosk(gw.url, kiosk="canary") as canary:
        await attacker.ws.send(frame("text", "text", LONE_SURROGATE))
        assert (await attacker.recv_type("error"))["code"] == BAD_MESSAGE
        await attacker.ws.send(frame("ping", "id", LONE_SURROGATE))
        assert (await attacker.recv_type("error"))["code"] == BAD_MESSAGE
        # Both connections keep being served.
        assert (await attacker.ask("how much is a wash?"))["intent"] == "prices"
        assert (await canary.ask("how much is a wash?"))["intent"] == "prices"
    assert gw.runner.ctx.liveness.problems() == []


def test_a_stuck_pool_job_is_not_hidden_by_the_jobs_around_it():
    """A pool's threads share one watch: the job running longest decides, not the latest."""
    from concurrent.futures import ThreadPoolExecutor

    from laundrybot.voiceserver import PoolWatch

    watch = PoolWatch("synthesis", stall_limit=0.05)
    release = threading.Event()
    with ThreadPoolExecutor(2) as pool:

        def job(fn):  # type: ignore[no-untyped-def]
            watch.busy()
            try:
                return fn()
            finally:
                watch.idle()

        stuck = pool.submit(job, lambda: release.wait(5))
        time.sleep(0.1)
        for _ in range(3):  # quick jobs on the other thread come and go
            pool.submit(job, lambda: None).result()
        assert "stuck" in (watch.problem() or ""), watch.problem()
        release.set()
        stuck.result()
    assert watch.problem() is None
