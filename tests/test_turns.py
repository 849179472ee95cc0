"""Turns with no socket: a real spool in tmp_path, a fake notify unit, real metrics."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from laundrybot.dialog.engine import Dialog
from laundrybot.dialog.knowledge import load_knowledge_set
from laundrybot.dialog.wording import StaffNotice
from laundrybot.gateway.session import Session
from laundrybot.gateway.turns import Stopping, Turns, notice_of
from laundrybot.metrics import GatewayMetrics
from laundrybot.store.spool import Spool

from .conftest import KNOWLEDGE

PHONE = "555-014-2368"
DIALOGS = {lang: Dialog(k) for lang, k in load_knowledge_set(KNOWLEDGE).items()}
NOON = datetime.datetime(2026, 6, 3, 12, 0, tzinfo=datetime.UTC)


class FakeNotify:
    """The notify unit's deliver-now answer, and the event ids it was asked about."""

    def __init__(self, result: str = "accepted") -> None:
        self.result = result
        self.asked: list[str] = []

    async def __call__(self, event_id: str) -> str:
        self.asked.append(event_id)
        return self.result


class Desk:
    def __init__(self, spool: Spool, notify: FakeNotify, minutes: int = 15) -> None:
        self.spool = spool
        self.notify = notify
        self.registry = CollectorRegistry()
        self.turns = Turns(
            spool=spool,
            metrics=GatewayMetrics(self.registry),
            tell_staff=notify,
            dialog=lambda lang: DIALOGS.get(lang) or DIALOGS["en"],
            machines=lambda: {},
            now=lambda: NOON,
            answer_minutes=lambda: minutes,
        )

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    async def rows(self, table: str) -> list[dict[str, object]]:
        return await self.spool.read(lambda db: db.pending(table, 100))


@pytest.fixture
async def spool(tmp_path: Path) -> AsyncIterator[Spool]:
    spool = Spool(tmp_path / "spool.sqlite", "shop")
    await spool.start()
    yield spool
    await spool.stop()


def session(lang: str = "en") -> Session:
    return Session(id="0" * 32, kiosk="k1", lang=lang)


async def ask(desk: Desk, question: str, lang: str = "en", who: Session | None = None) -> str:
    who = who or session(lang)
    answer = desk.turns.understand(lang, question)
    async with desk.turns.take(who, question, answer, 0.0, "text") as reply:
        return reply.text


async def test_a_typed_question_is_recorded_before_the_reply_and_counted_after(
    spool: Spool,
) -> None:
    desk = Desk(spool, FakeNotify())
    who = session()
    answer = desk.turns.understand("en", "what are your hours")
    async with desk.turns.take(who, "what are your hours", answer, 0.0, "text") as reply:
        (row,) = await desk.rows("turns")  # on disk before the reply is sent
        assert row["id"] == reply.id and row["answer"] == reply.text == answer.text
        assert desk.turns.in_progress == 1 and desk.turns.served == 0
    assert desk.turns.in_progress == 0 and desk.turns.served == 1
    assert reply.notice is None and desk.notify.asked == []
    assert who.turns == 1 and list(who.history) == [
        {"question": "what are your hours", "answer": reply.text}
    ]
    assert desk.metric("laundrybot_turns_total", intent=answer.intent, source=answer.source) == 1
    assert desk.metric("laundrybot_turn_latency_seconds_count", mode="text") == 1


async def test_an_escalation_goes_to_the_spool_and_the_staff_and_says_so(spool: Spool) -> None:
    desk = Desk(spool, FakeNotify("accepted"))
    answer = desk.turns.understand("en", "dryer 12 took my money")
    async with desk.turns.take(session(), "dryer 12 took my money", answer, 0.0, "text") as reply:
        pass
    assert reply.notice is StaffNotice.ACCEPTED
    assert reply.text.startswith("Sorry about that with dryer 12;")
    assert "I've messaged the staff; someone usually answers within 15 minutes." in reply.text
    assert PHONE not in reply.text and PHONE in answer.text
    (event,) = await desk.rows("events")
    assert desk.notify.asked == [event["id"]]
    assert event["kind"] == "escalation" and event["machine"] == 12
    (turn,) = await desk.rows("turns")
    assert turn["answer"] == reply.text and f'"turn": "{turn["id"]}"' in str(event["detail"])
    assert desk.metric("laundrybot_escalation_answers_total", result="accepted") == 1
    assert desk.metric("laundrybot_escalations_total", kind="money-taken") == 1


@pytest.mark.parametrize(
    ("result", "notice", "told"),
    [
        ("already", StaffNotice.ALREADY, "The staff have already been messaged about this;"),
        ("pending", StaffNotice.NOT_IN_TIME, PHONE),
        ("unreachable", StaffNotice.NOT_IN_TIME, PHONE),
        ("error", StaffNotice.NOT_IN_TIME, PHONE),
        ("no-channels", StaffNotice.NO_CHANNEL, PHONE),
    ],
)
async def test_each_notify_outcome_is_said_as_it_is(
    spool: Spool, result: str, notice: StaffNotice, told: str
) -> None:
    assert notice_of(result) is notice
    desk = Desk(spool, FakeNotify(result))
    answer = desk.turns.understand("en", "call staff")
    async with desk.turns.take(session(), "call staff", answer, 0.0, "text") as reply:
        pass
    assert reply.notice is notice and told in reply.text
    if notice is not StaffNotice.ALREADY:
        assert reply.text == answer.text  # the dialogue's own words: recorded, and the phone
    assert desk.metric("laundrybot_escalation_answers_total", result=result) == 1


async def test_an_escalation_the_spool_cannot_take_is_not_sent(tmp_path: Path) -> None:
    desk = Desk(Spool(tmp_path / "never-started.sqlite", "shop"), FakeNotify())
    answer = desk.turns.understand("en", "washer 5 is broken")
    async with desk.turns.take(session(), "washer 5 is broken", answer, 0.0, "text") as reply:
        pass
    assert reply.notice is StaffNotice.UNRECORDED and reply.text == answer.text
    assert desk.notify.asked == [] and desk.turns.served == 1
    assert desk.metric("laundrybot_escalation_answers_total", result="unrecorded") == 1


async def test_korean_and_no_answer_time(spool: Spool) -> None:
    desk = Desk(spool, FakeNotify("accepted"), minutes=0)
    text = await ask(desk, "직원 불러 주세요", "ko")
    assert text.startswith("직원에게 메시지를 보냈어요. 최대한 빨리 답이 올 거예요.")


async def test_a_reply_that_was_not_sent_is_recorded_but_not_served(spool: Spool) -> None:
    desk = Desk(spool, FakeNotify())
    answer = desk.turns.understand("en", "how much is a wash")
    with pytest.raises(ConnectionError):
        async with desk.turns.take(session(), "how much is a wash", answer, 0.0, "text"):
            raise ConnectionError("the kiosk left")
    assert len(await desk.rows("turns")) == 1
    assert desk.turns.served == 0 and desk.turns.in_progress == 0


async def test_a_stopping_gateway_takes_no_new_turn_but_finishes_the_one_in_progress(
    spool: Spool,
) -> None:
    desk = Desk(spool, FakeNotify())
    answer = desk.turns.understand("en", "how much is a wash")
    await desk.turns.finished()  # idle: returns at once
    release = asyncio.Event()

    async def slow_turn() -> None:
        async with desk.turns.take(session(), "how much is a wash", answer, 0.0, "text"):
            await release.wait()

    task = asyncio.create_task(slow_turn())
    while desk.turns.in_progress == 0:
        await asyncio.sleep(0.01)
    desk.turns.stop_taking()
    with pytest.raises(Stopping):
        async with desk.turns.take(session(), "again", answer, 0.0, "text"):
            pass
    waiting = asyncio.create_task(desk.turns.finished())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    release.set()
    await asyncio.wait_for(waiting, 5)
    await task
    assert desk.turns.served == 1 and len(await desk.rows("turns")) == 1


def test_of_two_transcripts_the_better_understood_is_kept(tmp_path: Path) -> None:
    desk = Desk(Spool(tmp_path / "s.sqlite", "shop"), FakeNotify())
    assert desk.turns.hear("en", "", "") is None
    question, answer = desk.turns.hear("en", "how much is a wash", "hum much is a wish")  # type: ignore[misc]
    assert question == "how much is a wash" and answer.intent == "prices"
    question, _ = desk.turns.hear("en", "", "what are your hours")  # type: ignore[misc]
    assert question == "what are your hours"
    assert desk.metric("laundrybot_voice_turns_total", transcript="grammar") == 1
    assert desk.metric("laundrybot_voice_turns_total", transcript="free") == 1


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("en", "call staff"),
        ("en", "dryer 12 took my money"),
        ("en", "washer 5 is leaking"),
        ("en", "dryer 12 is broken"),
        ("ko", "직원 불러 주세요"),
        ("ko", "세탁기 삼 번이 동전을 먹었어요"),
        ("ko", "12번 건조기가 고장 났어요"),
    ],
)
def test_an_escalation_answer_is_rendered_from_its_parts(lang: str, question: str) -> None:
    dialog = DIALOGS[lang]
    answer = dialog.answer(question, {}, NOON)
    report = answer.report
    assert report is not None and report.kind == answer.escalation
    assert answer.text.startswith(report.before) and answer.text.endswith(report.after)
    for notice in (StaffNotice.NOT_IN_TIME, StaffNotice.NO_CHANNEL, StaffNotice.UNRECORDED):
        assert dialog.told(answer, notice, 15) == answer.text
    for notice in (StaffNotice.ACCEPTED, StaffNotice.ALREADY):
        told = dialog.told(answer, notice, 15)
        assert told.startswith(report.before) and told.endswith(report.after)
        assert report.phone not in told and "15" in told
    # Not an escalation: as the dialogue said it.
    prices = dialog.answer("how much is a wash" if lang == "en" else "세탁 얼마예요", {}, NOON)
    assert prices.report is None
    assert dialog.told(prices, StaffNotice.ACCEPTED, 15) == prices.text
