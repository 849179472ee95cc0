"""POST /api/machines/N on the gateway port (a payment system), and the machines board pushed
to the kiosks: tokens, bodies (too big, split, chunked), bad JSON and values, machines that do
not exist, floods (429) while a kiosk is still served, and the kiosk.json machine list."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from laundrybot.store.spool import SpoolDB

from .conftest import kiosk

TOKEN = "s3cret-token-for-the-payment-system"


def api_config(write_config: Callable[..., Path], tmp_path: Path, **machines: Any) -> Path:
    token_file = tmp_path / "api-token"
    token_file.write_text(f"# the payment system\n{TOKEN}\n")
    settings = {"api_token_file": str(token_file)} | machines
    return write_config({"machines": settings})


def raw_http(
    address: str, data: bytes, pause_after: int | None = None
) -> tuple[int, dict[str, str], Any]:
    """Send ``data`` as it is (in two parts, with a pause, when ``pause_after`` is given);
    the status, headers and JSON body of the answer."""
    host, _, port = address.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        if pause_after is None:
            sock.sendall(data)
        else:
            sock.sendall(data[:pause_after])
            time.sleep(0.2)
            sock.sendall(data[pause_after:])
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body) if body.strip().startswith(b"{") else body


def post(
    address: str,
    path: str,
    body: bytes | str | dict[str, Any],
    token: str | None = TOKEN,
    method: str = "POST",
    extra: str = "",
    pause_after: int | None = None,
) -> tuple[int, dict[str, str], Any]:
    if isinstance(body, dict):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    auth = f"Authorization: Bearer {token}\r\n" if token is not None else ""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: shop\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    )
    return raw_http(address, head.encode() + data, pause_after)


def machine_events(tmp_path: Path) -> list[dict[str, Any]]:
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    try:
        rows = db.conn.execute(
            "SELECT machine, detail FROM events WHERE kind = 'machine-change' ORDER BY ts"
        ).fetchall()
    finally:
        db.close()
    return [{"machine": m} | json.loads(d) for m, d in rows]


async def call(*args: Any, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return await asyncio.to_thread(post, *args, **kwargs)


def board_entry(message: dict[str, Any], number: int) -> dict[str, Any]:
    return next(m for m in message["machines"] if m["number"] == number)


async def test_a_good_token_changes_the_machine_the_kiosks_and_the_answers(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    address = gw.service.address
    async with kiosk(gw.url) as k:
        first = await k.recv_type("machines")  # after the welcome
        assert [m["number"] for m in first["machines"]] == list(range(1, 17))
        assert board_entry(first, 4)["state"] == "unknown"
        started = time.monotonic()
        code, _, answer = await call(address, "/api/machines/4", {"state": "busy", "minutes": 34})
        assert code == 200, answer
        assert answer["number"] == 4 and answer["state"] == "busy" and answer["minutes_left"] == 34
        pushed = await k.recv_type("machines")
        assert time.monotonic() - started < 1.0
        entry = board_entry(pushed, 4)
        assert (entry["state"], entry["minutes_left"], entry["source"]) == ("busy", 34, "api")
        reply = await k.ask("is washer 4 free?")
        assert "34 minutes" in reply["text"]
        code, _, _ = await call(address, "/api/machines/4", {"state": "out-of-order"})
        assert code == 200
        assert board_entry(await k.recv_type("machines"), 4)["state"] == "out-of-order"
        assert "out of order" in (await k.ask("is washer 4 free?"))["text"].lower()
    events = machine_events(tmp_path)
    assert [(e["machine"], e["state"], e["source"]) for e in events] == [
        (4, "busy", "api"),
        (4, "out-of-order", "api"),
    ]
    assert events[1]["previous"] == "busy"
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    status = db.machines()[4]
    db.close()
    assert (status.state.value, status.source) == ("out-of-order", "api")


@pytest.mark.parametrize(
    ("token", "extra"),
    [(None, ""), ("wrong", ""), (TOKEN + "x", ""), ("", ""), (TOKEN[:-1], "")],
)
async def test_a_missing_or_wrong_token_is_401_and_changes_nothing(
    write_config: Callable[..., Path],
    start_gateway: Any,
    tmp_path: Path,
    token: str | None,
    extra: str,
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    code, headers, answer = await call(
        gw.service.address, "/api/machines/4", {"state": "free"}, token=token
    )
    assert code == 401
    assert headers["www-authenticate"] == "Bearer"
    assert "token" in answer["error"]
    assert machine_events(tmp_path) == []


async def test_basic_auth_with_the_token_is_not_a_bearer_token(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    address = gw.service.address
    code, _, _ = await call(
        address,
        "/api/machines/4",
        {"state": "free"},
        token=None,
        extra=f"Authorization: Basic {TOKEN}\r\n",
    )
    assert code == 401


async def test_without_a_token_file_the_api_is_not_enabled(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(write_config())
    code, _, answer = await call(gw.service.address, "/api/machines/4", {"state": "free"})
    assert code == 404 and "not enabled" in answer["error"]
    missing = write_config({"machines": {"api_token_file": str(tmp_path / "none")}}, name="b.yaml")
    gw = await start_gateway(missing)
    code, _, answer = await call(gw.service.address, "/api/machines/4", {"state": "free"})
    assert code == 403 and "not enabled" in answer["error"]
    assert machine_events(tmp_path) == []


async def test_a_new_token_in_the_file_works_without_a_restart(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    (tmp_path / "api-token").write_text("new-token-0123456789\n" + TOKEN + "\n")
    address = gw.service.address
    assert (
        await call(address, "/api/machines/2", {"state": "free"}, token="new-token-0123456789")
    )[0] == 200
    assert (await call(address, "/api/machines/2", {"state": "free"}))[0] == 200
    (tmp_path / "api-token").write_text("only-the-new-one-42\n")
    assert (await call(address, "/api/machines/2", {"state": "free"}))[0] == 401


async def test_bodies_over_a_kibibyte_and_chunked_bodies_are_refused(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    address = gw.service.address
    big = json.dumps({"state": "free", "note": "x" * 2000})
    code, _, answer = await call(address, "/api/machines/4", big)
    assert code == 413 and "1024 bytes" in answer["error"]
    chunked = (
        "POST /api/machines/4 HTTP/1.1\r\nHost: shop\r\n"
        f"Authorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
        '11\r\n{"state": "free"}\r\n0\r\n\r\n'
    )
    code, _, answer = await asyncio.to_thread(raw_http, address, chunked.encode())
    assert code == 411
    code, _, answer = await call(address, "/api/machines/4", "", extra="")
    assert code == 400 and "JSON body" in answer["error"]
    assert machine_events(tmp_path) == []
    # The gateway goes on: a body split over two packets is read whole.
    body = json.dumps({"state": "busy", "minutes": 5})
    code, _, answer = await call(address, "/api/machines/4", body, pause_after=60)
    assert code == 200, answer
    async with kiosk(gw.url) as k:
        assert "5 minutes" in (await k.ask("is washer 4 free?"))["text"]


async def test_expect_100_continue_is_answered_before_the_body(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    host, _, port = gw.service.address.rpartition(":")
    body = b'{"state": "free"}'
    head = (
        f"POST /api/machines/6 HTTP/1.1\r\nHost: shop\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()

    def exchange() -> tuple[bytes, bytes]:
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(head)
            interim = sock.recv(100)
            sock.sendall(body)
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk
            return interim, rest

    interim, answer = await asyncio.to_thread(exchange)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200 "), answer


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "Expected `object`"),
        ({"state": "broken"}, "$.state"),
        ({"state": "unknown"}, "$.state"),
        ({}, "state"),
        ({"state": "busy", "minutes": -3}, "$.minutes"),
        ({"state": "busy", "minutes": "34"}, "$.minutes"),
        ({"state": "busy", "minutes": 34.5}, "$.minutes"),
        ({"state": "busy", "minutes": 100_000}, "$.minutes"),
        ({"state": "free", "minutes": 10}, "minutes only go with state busy"),
        ({"state": "free", "minuts": 10}, "minuts"),
    ],
)
async def test_bad_json_and_bad_values_are_400_with_a_clear_message(
    write_config: Callable[..., Path],
    start_gateway: Any,
    tmp_path: Path,
    body: Any,
    words: str,
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    code, _, answer = await call(gw.service.address, "/api/machines/4", body)
    assert code == 400
    assert words in answer["error"]
    assert machine_events(tmp_path) == []


NO_SUCH = ["99", "0", "abc", "4/5", "-1", "", "4%20", "%D9%A4"]


@pytest.mark.parametrize("path", ["/api/machines/" + n for n in NO_SUCH])
async def test_machines_that_do_not_exist_are_404(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path, path: str
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    code, _, answer = await call(gw.service.address, path, {"state": "free"})
    assert code == 404
    assert "machines: 1-16" in answer["error"]
    assert machine_events(tmp_path) == []


async def test_only_post(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path))
    code, headers, _ = await call(gw.service.address, "/api/machines/4", "", method="GET")
    assert code == 405 and headers["allow"] == "POST"


async def test_a_flood_gets_429_and_the_kiosks_are_still_served(
    write_config: Callable[..., Path], start_gateway: Any, tmp_path: Path
) -> None:
    gw = await start_gateway(api_config(write_config, tmp_path, api_rate=5, api_burst=10))
    address = gw.service.address
    async with kiosk(gw.url) as k:
        stop = asyncio.Event()
        codes: list[int] = []

        async def flood() -> None:
            while not stop.is_set():
                batch = [
                    call(address, "/api/machines/3", {"state": "free"}, token="guessing")
                    for _ in range(10)
                ]
                codes.extend(code for code, _, _ in await asyncio.gather(*batch))

        flooding = asyncio.create_task(flood())
        await asyncio.sleep(0.5)
        slowest = 0.0
        for _ in range(5):
            started = time.monotonic()
            reply = await k.ask("what are your hours")
            slowest = max(slowest, time.monotonic() - started)
            assert reply["intent"] == "hours"
        stop.set()
        await flooding
    assert codes.count(429) > len(codes) / 2
    assert set(codes) <= {401, 429}  # the token was never right; the first few are told so
    assert slowest < 1.0
    code, headers, _ = await call(address, "/api/machines/3", {"state": "free"})
    assert code == 429 and headers["retry-after"] == "1"  # this address still has to wait
    await asyncio.sleep(0.4)
    assert (await call(address, "/api/machines/3", {"state": "free"}))[0] == 200


async def test_the_kiosk_page_gets_the_machine_list_before_the_first_push(
    write_config: Callable[..., Path], start_gateway: Any
) -> None:
    import urllib.request

    gw = await start_gateway(write_config())

    def get() -> dict[str, Any]:
        with urllib.request.urlopen(gw.http + "/kiosk.json", timeout=5) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    info = await asyncio.to_thread(get)
    assert info["machines"][0] == {"number": 1, "kind": "washer", "size": "regular"}
    assert [m["number"] for m in info["machines"]] == list(range(1, 17))


async def test_every_kiosk_gets_the_board_on_connect_and_on_a_change_by_the_cli(
    write_config: Callable[..., Path], start_gateway: Any
) -> None:
    from laundrybot.cli import main

    config = write_config()
    gw = await start_gateway(config)
    async with kiosk(gw.url, hello=False) as one, kiosk(gw.url) as two:
        await one.send(type="hello", kiosk="front-1", lang="en")
        assert [(await one.recv())["type"] for _ in range(3)] == ["welcome", "status", "machines"]
        await two.recv_type("machines")
        started = time.monotonic()
        args = ["machines", "--config", str(config), "set", "9", "busy", "--minutes", "20"]
        assert await asyncio.to_thread(main, args) == 0
        for k in (one, two):
            entry = board_entry(await k.recv_type("machines"), 9)
            assert (entry["state"], entry["minutes_left"], entry["source"]) == ("busy", 20, "staff")
        assert time.monotonic() - started < 1.5  # the CLI's own start-up is most of it
        assert "20 minutes" in (await one.ask("how long until dryer 9 is done?"))["text"]
