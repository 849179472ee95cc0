"""The kiosk protocol, text part, against a real gateway on a loopback port."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from laundrybot.gateway.protocol import ERROR_CODES
from laundrybot.store.spool import SpoolDB

from .conftest import kiosk


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def test_hello_welcome_and_status(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url, hello=False) as k:
        await k.send(type="hello", kiosk="front-1", lang="en")
        welcome = await k.recv()
        assert welcome["type"] == "welcome"
        assert len(welcome["session"]) == 32
        assert welcome["resumed"] is False
        assert welcome["quick_questions"]
        status = await k.recv()
        assert status["type"] == "status"
        assert status["ready"] is True
        # No voice units in this process: the kiosk is told to expect text only.
        assert "voice-input" in status["degraded"] and "voice-output" in status["degraded"]


async def test_text_gets_a_reply_recorded_before_it_is_sent(write_config, start_gateway, tmp_path):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        reply = await k.ask("how much is a wash?")
    assert reply["intent"] == "prices"
    assert reply["source"] == "knowledge"
    assert "3.50" in reply["text"]
    assert reply["expression"]
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    row = db.conn.execute(
        "SELECT question, answer, intent, kiosk FROM turns WHERE id = ?", (reply["turn"],)
    ).fetchone()
    db.close()
    assert row == ("how much is a wash?", reply["text"], "prices", "kiosk-1")


async def test_escalation_is_recorded_as_an_event(write_config, start_gateway, tmp_path):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        reply = await k.ask("dryer 12 took my money and did not start")
    assert reply["intent"] == "money-taken"
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    machine, detail = db.conn.execute(
        "SELECT machine, detail FROM events WHERE kind = 'escalation'"
    ).fetchone()
    db.close()
    assert machine == 12
    assert json.loads(detail)["turn"] == reply["turn"]


async def test_ping_pong_echoes_the_id(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        await k.send(type="ping", id=7)
        assert await k.recv_type("pong") == {"type": "pong", "id": 7}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad-json"),
        ("[1, 2]", "bad-message"),
        ('{"type": 5}', "bad-message"),
        ('{"type": "text"}', "bad-message"),
        ('{"type": "text", "text": "   "}', "bad-message"),
        ('{"type": "text", "text": "' + "x" * 600 + '"}', "too-large"),
        ('{"type": "dance"}', "unknown-type"),
        ('{"type": "hello", "kiosk": "again"}', "bad-message"),
        ('{"type": "audio-start", "rate": 16000}', "not-ready"),
        ('{"type": "ping", "id": {"a": 1}}', "bad-message"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_goes_on(
    write_config, start_gateway, frame, code
):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        await k.ws.send(frame)
        error = await k.recv_type("error")
        assert error["code"] == code
        assert error["code"] in ERROR_CODES
        assert error["message"]
        # The same connection still answers.
        assert (await k.ask("what are your hours"))["intent"] == "hours"


async def test_first_message_must_be_hello(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url, hello=False) as k:
        await k.send(type="text", text="hi")
        assert (await k.recv())["code"] == "bad-message"
        welcome = await k.hello()
        assert welcome["type"] == "welcome"


async def test_hello_must_name_a_valid_kiosk(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url, hello=False) as k:
        await k.send(type="hello", kiosk="bad kiosk name!")
        assert (await k.recv())["code"] == "bad-message"


async def test_hello_timeout_closes_with_policy(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"limits": {"hello_timeout": 0.3}}}))
    async with kiosk(gw.url, hello=False) as k:
        assert (await k.recv())["code"] == "timeout"
        with pytest.raises(ConnectionClosed) as closed:
            await k.recv()
        assert closed.value.rcvd.code == 1008


async def test_unauthorized_kiosk_is_refused(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"tokens": ["s3cret"]}}))
    async with kiosk(gw.url, hello=False) as k:
        await k.send(type="hello", kiosk="k", token="wrong")
        assert (await k.recv())["code"] == "unauthorized"
        with pytest.raises(ConnectionClosed) as closed:
            await k.recv()
        assert closed.value.rcvd.code == 1008
    async with kiosk(gw.url, token="s3cret") as k:
        assert (await k.ask("hours"))["type"] == "reply"


async def test_oversized_frame_closes_with_1009(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"limits": {"max_message_bytes": 2048}}}))
    async with kiosk(gw.url) as k:
        await k.ws.send(json.dumps({"type": "text", "text": "a" * 5000}))
        with pytest.raises(ConnectionClosed) as closed:
            await k.recv_type("never")
        assert closed.value.rcvd.code == 1009


async def test_too_many_connections_get_1013(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"limits": {"max_connections": 2}}}))
    async with kiosk(gw.url), kiosk(gw.url, kiosk="kiosk-2"), connect(gw.url) as ws:
        # Connected but silent: no slot is taken before hello, so nothing happens yet.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
        await ws.send(json.dumps({"type": "hello", "kiosk": "kiosk-3"}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd.code == 1013
    # Once one leaves, a new kiosk gets in.
    async with kiosk(gw.url) as k:
        assert (await k.ask("hours"))["type"] == "reply"


async def test_flood_is_rate_limited(write_config, start_gateway):
    limits = {"messages_per_second": 2, "message_burst": 3}
    gw = await start_gateway(write_config({"gateway": {"limits": limits}}))
    async with kiosk(gw.url) as k:
        for n in range(10):
            await k.send(type="ping", id=n)
        received = []
        while len(received) < 3:
            message = await k.recv()
            if message["type"] != "status":
                received.append(message)
        pongs = [m["id"] for m in received if m["type"] == "pong"]
        errors = [m["code"] for m in received if m["type"] == "error"]
        # A burst of 3, and hello was the first of them; one error for the rest.
        assert pongs == [0, 1]
        assert errors == ["rate-limited"]
        await asyncio.sleep(0.6)  # the bucket refills: the kiosk may talk again
        await k.send(type="ping", id="again")
        assert (await k.recv_type("pong"))["id"] == "again"


async def test_idle_connection_is_closed(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"limits": {"idle_timeout": 1}}}))
    async with kiosk(gw.url) as k:
        with pytest.raises(ConnectionClosed) as closed:
            await k.recv_type("never", timeout=5)
        assert closed.value.rcvd.code == 1000


async def test_resume_gives_the_conversation_back(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url, hello=False) as k:
        welcome = await k.hello(kiosk="front")
        session, secret = welcome["session"], welcome["resume_token"]
        assert len(secret) >= 32 and secret != session
        first = await k.ask("what are your hours")
    # The session id alone (it is in the spool and the database) does not resume.
    for guess in ({}, {"resume_token": "guessed"}):
        async with kiosk(gw.url, hello=False) as k:
            welcome = await k.hello(kiosk="front", resume=session, **guess)
            assert welcome["resumed"] is False and welcome["history"] == []
    async with kiosk(gw.url, hello=False) as k:
        welcome = await k.hello(kiosk="front", resume=session, resume_token=secret)
        assert welcome["resumed"] is True
        assert welcome["session"] == session
        assert welcome["history"] == [{"question": "what are your hours", "answer": first["text"]}]
        again = welcome["resume_token"]
        assert again != secret  # a new secret each welcome: the old one is spent
    # Another kiosk cannot take the session over, even with the secret.
    async with kiosk(gw.url, hello=False) as k:
        welcome = await k.hello(kiosk="other", resume=session, resume_token=again)
        assert welcome["resumed"] is False
        assert welcome["session"] != session
    async with kiosk(gw.url, hello=False) as k:
        assert (await k.hello(kiosk="front", resume=session, resume_token=secret))[
            "resumed"
        ] is False


async def test_resume_window_expires(write_config, start_gateway):
    gw = await start_gateway(write_config({"gateway": {"limits": {"resume_window": 0.2}}}))
    async with kiosk(gw.url, hello=False) as k:
        welcome = await k.hello()
    await asyncio.sleep(0.5)
    async with kiosk(gw.url, hello=False) as k:
        welcome = await k.hello(resume=welcome["session"], resume_token=welcome["resume_token"])
        assert welcome["resumed"] is False


async def test_tokens_per_kiosk_name(write_config, start_gateway, tmp_path):
    token_file = tmp_path / "back.token"
    token_file.write_text("back-secret\n")
    gw = await start_gateway(
        write_config(
            {
                "gateway": {
                    "tokens": {"front": "front-secret"},
                    "token_files": {"back": str(token_file)},
                }
            }
        )
    )
    for name, token, ok in [
        ("front", "front-secret", True),
        ("back", "back-secret", True),
        ("back", "front-secret", False),  # a token is its kiosk's only
        ("other", "front-secret", False),
        ("front", None, False),
    ]:
        async with kiosk(gw.url, hello=False) as k:
            await k.send(type="hello", kiosk=name, **({"token": token} if token else {}))
            message = await k.recv()
            assert (message["type"] == "welcome") is ok, (name, token, message)


async def test_status_is_pushed_when_readiness_changes(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        await k.recv_type("status")
        # Voice input comes back (as when the ASR unit restarts): the kiosk hears of it.
        voice = gw.service.voice
        voice.input_enabled = True
        voice.asr_langs = voice.heard = frozenset({"en"})
        voice.input = type("Up", (), {"ok": True})()
        gw.runner.readiness.set("voice-input", True)
        status = await k.recv_type("status")
        assert status["ready"] is True
        assert status["degraded"] == ["voice-output"]
        # The spool failing is the owner's problem, not the customer's: no push for it.
        gw.runner.readiness.set("spool", False, "disk full")
        with pytest.raises(TimeoutError):
            await k.recv_type("status", timeout=0.5)


async def test_http_endpoints(write_config, start_gateway):
    gw = await start_gateway(write_config())
    async with kiosk(gw.url) as k:
        await k.ask("how much is a wash")
        await k.ws.send("{broken")
        await k.recv_type("error")
        code, body = await asyncio.to_thread(http_get, gw.http + "/healthz")
        assert (code, body) == (200, "ok\n")
        code, body = await asyncio.to_thread(http_get, gw.http + "/readyz")
        ready = json.loads(body)
        assert code == 200 and ready["ready"] is True
        assert ready["dependencies"]["spool"]["ok"] is True
        assert "1 kiosks connected" in ready["status"]
        code, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
        assert code == 200
        assert 'laundrybot_turns_total{intent="prices",source="knowledge"} 1.0' in body
        assert 'laundrybot_gateway_errors_total{code="bad-json"} 1.0' in body
        assert "laundrybot_gateway_connections 1.0" in body
        assert "laundrybot_turn_latency_seconds_bucket" in body
        assert 'laundrybot_process_resident_memory_bytes{unit="gateway"}' in body
        assert 'laundrybot_process_open_fds{unit="gateway"}' in body
    code, _ = await asyncio.to_thread(http_get, gw.http + "/nope")
    assert code == 404


async def test_machine_status_set_elsewhere_reaches_the_answers(write_config, start_gateway):
    from laundrybot.cli import main

    config = write_config()
    gw = await start_gateway(config)
    async with kiosk(gw.url) as k:
        assert (
            await asyncio.to_thread(
                main, ["machines", "--config", str(config), "set", "4", "out-of-order"]
            )
            == 0
        )
        await asyncio.sleep(0.6)  # machine_refresh is 0.2 s in tests
        reply = await k.ask("is machine 4 free?")
        assert reply["source"] == "machines"
        assert "out of order" in reply["text"].lower()
        assert (
            await asyncio.to_thread(main, ["machines", "--config", str(config), "set", "4", "free"])
            == 0
        )
        await asyncio.sleep(0.6)
        reply = await k.ask("is machine 4 free?")
        assert "out of order" not in reply["text"].lower()


async def test_the_kiosk_page_is_served_from_the_package(write_config, start_gateway):
    gw = await start_gateway(write_config())

    def get(path: str) -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(gw.http + path, timeout=5) as response:
                return response.status, response.headers["Content-Type"], response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers["Content-Type"], ""

    code, content_type, body = await asyncio.to_thread(get, "/")
    assert code == 200 and content_type.startswith("text/html") and "<html" in body
    assert (await asyncio.to_thread(get, "/index.html"))[2] == body
    for bad in ("/../pyproject.toml", "/web.py", "/%2e%2e/server.py"):
        assert (await asyncio.to_thread(get, bad))[0] == 404


async def test_kiosk_info_for_the_page(write_config, start_gateway):
    gw = await start_gateway(write_config({"store": {"retention_days": 30}}))
    code, body = await asyncio.to_thread(http_get, gw.http + "/kiosk.json")
    info = json.loads(body)
    assert code == 200
    assert info["default_lang"] == "en"
    assert set(info["languages"]) == {"en", "ko"}
    en = info["languages"]["en"]
    assert en["staff_phone"] and en["shop_name"] and len(en["quick_questions"]) >= 4
    assert "30 days" in en["privacy"]
    assert en["voice_input"] is False  # voice is off in these tests
    # The machine board's list before the gateway pushes states, and its size names.
    assert info["machines"][0] == {"number": 1, "kind": "washer", "size": "regular"}
    assert len(info["machines"]) == 16
    assert info["languages"]["ko"]["sizes"]["washer"]["giant"] == "특대형"
    assert en["sizes"]["dryer"] == {"standard": "standard", "big": "big"}


async def test_readyz_tells_degraded_from_down(write_config, start_gateway, monkeypatch):
    from laundrybot import unitmetrics
    from laundrybot.status import collect, format_status

    recorder = (
        "# TYPE laundrybot_dependency_up gauge\n"
        'laundrybot_dependency_up{dependency="database"} 0.0\n'
    )

    async def gather(runtime, own=""):
        return {"recorder": recorder, "notify": None}

    gw = await start_gateway(write_config())
    code, body = await asyncio.to_thread(http_get, gw.http + "/readyz")
    assert code == 200 and json.loads(body)["state"] == "ok"
    # PostgreSQL away (the recorder says so in its metrics), the notify unit not answering:
    # kiosks are still served.
    monkeypatch.setattr(unitmetrics, "gather", gather)
    code, body = await asyncio.to_thread(http_get, gw.http + "/readyz")
    ready = json.loads(body)
    assert code == 200 and ready["state"] == "degraded" and ready["ready"] is True
    assert ready["degraded"] == ["notify: not answering", "recorder: database"]
    summary = format_status({"url": gw.http, "reachable": True, **collect(ready, "")})
    assert "DEGRADED (serving)" in summary and "recorder: database" in summary
    # The spool gone: no answer can be recorded, so none is sent: down.
    gw.runner.readiness.set("spool", False, "disk full")
    code, body = await asyncio.to_thread(http_get, gw.http + "/readyz")
    ready = json.loads(body)
    assert code == 503 and ready["state"] == "down" and ready["ready"] is False
    assert "spool" in ready["degraded"]
    summary = format_status({"url": gw.http, "reachable": True, **collect(ready, "")})
    assert "NOT READY" in summary


@pytest.mark.parametrize("public", [False, True])
async def test_http_needs_a_token_when_tokens_are_configured(write_config, start_gateway, public):
    settings = {"tokens": {"front": "front-secret"}, "public_http": public}
    gw = await start_gateway(write_config({"gateway": settings}))

    def get(path: str, token: str | None = None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            request = urllib.request.Request(gw.http + path, headers=headers)
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    for path in ("/readyz", "/metrics", "/kiosk.json"):
        assert await asyncio.to_thread(get, path) == (200 if public else 401), path
        assert await asyncio.to_thread(get, path, "wrong") == (200 if public else 401), path
        assert await asyncio.to_thread(get, path, "front-secret") == 200, path
    # The kiosk page's own fetch: ?token= (the page has it in its address).
    assert await asyncio.to_thread(get, "/kiosk.json?token=front-secret") == 200
    for path in ("/healthz", "/"):
        assert await asyncio.to_thread(get, path) == 200, path
