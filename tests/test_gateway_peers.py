"""Gateway peers: two `serve gateway@N` processes on one listening socket, as systemd runs them.

While the peer a kiosk talks to hangs (SIGSTOP: it accepts nothing and answers nothing), the
kiosk's reconnect is accepted by the other peer, which resumes the conversation from the
shared session shelf. Either peer's /metrics carries both peers' samples, labelled alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest
from websockets.asyncio.client import connect

from tests.conftest import Kiosk, socket_activated


@pytest.fixture
def peers(write_config, start_gateway_process, short_runtime):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    config = write_config()
    started = []
    for name in ("gateway@1", "gateway@2"):
        started.append(
            start_gateway_process(
                config,
                command=socket_activated(listener.fileno(), name, config),
                pass_fds=(listener.fileno(),),
            )
        )
    assert {gw.port for gw in started} == {listener.getsockname()[1]}
    yield started
    for gw in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(gw.proc.pid, signal.SIGCONT)
    listener.close()


def serving_peer(peers: list[Any], client_port: int) -> Any:
    """The peer holding the server side of the connection from ``client_port``."""
    for gw in peers:
        for conn in psutil.Process(gw.proc.pid).net_connections("tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return gw
    raise AssertionError(f"no peer serves the connection from port {client_port}")


async def _ask_on_fresh_session(url: str, question: str) -> dict[str, Any]:
    async with connect(url) as ws:
        kiosk = Kiosk(ws)
        await kiosk.hello(kiosk="other")
        return await kiosk.ask(question)


def test_a_hung_peer_leaves_the_conversation_to_the_other(peers):
    url = peers[0].url

    async def go() -> None:
        async with connect(url) as ws:
            kiosk = Kiosk(ws)
            welcome = await kiosk.hello(kiosk="front")
            first = await kiosk.ask("how much is the giant washer")
            assert first["text"]
            sock = ws.transport.get_extra_info("sockname")
            hung = serving_peer(peers, sock[1])
            other = next(gw for gw in peers if gw is not hung)
            os.kill(hung.proc.pid, signal.SIGSTOP)
            try:
                # The kiosk finds its peer silent and connects again: the other accepts.
                async with connect(url, open_timeout=5) as ws2:
                    again = Kiosk(ws2)
                    back = await again.hello(
                        kiosk="front",
                        resume=welcome["session"],
                        resume_token=welcome["resume_token"],
                    )
                    assert serving_peer(peers, ws2.transport.get_extra_info("sockname")[1]) is other
                    assert back["resumed"] is True
                    assert back["session"] == welcome["session"]
                    assert [h["question"] for h in back["history"]] == [
                        "how much is the giant washer"
                    ]
                    follow = await again.ask("and how long does it take")
                    fresh = await _ask_on_fresh_session(url, "and how long does it take")
                    # The follow-up is about the giant washer; without the context it is not.
                    assert follow["text"] != fresh["text"]
                    assert "giant" in follow["text"].lower()
                    # The secret moved on: the old one no longer resumes, on either peer.
                    async with connect(url, open_timeout=5) as ws3:
                        stale = await Kiosk(ws3).hello(
                            kiosk="front",
                            resume=welcome["session"],
                            resume_token=welcome["resume_token"],
                        )
                        assert stale["resumed"] is False
            finally:
                os.kill(hung.proc.pid, signal.SIGCONT)

    asyncio.run(go())


def test_a_session_is_not_taken_over_with_a_wrong_secret_or_kiosk(peers):
    url = peers[0].url

    async def go() -> None:
        async with connect(url) as ws:
            kiosk = Kiosk(ws)
            welcome = await kiosk.hello(kiosk="front")
            await kiosk.ask("what are your hours")
            hung = serving_peer(peers, ws.transport.get_extra_info("sockname")[1])
            os.kill(hung.proc.pid, signal.SIGSTOP)
            try:
                for name, token in (("front", "not-the-secret"), ("back", None)):
                    async with connect(url, open_timeout=5) as ws2:
                        back = await Kiosk(ws2).hello(
                            kiosk=name,
                            resume=welcome["session"],
                            resume_token=token or welcome["resume_token"],
                        )
                        assert back["resumed"] is False
                        assert back["session"] != welcome["session"]
            finally:
                os.kill(hung.proc.pid, signal.SIGCONT)

    asyncio.run(go())


def test_either_peer_answers_metrics_for_both(peers):
    port = peers[0].port

    async def turns() -> None:
        # A turn on each peer: the first on whichever accepts, the next with that one hung.
        async with connect(peers[0].url) as ws:
            kiosk = Kiosk(ws)
            await kiosk.hello(kiosk="front")
            await kiosk.ask("what are your hours")
            first = serving_peer(peers, ws.transport.get_extra_info("sockname")[1])
        os.kill(first.proc.pid, signal.SIGSTOP)
        try:
            await _ask_on_fresh_session(peers[0].url, "what are your hours")
        finally:
            os.kill(first.proc.pid, signal.SIGCONT)

    asyncio.run(turns())
    seen = []
    for _ in range(6):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        served = {
            line.split('unit="')[1].split('"')[0]
            for line in text.splitlines()
            if line.startswith("laundrybot_turns_total{")
        }
        seen.append(served)
    # Whichever peer answered, each peer's turns are there under its own name.
    assert all(units == {"gateway@1", "gateway@2"} for units in seen), seen


def test_only_the_gateway_runs_as_peers(write_config, tmp_path: Path):
    import subprocess

    config = write_config()
    for units in (["asr@2"], ["gateway@"], ["gateway@a/b"], ["gateway@1", "gateway@2"]):
        done = subprocess.run(
            [sys.executable, "-m", "laundrybot", "serve", *units, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (units, done.stderr)
        assert "unit" in done.stderr


# -- the shelf itself ---------------------------------------------------------------------


def test_the_shelf_is_bounded_in_rows_and_bytes(tmp_path):
    import sqlite3

    from laundrybot.gateway.session import SessionStore
    from laundrybot.gateway.sessionshelf import FILE_NAME, SessionShelf

    def shelved() -> tuple[int, int]:
        db = sqlite3.connect(tmp_path / FILE_NAME)
        try:
            return db.execute("SELECT count(*), sum(length(body)) FROM sessions").fetchone()
        finally:
            db.close()

    async def go() -> None:
        store = SessionStore(resume_window=600, max_sessions=40, max_bytes=10**6)
        shelf = SessionShelf(tmp_path, store)
        store.on_change = shelf.put  # as the gateway does
        sessions = [store.new(f"kiosk-{n}", "en") for n in range(50)]
        for session in sessions:
            session.remember("q" * 400, "a" * 400)
        await shelf.flush()
        assert shelved()[0] == 40  # the first ten were dropped by the store's bound
        # A dropped session is not shelved again.
        shelf.put(sessions[0])
        await shelf.flush()
        assert shelved()[0] == 40
        # A reload lowers the budget: the shelf follows at its next write, oldest first.
        store.max_bytes = 20_000
        store.max_sessions = 1000
        sessions[-1].remember("and then", "an answer")
        await shelf.flush()
        rows, size = shelved()
        assert 0 < rows < 40 and size <= 20_000
        await shelf.stop()

    asyncio.run(go())
    db = sqlite3.connect(tmp_path / FILE_NAME)
    newest = db.execute("SELECT body FROM sessions ORDER BY updated DESC LIMIT 1").fetchone()
    assert b"kiosk-49" in newest[0] and b"and then" in newest[0]


def test_a_shelf_that_cannot_be_written_says_so_and_resuming_here_still_works(tmp_path):
    from laundrybot.gateway.session import SessionStore
    from laundrybot.gateway.sessionshelf import SessionShelf

    states: list[tuple[bool, str]] = []

    async def go() -> None:
        store = SessionStore(resume_window=600, max_sessions=10, max_bytes=10**6)
        shelf = SessionShelf(tmp_path / "missing", store, on_state=lambda *s: states.append(s))
        store.on_change = shelf.put
        session = store.new("front", "en")
        token = store.new_resume_token(session)
        await shelf.flush()
        assert store.resume(session.id, "front", token) is session
        await shelf.stop()

    asyncio.run(go())
    assert states and states[0][0] is False and "unable to open" in states[0][1]
