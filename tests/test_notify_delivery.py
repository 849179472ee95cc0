"""Delivery against real peers on loopback: webhook receivers that fail for a while, are slow or
answer with errors, and an SMTP server with STARTTLS and a login, with the notify unit restarted
(and killed) in the middle. Every notification must arrive; none twice (by id).

Each delivery test prints, per channel, how many notifications it sent, how many arrived and
how many arrived twice (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from laundrybot.notify import store
from laundrybot.store.spool import Event, SpoolDB

from .conftest import NotifyListener, kiosk
from .pg_fixtures import await_until, wait_until
from .test_notify import HttpPeer, SmtpPeer, email_settings, escalation, make_certificate

# Fast retries so outages heal within a test's patience.
FAST = {"retry_first": 0.2, "retry_max": 1.5, "attempt_timeout": 5, "disk_free_mb": 0}


@pytest.fixture
def webhook() -> Iterator[Callable[..., HttpPeer]]:
    """Start webhook receivers (HttpPeer options); all stopped after the test."""
    started: list[HttpPeer] = []

    def start(**options: Any) -> HttpPeer:
        peer = HttpPeer(**options).start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def mail(tls: tuple[Path, Path]) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(*tls).start()
    yield peer
    peer.stop()


class NotifyProcess:
    """`laundrybot serve notify` in a child process, as systemd runs it."""

    def __init__(self, config: Path, listener: NotifyListener, log: Path) -> None:
        self.config = config
        self.listener = listener
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTEN_", "WATCHDOG_"))}
        env |= {"NOTIFY_SOCKET": str(self.listener.path), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "laundrybot", "serve", "notify", "--config", str(self.config)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        self.listener.wait_for("READY", "1", count=self.starts)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(30)


@pytest.fixture
def notify_process(
    notify_socket: NotifyListener, tmp_path: Path
) -> Iterator[Callable[[Path], NotifyProcess]]:
    started: list[NotifyProcess] = []

    def make(config: Path) -> NotifyProcess:
        process = NotifyProcess(config, notify_socket, tmp_path / "notify.log")
        started.append(process)
        return process

    yield make
    for process in started:
        if process.proc is not None and process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def write_events(spool: Path, events: list[Event]) -> None:
    db = SpoolDB(spool, "shop")
    try:
        db.write(events)
    finally:
        db.close()


def delivery_states(spool: Path) -> dict[str, int]:
    db = SpoolDB(spool, "shop")
    try:
        rows = db.conn.execute("SELECT state, count(*) FROM deliveries GROUP BY state")
        return dict(rows.fetchall())
    finally:
        db.close()


def report(test: str, sent: int, peers: dict[str, Any]) -> dict[str, tuple[int, int]]:
    figures = {name: peer.figures() for name, peer in peers.items()}
    parts = [
        f"{name}: sent {sent}, arrived {arrived}, arrived twice {twice}"
        for name, (arrived, twice) in figures.items()
    ]
    print(f"\n[notify: {test}] " + "; ".join(parts))
    return figures


def all_arrived(peers: dict[str, Any], ids: list[str]) -> bool:
    return all(set(ids) <= set(peer.arrivals) for peer in peers.values())


def mixed_events(n: int) -> list[Event]:
    """Escalations of every kind on different machines, and now and then a unit failure."""
    events: list[Event] = []
    for i in range(n):
        if i % 6 == 5:
            events.append(
                Event(kind="unit-failure", detail={"unit": f"u{i}.service", "result": "watchdog"})
            )
        else:
            reason = ("call-staff", "money-taken", "machine-broken")[i % 3]
            events.append(escalation(reason, None if reason == "call-staff" else i, f"k{i}"))
    return events


def test_every_notification_arrives_once_through_outages_and_a_restart(
    webhook: Any,
    mail: SmtpPeer,
    tls: tuple[Path, Path],
    write_config: Any,
    notify_process: Any,
    tmp_path: Path,
) -> None:
    token = tmp_path / "flaky.token"
    token.write_text("flaky-t0ken\n")
    peers: dict[str, Any] = {
        "flaky": webhook(name="flaky", down=True, token="flaky-t0ken"),
        "slow": webhook(name="slow", delay=1.0),
        "errors": webhook(name="errors", error_rate=0.4),
    }
    config = write_config(
        {
            "notify": FAST
            | {
                "socket": str(tmp_path / "notify-unit.sock"),
                "webhooks": {name: peer.url for name, peer in peers.items()},
                "webhook_token_file": {"flaky": str(token)},
                "email": email_settings(mail, tls[0], tmp_path),
                "repeat_window": 0,
            }
        }
    )
    peers["email"] = mail
    spool = tmp_path / "spool.sqlite"
    unit = notify_process(config)
    unit.start()
    events = mixed_events(24)
    for i, event in enumerate(events):
        write_events(spool, [event])
        time.sleep(0.1)
        if i == 8:
            assert unit.stop() == 0  # systemctl restart: in flight, retrying, waiting
            unit.start()
        if i == 16:
            peers["flaky"].down = False
    ids = [e.id for e in events]
    wait_until(lambda: all_arrived(peers, ids), timeout=60, what="every notification")
    assert unit.stop() == 0
    figures = report("outages and a restart", len(ids), peers)
    assert peers["flaky"].refused > 0 and peers["errors"].refused > 0  # the faults happened
    assert all(arrived == len(ids) for arrived, _ in figures.values())
    assert all(twice == 0 for _, twice in figures.values()), figures
    assert delivery_states(spool) == {"delivered": len(ids) * len(peers)}
    # The id travels in the body and the Idempotency-Key header, and as the Message-ID.
    for name in ("flaky", "slow", "errors"):
        for notification_id, body in peers[name].bodies.items():
            assert body["id"] == notification_id and body["ids"] == [notification_id]
    assert peers["flaky"].headers[ids[0]]["authorization"] == "Bearer flaky-t0ken"
    assert mail.messages[ids[0]]["Message-ID"] == f"<{ids[0]}@laundrybot>"
    assert mail.logins >= 1
    kinds = {b["kind"] for b in peers["slow"].bodies.values()}
    assert kinds == {"call-staff", "money-taken", "machine-broken", "unit-failure"}


def test_a_killed_notify_unit_loses_nothing(
    webhook: Any, write_config: Any, notify_process: Any, tmp_path: Path
) -> None:
    peers = {"hook": webhook(name="hook", delay=0.3), "retry": webhook(name="retry")}
    config = write_config(
        {
            "notify": FAST
            | {
                "socket": str(tmp_path / "notify-unit.sock"),
                "webhooks": {name: peer.url for name, peer in peers.items()},
                "repeat_window": 0,
            }
        }
    )
    spool = tmp_path / "spool.sqlite"
    unit = notify_process(config)
    unit.start()
    events = mixed_events(20)
    write_events(spool, events[:10])
    wait_until(lambda: len(peers["hook"].arrivals) >= 3, timeout=20, what="a few arrivals")
    unit.stop(signal.SIGKILL)  # no graceful stop: attempts in flight are not marked
    write_events(spool, events[10:])
    unit.start()
    ids = [e.id for e in events]
    wait_until(lambda: all_arrived(peers, ids), timeout=60, what="every notification")
    assert unit.stop() == 0
    figures = report("killed with SIGKILL", len(ids), peers)
    assert all(arrived == len(ids) for arrived, _ in figures.values())
    # At least once: only what was in flight at the kill may come twice (receivers drop it
    # by id); a graceful restart repeats nothing (test above).
    assert all(twice <= 4 for _, twice in figures.values()), figures


async def test_customers_hear_honestly_whether_the_staff_were_messaged(
    webhook: Any, write_config: Any, start_units: Any, tmp_path: Path
) -> None:
    peer = webhook(name="phone")
    config = write_config(
        {
            "notify": FAST
            | {
                "socket": str(tmp_path / "notify-unit.sock"),
                "webhooks": {"phone": peer.url},
                "answer_wait": 1.5,
            }
        }
    )
    units = await start_units(config, ["gateway", "notify"])
    async with kiosk(units.gateway_url) as k:
        started = time.monotonic()
        staff = await k.ask("call staff please")
        told_in = time.monotonic() - started
        assert staff["text"].startswith("I've messaged the staff; someone usually answers within")
        assert "15 minutes" in staff["text"] and "555-014-2368" not in staff["text"]
        (body,) = peer.bodies.values()
        assert body["kind"] == "call-staff" and body["question"] == "call staff please"
        # The same machine reported twice: one message, and the customer hears so.
        broken = await k.ask("washer 5 is broken")
        again = await k.ask("washer 5 is still broken")
        assert "I've messaged the staff" in broken["text"]
        assert "already been messaged about this" in again["text"], again["text"]
        assert len(peer.arrivals) == 2
        # The channel down: within answer_wait, the phone number; the message follows later.
        peer.down = True
        started = time.monotonic()
        money = await k.ask("dryer 10 took my money")
        waited = time.monotonic() - started
        assert "555-014-2368" in money["text"] and "recorded" in money["text"]
        assert "messaged" not in money["text"]
        assert 1.0 < waited < 1.5 + 1.0, waited
        peer.down = False
        await await_until(lambda: len(set(peer.arrivals)) == 3, timeout=20, what="the retry")
    async with kiosk(units.gateway_url, kiosk="k-ko", lang="ko") as k:
        ko = await k.ask("직원 불러 주세요")
        assert ko["text"].startswith("직원에게 메시지를 보냈어요. 보통 15분 안에 답이 와요.")
    gateway = units.service("gateway")
    answers = {
        tuple(s.labels.values()): s.value
        for metric in gateway.metrics.escalation_answers.collect()
        for s in metric.samples
        if s.name.endswith("_total")
    }
    print(
        f"\n[notify: honesty] told within {told_in * 1000:.0f} ms when accepted, "
        f"{waited * 1000:.0f} ms when the channel was down (answer_wait 1.5 s); "
        f"answers {answers}"
    )
    assert answers[("accepted",)] == 3 and answers[("already",)] == 1
    assert answers[("pending",)] == 1
    assert await units.stop() == 0


async def test_without_a_notify_unit_or_channels_the_customer_gets_the_phone_at_once(
    write_config: Any, start_units: Any, tmp_path: Path
) -> None:
    config = write_config(
        {
            "notify": {
                "socket": str(tmp_path / "notify-unit.sock"),  # nobody listens there
                "webhooks": {"phone": "http://127.0.0.1:9/hook"},
            }
        }
    )
    units = await start_units(config, ["gateway"])
    async with kiosk(units.gateway_url) as k:
        started = time.monotonic()
        reply = await k.ask("call staff")
        assert time.monotonic() - started < 1.0
        assert "555-014-2368" in reply["text"] and "messaged" not in reply["text"]
    assert await units.stop() == 0


async def test_repeats_of_one_problem_go_out_as_one_message_with_a_count(
    webhook: Any, write_config: Any, start_units: Any, tmp_path: Path
) -> None:
    peer = webhook(name="phone")
    config = write_config(
        {
            "notify": FAST
            | {
                "socket": str(tmp_path / "notify-unit.sock"),
                "webhooks": {"phone": peer.url},
                "repeat_window": 2,
            }
        }
    )
    units = await start_units(config, ["notify"])
    spool = tmp_path / "spool.sqlite"
    events = [escalation("machine-broken", 5, f"k{i}") for i in range(10)]
    await asyncio.to_thread(write_events, spool, events[:1])
    await await_until(lambda: len(peer.arrivals) == 1, timeout=10, what="the first message")
    for event in events[1:]:
        await asyncio.to_thread(write_events, spool, [event])
        await asyncio.sleep(0.05)
    await await_until(lambda: len(peer.arrivals) == 2, timeout=15, what="the summed message")
    await asyncio.sleep(2.5)  # nothing more comes
    first, second = (peer.bodies[i] for i in peer.arrivals)
    print(
        f"\n[notify: rate limit] events {len(events)}, messages {len(peer.arrivals)} "
        f"(counts {first['count']} and {second['count']})"
    )
    assert len(peer.arrivals) == 2
    assert first["count"] == 1 and second["count"] == 9
    assert set(first["ids"]) | set(second["ids"]) == {e.id for e in events}
    assert "(9 reports since" in second["text"]
    assert await units.stop() == 0


async def test_alerts_and_the_daily_summary(
    webhook: Any, write_config: Any, start_units: Any, tmp_path: Path
) -> None:
    import datetime
    import zoneinfo

    from laundrybot.dialog.knowledge import load_knowledge

    from .conftest import KNOWLEDGE

    peer = webhook(name="phone")
    tz = zoneinfo.ZoneInfo(load_knowledge(KNOWLEDGE).timezone)
    now = datetime.datetime.now(tz)
    settings = FAST | {
        "socket": str(tmp_path / "notify-unit.sock"),
        "webhooks": {"phone": peer.url},
        "daily_summary": now.strftime("%H:%M"),
        "disk_free_mb": 10_000_000,  # "nearly full" for any disk
    }
    config = write_config({"notify": settings})
    spool = tmp_path / "spool.sqlite"
    await asyncio.to_thread(
        write_events,
        spool,
        [
            Event(
                kind="unit-failure", detail={"unit": "laundrybot-asr.service", "result": "signal"}
            ),
            Event(kind="error", detail={"code": "database-down", "message": "first failure"}),
            Event(kind="error", detail={"code": "database-unreachable", "message": "3 min"}),
            Event(kind="machine-change", machine=3, detail={"state": "busy"}),
        ],
    )
    # The first start sees the events above (within a minute of the channel's first start).
    units = await start_units(config, ["notify"])

    def kinds() -> list[str]:
        return sorted(b["kind"] for b in peer.bodies.values())

    want = ["daily-summary", "database-unreachable", "disk-low", "unit-failure"]
    await await_until(lambda: kinds() == want, timeout=20, what="alerts and the summary")
    summary = next(b for b in peer.bodies.values() if b["type"] == "summary")
    assert "In the last 24 hours" in summary["text"]
    assert await units.stop() == 0
    # A restart the same day sends no second summary; the disk, still nearly full, makes a
    # new alert event, held as a repeat (repeat_window) rather than sent again at once.
    units = await start_units(config, ["notify"])

    def disk_alerts() -> list[tuple[str, str]]:
        db = SpoolDB(spool, "shop")
        try:
            rows = db.conn.execute(
                "SELECT e.id, d.state FROM events e JOIN deliveries d ON d.event_id = e.id"
                " WHERE e.kind = 'alert' ORDER BY e.ts"
            )
            return rows.fetchall()
        finally:
            db.close()

    await await_until(lambda: len(disk_alerts()) == 2, timeout=20, what="a new disk alert")
    await asyncio.sleep(1.5)
    (_, first), (second_id, second) = disk_alerts()
    assert (first, second) == ("delivered", "pending")
    db = SpoolDB(spool, "shop")
    try:
        assert store.outcome(db, second_id, time.time())[0] == "already"
    finally:
        db.close()
    print(f"\n[notify: alerts] messages {json.dumps(kinds())}")
    assert kinds() == want
    assert len(peer.arrivals) == len(set(peer.arrivals)) == 4
    assert await units.stop() == 0


def test_notify_test_reports_each_channel(
    webhook: Any,
    mail: SmtpPeer,
    tls: tuple[Path, Path],
    write_config: Any,
    tmp_path: Path,
) -> None:
    peer = webhook(name="phone")
    config = write_config(
        {
            "notify": {
                "webhooks": {"phone": peer.url, "dead": "http://127.0.0.1:9/hook"},
                "email": email_settings(mail, tls[0], tmp_path),
                "attempt_timeout": 5,
            }
        }
    )
    out = subprocess.run(
        [sys.executable, "-m", "laundrybot", "notify", "test", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    print(f"\n[notify test]\n{out.stdout}")
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("webhook phone (") and line.endswith(": ok") for line in lines)
    assert any(
        line.startswith("webhook dead (") and "FAILED: cannot connect" in line for line in lines
    )
    assert any(
        line.startswith("email to owner@example.com") and line.endswith(": ok") for line in lines
    )
    assert "2 of 3 channels accepted" in out.stdout
    (body,) = peer.bodies.values()
    assert body["type"] == "test" and len(mail.arrivals) == 1
    assert "hook" not in out.stdout.replace("webhook", "")  # the URL's path stays secret
