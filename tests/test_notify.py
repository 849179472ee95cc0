"""Staff notifications: message bodies, delivery state in the spool, collapsing, and the peers
(an HTTP webhook receiver and an SMTP server on loopback) that the delivery tests use.

The peers count what arrives by notification id, so a test can say how many notifications it
sent, how many arrived and how many arrived twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import random
import socket
import ssl
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from laundrybot.config import Config, NotifyConfig, load_config
from laundrybot.errors import ConfigError
from laundrybot.notify import store
from laundrybot.notify.channels import build_channels
from laundrybot.notify.email import EmailChannel, message_id
from laundrybot.notify.message import Notification, classify, from_event, group_key
from laundrybot.notify.webhook import WebhookChannel, post, shown_url
from laundrybot.store.spool import Event, SpoolDB

# -- peers -----------------------------------------------------------------------------------


@dataclass
class HttpPeer:
    """A webhook receiver on 127.0.0.1 in a thread of its own.

    ``down``: answer 503 or drop the connection; ``delay``: seconds before answering (the
    request counts as arrived when it is read, as a real receiver would act on it);
    ``error_rate``: share of requests refused with 500 or 429 + Retry-After.
    """

    name: str = "peer"
    down: bool = False
    delay: float = 0.0
    error_rate: float = 0.0
    token: str | None = None
    seed: int = 7
    arrivals: list[str] = field(default_factory=list)
    bodies: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: int = 0
    refused: int = 0
    port: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"peer-{self.name}")
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{self.name}"

    def start(self) -> HttpPeer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    def stop(self) -> None:
        def close() -> None:
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(close)
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await reader.readline()
            headers: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                key, _, value = line.decode("latin-1").partition(":")
                headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests += 1
            assert request_line.startswith(b"POST /hook/")
            if self.token and headers.get("authorization") != f"Bearer {self.token}":
                await self._answer(writer, 401, "Unauthorized", b"bad token")
                return
            if self.down:
                self.refused += 1
                if self._random.random() < 0.5:
                    writer.transport.abort()  # a dropped connection, no answer at all
                else:
                    await self._answer(writer, 503, "Service Unavailable", b"down", "0")
                return
            if self._random.random() < self.error_rate:
                self.refused += 1
                if self._random.random() < 0.5:
                    await self._answer(writer, 500, "Internal Server Error", b"oops")
                else:
                    await self._answer(writer, 429, "Too Many Requests", b"slow down", "1")
                return
            notification_id = headers.get("idempotency-key", "")
            self.arrivals.append(notification_id)
            self.headers[notification_id] = headers
            kind = headers.get("content-type", "")
            self.bodies[notification_id] = (
                json.loads(body) if kind.startswith("application/json") else body.decode()
            )
            if self.delay:
                await asyncio.sleep(self.delay)
            await self._answer(writer, 200, "OK", b'{"ok":true}')
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    async def _answer(
        writer: asyncio.StreamWriter,
        status: int,
        reason: str,
        body: bytes,
        retry_after: str | None = None,
    ) -> None:
        extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n{extra}"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    def figures(self) -> tuple[int, int]:
        """(distinct notifications arrived, notifications that arrived more than once)."""
        counts = Counter(self.arrivals)
        return len(counts), sum(1 for c in counts.values() if c > 1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


class SmtpPeer:
    """aiosmtpd on 127.0.0.1: STARTTLS required, then AUTH (user "owner"), then mail."""

    USER, PASSWORD = "owner", "s3cret-smtp"

    def __init__(self, cert: Path, key: Path) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.arrivals: list[str] = []  # X-Laundrybot-Id of each message, repeats included
        self.messages: dict[str, email.message.EmailMessage] = {}
        self.logins = 0
        peer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
                notification_id = str(msg["X-Laundrybot-Id"])
                peer.arrivals.append(notification_id)
                peer.messages[notification_id] = msg  # type: ignore[assignment]
                return "250 OK"

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):  # type: ignore[no-untyped-def]
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == self.USER
                and data.password.decode() == self.PASSWORD
            )
            if ok:
                peer.logins += 1
            return AuthResult(success=ok)

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.port = free_port()
        self.controller = Controller(
            Handler(),
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )

    def start(self) -> SmtpPeer:
        self.controller.start()
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()

    def figures(self) -> tuple[int, int]:
        counts = Counter(self.arrivals)
        return len(counts), sum(1 for c in counts.values() if c > 1)


@pytest.fixture
def http_peer() -> Iterator[Any]:
    started: list[HttpPeer] = []

    def start(**options: Any) -> HttpPeer:
        peer = HttpPeer(**options).start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_peer(certificate: tuple[Path, Path]) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(*certificate).start()
    yield peer
    peer.stop()


def email_settings(peer: SmtpPeer, cert: Path, tmp_path: Path) -> dict[str, Any]:
    secret = tmp_path / "smtp-password"
    secret.write_text(SmtpPeer.PASSWORD + "\n")
    return {
        "to": ["owner@example.com"],
        "sender": "laundrybot@shop.example",
        "host": "127.0.0.1",
        "port": peer.port,
        "security": "starttls",
        "username": SmtpPeer.USER,
        "password_file": str(secret),
        "ca_file": str(cert),
    }


# -- messages --------------------------------------------------------------------------------


def escalation(reason: str = "money-taken", machine: int | None = 12, kiosk: str = "k1") -> Event:
    detail = {"reason": reason, "question": "dryer 12 took my money", "turn": "t"}
    return Event(kind="escalation", kiosk=kiosk, session="s", machine=machine, detail=detail)


def test_which_events_notify_and_how_they_group() -> None:
    config = NotifyConfig()
    assert classify("escalation", {"reason": "money-taken"}, config) == (
        "escalation",
        "money-taken",
    )
    assert classify("escalation", {"reason": "other"}, config) is None
    assert classify("unit-failure", {"unit": "x.service"}, config) == ("alert", "unit-failure")
    assert classify("error", {"code": "database-unreachable"}, config) == (
        "alert",
        "database-unreachable",
    )
    assert classify("error", {"code": "database-down"}, config) is None  # only after minutes
    assert classify("error", {"code": "internal"}, config) is None
    assert classify("alert", {"code": "disk-low"}, config) == ("alert", "disk-low")
    assert classify("machine-change", {}, config) is None
    quiet = NotifyConfig(alerts=())
    assert classify("unit-failure", {"unit": "x"}, quiet) is None
    # One broken machine is one problem; two kiosks calling for staff are two.
    assert group_key("escalation", "machine-broken", 5, "k1", {}) == group_key(
        "escalation", "machine-broken", 5, "k2", {}
    )
    assert group_key("escalation", "call-staff", None, "k1", {}) != group_key(
        "escalation", "call-staff", None, "k2", {}
    )
    assert group_key("summary", "daily-summary", None, "", {}) == ""


def test_the_webhook_body_is_documented_json_that_chat_services_take() -> None:
    event = escalation()
    row = {
        "id": event.id,
        "ts": 1_700_000_000.0,
        "shop": "shop-7",
        "kind": "escalation",
        "kiosk": "k1",
        "machine": 12,
        "detail": event.detail,
    }
    n = from_event(row, "escalation", "money-taken", "Bubbles", {12: "dryer 12"}, None)
    body = n.body()
    assert body["id"] == event.id and body["ids"] == [event.id] and body["count"] == 1
    assert body["type"] == "escalation" and body["kind"] == "money-taken"
    assert body["machine"] == 12 and body["shop"] == "shop-7" and body["kiosk"] == "k1"
    assert body["title"] == "Money taken: dryer 12"
    assert body["text"] == body["content"]  # Slack-likes read "text", Discord "content"
    assert "dryer 12 took my money" in body["text"] and body["text"].startswith("Bubbles:")
    assert body["time"].endswith("+00:00")
    json.dumps(body)
    channel = WebhookChannel("chat", "https://hooks.example.com/services/SECRET", "chat", "tok")
    data, headers = channel.request(n)
    assert json.loads(data) == {"text": n.text}
    assert headers["Idempotency-Key"] == event.id and headers["Authorization"] == "Bearer tok"
    text_channel = WebhookChannel("push", "https://ntfy.example/shop", "text", None)
    data, headers = text_channel.request(n)
    assert data.decode() == n.text and headers["Priority"] == "high"
    assert "Authorization" not in headers
    assert "SECRET" not in channel.describe() and shown_url(channel.url).endswith("/…")
    more = from_event(row, "escalation", "money-taken", "B", {}, None, [("id-2", 1_700_000_100.0)])
    assert more.count == 2 and more.body()["ids"] == [event.id, "id-2"]
    assert "(2 reports since" in more.text


def test_email_message_id_comes_from_the_notification_id() -> None:
    channel = EmailChannel(("a@example.com",), "", "127.0.0.1", 25, "none", "", None, "", 5.0)
    n = Notification(
        id="0b0c5e1e-1111-4222-8333-444455556666",
        category="alert",
        kind="disk-low",
        shop="s",
        shop_name="Bubbles",
        ts=time.time(),
        message="only 12 MB free",
    )
    msg = channel.build(n)
    assert msg["Message-ID"] == message_id(n.id) == f"<{n.id}@laundrybot>"
    assert msg["X-Laundrybot-Id"] == n.id
    assert "Disk nearly full" in msg["Subject"]
    assert "only 12 MB free" in msg.get_content()


def test_channel_settings_are_checked(tmp_path: Path, write_config: Any) -> None:
    with pytest.raises(ConfigError, match=r"notify\.webhooks"):
        load_config(write_config({"notify": {"webhooks": {"Bad Name": "https://x.example"}}}))
    with pytest.raises(ConfigError, match="an http") as raised:
        load_config(write_config({"notify": {"webhooks": {"a": "ftp://secret-path"}}}))
    assert "secret-path" not in str(raised.value)  # URLs carry secrets: never echoed
    config = load_config(
        write_config(
            {
                "notify": {
                    "webhooks": {"a": "https://x.example/hook"},
                    "webhook_format": {"b": "chat"},
                }
            }
        )
    )
    with pytest.raises(ConfigError, match=r"notify\.webhook_format\.b"):
        build_channels(config)
    config = load_config(
        write_config(
            {
                "notify": {
                    "webhooks": {"a": "https://x.example/hook"},
                    "webhook_format": {},
                    "webhook_token_file": {"a": "missing-token"},
                }
            }
        )
    )
    with pytest.raises(ConfigError, match="missing-token"):
        build_channels(config)
    (tmp_path / "missing-token").write_text("t0ken\n")
    (channel,) = build_channels(config)
    assert isinstance(channel, WebhookChannel) and channel.token == "t0ken"
    with pytest.raises(ConfigError, match="HH:MM"):
        load_config(write_config({"notify": {"daily_summary": "25:00"}}))


async def test_the_http_client_talks_to_a_real_server(http_peer: Any) -> None:
    peer = http_peer(name="p")
    response = await post(peer.url, b"{}", {"Idempotency-Key": "abc"})
    assert response.status == 200 and peer.arrivals == ["abc"]
    peer.down = True
    peer.seed = 1
    statuses = set()
    for _ in range(6):
        try:
            statuses.add((await post(peer.url, b"{}", {"Idempotency-Key": "x"})).status)
        except Exception as exc:  # a dropped connection
            statuses.add(type(exc).__name__)
    assert 503 in statuses


# -- delivery state ----------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SpoolDB]:
    spool = SpoolDB(tmp_path / "spool.sqlite", "shop")
    yield spool
    spool.close()


def test_delivery_rows_collapse_repeats_and_hold_them_for_the_window(db: SpoolDB) -> None:
    config = NotifyConfig(repeat_window=60)
    t0 = time.time()
    added = store.register_channels(db, ["hook", "mail"], t0 - 10)
    first, second, third = (escalation("machine-broken", 5) for _ in range(3))
    other = escalation("machine-broken", 6)
    db.write([first])
    made = store.scan(db, added, config, t0)
    assert sorted(s for _, _, s in made) == ["pending", "pending"]
    (due,) = store.due(db, "hook", config, t0, 10, set())
    assert due.event["id"] == first.id and due.also == []
    store.delivered(db, "hook", first.id, [], t0, config.repeat_window)
    assert store.outcome(db, first.id, t0)[0] == "accepted"
    # Repeats within the window: one held message (due at the window's end), then joined.
    db.write([second, third, other])
    made = store.scan(db, added, config, t0 + 1)
    states = {(i, c): s for i, c, s in made}
    assert states[(second.id, "hook")] == "held"
    assert states[(third.id, "hook")] == "collapsed"
    assert states[(other.id, "hook")] == "pending"  # another machine: its own message
    assert states[(second.id, "mail")] == "collapsed"  # mail: the first is still pending
    assert store.outcome(db, second.id, t0 + 1)[0] == "already"
    assert [d.event["id"] for d in store.due(db, "hook", config, t0 + 2, 10, set())] == [other.id]
    (held,) = [
        d for d in store.due(db, "hook", config, t0 + 62, 10, set()) if d.event["id"] == second.id
    ]
    assert [i for i, _ in held.also] == [third.id]
    store.delivered(db, "hook", second.id, [third.id], t0 + 62, 60)
    assert store.outcome(db, third.id, t0 + 62)[0] == "accepted"
    # On "mail", the first is still pending and carries both repeats.
    (mail,) = [d for d in store.due(db, "mail", config, t0 + 2, 10, set()) if d.also]
    assert mail.event["id"] == first.id and {i for i, _ in mail.also} == {second.id, third.id}


def test_a_repeat_that_joins_during_an_attempt_leads_the_next_message(db: SpoolDB) -> None:
    config = NotifyConfig(repeat_window=30)
    t0 = time.time()
    added = store.register_channels(db, ["hook"], t0)
    a, b = escalation("money-taken", 3), escalation("money-taken", 3)
    db.write([a])
    store.scan(db, added, config, t0)
    assert len(store.due(db, "hook", config, t0, 10, set())) == 1
    db.write([b])  # arrives while the message about a is on its way
    store.scan(db, added, config, t0 + 0.5)
    store.delivered(db, "hook", a.id, [], t0 + 1, 30)  # the message did not carry b
    assert store.outcome(db, b.id, t0 + 1)[0] == "already"
    (nxt,) = store.due(db, "hook", config, t0 + 31.5, 10, set())
    assert nxt.event["id"] == b.id


def test_failures_back_off_and_old_ones_are_given_up(db: SpoolDB) -> None:
    config = NotifyConfig(repeat_window=0, give_up_hours=1)
    t0 = time.time()
    added = store.register_channels(db, ["hook"], t0 - 7200)
    old = escalation()
    db.write([Event(kind="escalation", detail=old.detail, ts=t0 - 1800, id=old.id)])
    store.scan(db, added, config, t0 - 1800)
    store.failed(db, "hook", old.id, "HTTP 503", t0 + 5)
    assert store.due(db, "hook", config, t0, 10, set()) == []
    assert store.outcome(db, old.id, t0)[0] == "pending"
    assert store.backlog(db, ["hook"])["hook"][0] == 1
    assert store.expire(db, 1, t0 + 3600) == [(old.id, "hook", "HTTP 503")]
    assert store.outcome(db, old.id, t0 + 3600)[0] == "expired"
    assert store.backlog(db, ["hook"])["hook"][0] == 0


def test_a_new_channel_gets_no_flood_of_old_events(db: SpoolDB) -> None:
    config = NotifyConfig()
    t0 = time.time()
    old = escalation()
    db.write([Event(kind="escalation", detail=old.detail, ts=t0 - 600, id=old.id)])
    added = store.register_channels(db, ["new"], t0)
    assert store.scan(db, added, config, t0) == []
    fresh = escalation()
    db.write([fresh])
    assert [i for i, _, _ in store.scan(db, added, config, t0)] == [fresh.id]


def test_the_spool_migrates_to_the_delivery_schema(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    import sqlite3

    from laundrybot.store.spool import MIGRATIONS

    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    conn.execute(
        "INSERT INTO events (id, ts, shop, kind, kiosk, session, detail) VALUES"
        " ('e', 1, 's', 'escalation', '', '', '{}')"
    )
    conn.commit()
    conn.close()
    db = SpoolDB(path, "s")
    try:
        assert db.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
        assert db.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    finally:
        db.close()


def test_config_defaults_have_no_channels() -> None:
    assert build_channels(Config()) == []


@pytest.mark.parametrize(
    ("lang", "question", "messaged", "already"),
    [
        ("en", "call staff", "I've messaged the staff; someone usually answers within 15 minutes.",
         "The staff have already been messaged about this; someone usually answers within 15"),
        ("en", "dryer 12 took my money", "I've messaged the staff;", "already been messaged"),
        ("en", "washer 5 is leaking", "I've messaged the staff;", "already been messaged"),
        ("ko", "직원 불러 주세요", "직원에게 메시지를 보냈어요. 보통 15분 안에 답이 와요.",
         "이 일은 직원에게 이미 메시지가 갔어요."),
        ("ko", "세탁기 삼 번이 동전을 먹었어요", "직원에게 메시지를 보냈어요.",
         "이미 메시지가 갔어요"),
    ],
)  # fmt: skip
def test_escalation_answers_say_the_staff_were_messaged_only_when_told_so(
    lang: str, question: str, messaged: str, already: str
) -> None:
    import datetime

    from laundrybot.dialog.engine import Dialog
    from laundrybot.dialog.knowledge import load_knowledge_set
    from laundrybot.dialog.wording import StaffNotice

    from .conftest import KNOWLEDGE

    knowledge = load_knowledge_set(KNOWLEDGE)[lang]
    dialog = Dialog(knowledge)
    answer = dialog.answer(question, {}, datetime.datetime.now(datetime.UTC))
    assert answer.escalation is not None and answer.report is not None
    phone = knowledge.staff_phone
    told = dialog.told(answer, StaffNotice.ACCEPTED, 15)
    assert messaged in told and phone not in told, told
    assert already in dialog.told(answer, StaffNotice.ALREADY, 15)
    assert "15" not in dialog.told(answer, StaffNotice.ACCEPTED, 0)
    # Not accepted in time, no channels, not recorded: the dialogue's own words, phone included.
    for notice in (StaffNotice.NOT_IN_TIME, StaffNotice.NO_CHANNEL, StaffNotice.UNRECORDED):
        assert dialog.told(answer, notice, 15) == answer.text
    assert phone in answer.text
