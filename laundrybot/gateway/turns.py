"""Turns without a socket: a typed question or a transcript in, the answer to send out.

A turn leaves behind its spool rows (the turn, and an escalation event), a deliver-now request
to the notify unit for an escalation, and its metrics. A later turn that names the machine of
the session's open report ("its number 3" after "the washer took my money") adds an
``escalation-updated`` event (detail: the escalation's id and the machine), which the notify
unit sends the staff as a follow-up. The kiosk connection only carries the
result to the kiosk; everything here can be tested with no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from laundrybot.dialog.engine import Answer, Dialog
from laundrybot.dialog.state import DialogueState
from laundrybot.dialog.wording import StaffNotice
from laundrybot.gateway.session import FiledReport, Session
from laundrybot.machines.state import MachineStatus
from laundrybot.metrics import GatewayMetrics
from laundrybot.store.spool import Event, Spool, SpoolUnavailable, Turn, new_id

# Ask the notify unit to deliver an escalation (by event id) now: its answer, such as
# "accepted", "already", "pending", "unreachable" or "no-channels" (notify.client).
TellStaff = Callable[[str], Awaitable[str]]


class Stopping(Exception):
    """The gateway is stopping: it takes no new turns."""


@dataclass(frozen=True)
class Reply:
    id: str  # the turn's id in the spool
    question: str
    text: str  # what the customer is told: for an escalation, as the staff notice allows
    answer: Answer
    notice: StaffNotice | None = None  # for an escalation: what became of the staff message


def notice_of(result: str) -> StaffNotice:
    """The notify unit's answer as the customer may hear it: anything but a message the staff
    have or no channel at all (pending, unreachable, an error) is "not accepted in time"."""
    with contextlib.suppress(ValueError):
        notice = StaffNotice(result)
        if notice is not StaffNotice.UNRECORDED:
            return notice
    return StaffNotice.NOT_IN_TIME


class Turns:
    """Answers the questions of every kiosk and records them.

    What a reload or the machine refresh replaces (dialogues, machine status, the clock's
    time zone, notify.answer_minutes) is read through the callables at each turn.
    """

    def __init__(
        self,
        *,
        spool: Spool,
        metrics: GatewayMetrics,
        tell_staff: TellStaff,
        dialog: Callable[[str], Dialog],
        machines: Callable[[], Mapping[int, MachineStatus]],
        now: Callable[[], datetime.datetime],
        answer_minutes: Callable[[], int],
    ) -> None:
        self.spool = spool
        self.metrics = metrics
        self.tell_staff = tell_staff
        self.dialog = dialog
        self.machines = machines
        self.now = now
        self.answer_minutes = answer_minutes
        self.served = 0
        self.in_progress = 0
        self._taking = True
        self._idle = asyncio.Event()
        self._idle.set()
        # Deliver-now requests for report updates: the reply does not wait for them.
        self._updates: set[asyncio.Task[str]] = set()

    # -- understanding ------------------------------------------------------------------------

    def understand(self, lang: str, text: str, state: DialogueState | None = None) -> Answer:
        """``state``: the session's dialogue so far (Session.dialogue); None for a new one."""
        return self.dialog(lang).answer(text, self.machines(), self.now(), state)

    def hear(
        self, lang: str, grammar: str, free: str, state: DialogueState | None = None
    ) -> tuple[str, Answer] | None:
        """The better of an utterance's two transcripts (grammar first), with its answer;
        None when neither holds words."""
        candidates = [t for t in (grammar, free) if t]
        if not candidates:
            return None
        dialog, machines, now = self.dialog(lang), self.machines(), self.now()
        answers = [dialog.answer(text, machines, now, state) for text in candidates]
        best = max(range(len(answers)), key=lambda i: answers[i].confidence)
        self.metrics.voice_turns.labels("grammar" if grammar and best == 0 else "free").inc()
        return candidates[best], answers[best]

    # -- answering ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def take(
        self, session: Session, question: str, answer: Answer, started: float, mode: str
    ) -> AsyncIterator[Reply]:
        """Record the turn (and tell the staff of an escalation), then yield the reply to send.

        Raises Stopping once the gateway stops. The turn counts as in progress until the block
        ends (a graceful stop waits for it), and is counted as served only if the block ends
        without an error. ``started``: time.monotonic() when the question was complete.
        """
        if not self._taking:
            raise Stopping
        self.in_progress += 1
        self._idle.clear()
        try:
            reply = await self._answer(session, question, answer, started)
            yield reply
            self.served += 1
            self.metrics.turns.labels(answer.intent, answer.source).inc()
            self.metrics.turn_latency.labels(mode).observe(time.monotonic() - started)
            if answer.escalation:
                self.metrics.escalations.labels(answer.escalation).inc()
        finally:
            self.in_progress -= 1
            if self.in_progress == 0:
                self._idle.set()

    async def _answer(
        self, session: Session, question: str, answer: Answer, started: float
    ) -> Reply:
        turn_id = new_id()
        text = answer.text
        notice = None
        if answer.escalation:
            event = Event(
                kind="escalation",
                kiosk=session.kiosk,
                session=session.id,
                machine=answer.machine,
                detail={"reason": answer.escalation, "question": question, "turn": turn_id},
            )
            notice = await self._escalate(event)
            text = self.dialog(session.lang).told(answer, notice, self.answer_minutes())
            session.report = FiledReport(event.id, answer.escalation, answer.machine)
        elif answer.report_update is not None:
            # "its number 3" after "the washer took my money": the machine of the open
            # report, added to it (and the staff told), not a new report.
            await self._update_report(session, answer.report_update, question, turn_id)
        turn = Turn(
            session=session.id,
            kiosk=session.kiosk,
            lang=session.lang,
            question=question,
            answer=text,
            intent=answer.intent,
            source=answer.source,
            latency_ms=round((time.monotonic() - started) * 1000, 3),
            id=turn_id,
        )
        # Committed before the reply leaves: every answered question is on disk.
        await self.note(turn)
        session.turns += 1
        session.dialogue = answer.state
        session.remember(question, text)
        return Reply(turn_id, question, text, answer, notice)

    async def _escalate(self, event: Event) -> StaffNotice:
        """Record the escalation and have the notify unit send it now: what became of it.

        The notify unit keeps trying in the background whatever it answers in time: the spool
        is the truth.
        """
        try:
            await self.spool.record(event)
        except SpoolUnavailable:
            # Kept in memory until the disk is back: nobody can send it now.
            self.metrics.escalation_answers.labels(StaffNotice.UNRECORDED.value).inc()
            return StaffNotice.UNRECORDED
        result = await self.tell_staff(event.id)
        self.metrics.escalation_answers.labels(result).inc()
        return notice_of(result)

    async def _update_report(
        self, session: Session, machine: int, question: str, turn_id: str
    ) -> None:
        """Add ``machine`` to the session's open report: an event, and a word to the staff."""
        report = session.report
        if report is None or report.machine == machine:
            return  # no report to add it to (a new session), or it names that machine already
        event = Event(
            kind="escalation-updated",
            kiosk=session.kiosk,
            session=session.id,
            machine=machine,
            detail={
                "escalation": report.id,
                "machine": machine,
                "reason": report.kind,
                "question": question,  # retention removes it with the other events' words
                "turn": turn_id,
            },
        )
        try:
            await self.spool.record(event)
        except SpoolUnavailable:
            pass  # kept in memory, written after the report itself when the disk is back
        else:
            # The notify unit finds it in the spool within a second anyway: this only wakes
            # it, and the customer's reply does not wait for the staff's channel.
            task = asyncio.ensure_future(self.tell_staff(event.id))
            self._updates.add(task)
            task.add_done_callback(self._updates.discard)
        session.report = FiledReport(report.id, report.kind, machine)

    async def note(self, row: Turn | Event) -> None:
        """Record a row; a degraded spool said so itself, and the customer still gets served."""
        with contextlib.suppress(SpoolUnavailable):
            await self.spool.record(row)

    # -- stopping -----------------------------------------------------------------------------

    def stop_taking(self) -> None:
        self._taking = False

    async def finished(self) -> None:
        """Return once no turn is in progress."""
        await self._idle.wait()
