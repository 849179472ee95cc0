"""One kiosk connection: hello, then questions and answers, with every limit enforced."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from laundrybot.gateway import protocol
from laundrybot.gateway.protocol import ProtocolError
from laundrybot.gateway.session import Session
from laundrybot.store.spool import Event, SpoolUnavailable, Turn

if TYPE_CHECKING:
    from laundrybot.gateway.server import GatewayService

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008


class TokenBucket:
    """``rate`` messages a second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class KioskConnection:
    def __init__(self, gateway: GatewayService, ws: ServerConnection) -> None:
        self.gateway = gateway
        self.ws = ws
        limits = gateway.config.gateway.limits
        self.bucket = TokenBucket(limits.messages_per_second, limits.message_burst)
        self.session: Session | None = None
        self._last_rate_error = 0.0

    @property
    def limits(self):  # type: ignore[no-untyped-def]
        return self.gateway.config.gateway.limits

    async def run(self) -> None:
        try:
            if await self._greet():
                await self._serve()
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("kiosk connection failed")
            await self._record_error("internal", "unexpected error in a kiosk connection")
            await self.ws.close(1011, "internal error")
        finally:
            if self.session is not None:
                self.gateway.sessions.disconnected(self.session)

    # -- hello ------------------------------------------------------------------------------

    async def _greet(self) -> bool:
        """Wait for a valid hello; True once the kiosk is welcomed."""
        deadline = time.monotonic() + self.limits.hello_timeout
        while True:
            try:
                async with asyncio.timeout_at(_loop_time(deadline)):
                    frame = await self.ws.recv()
            except TimeoutError:
                await self._error(protocol.TIMEOUT, "no hello received in time")
                await self.ws.close(CLOSE_POLICY, "hello expected")
                return False
            if not self.bucket.take():
                await self._rate_limited()
                continue
            message = await self._parse(frame)
            if message is None:
                continue
            if not isinstance(message, protocol.Hello):
                await self._error(protocol.BAD_MESSAGE, "the first message must be hello")
                continue
            return await self._welcome(message)

    async def _welcome(self, hello: protocol.Hello) -> bool:
        tokens = self.gateway.config.gateway.tokens
        if tokens and not any(
            hmac.compare_digest((hello.token or "").encode(), t.encode()) for t in tokens
        ):
            await self._error(protocol.UNAUTHORIZED, "this kiosk is not allowed to connect")
            await self.ws.close(CLOSE_POLICY, "unauthorized")
            return False
        store = self.gateway.sessions
        session = store.resume(hello.resume, hello.kiosk) if hello.resume else None
        resumed = session is not None
        if session is None:
            session = store.new(hello.kiosk, hello.lang or "en")
        elif hello.lang:
            session.lang = hello.lang
        if resumed:
            self.gateway.metrics.sessions_resumed.inc()
        self.session = session
        await self.ws.send(
            protocol.encode(
                "welcome",
                session=session.id,
                resumed=resumed,
                protocol=protocol.PROTOCOL_VERSION,
                history=list(session.history) if resumed else [],
                quick_questions=list(self.gateway.brain.dialog.quick_questions)  # type: ignore[union-attr]
                if self.gateway.brain
                else [],
            )
        )
        await self.ws.send(self.gateway.kiosk_status())
        return True

    # -- the conversation ------------------------------------------------------------------

    async def _serve(self) -> None:
        assert self.session is not None
        while True:
            try:
                async with asyncio.timeout(self.limits.idle_timeout):
                    frame = await self.ws.recv()
            except TimeoutError:
                await self.ws.close(1000, "idle")
                return
            self.gateway.sessions.touch(self.session)
            if not self.bucket.take():
                await self._rate_limited()
                continue
            message = await self._parse(frame)
            if message is None:
                continue
            await self._dispatch(message)

    async def _dispatch(self, message: protocol.ClientMessage) -> None:
        if isinstance(message, protocol.Text):
            await self._answer(message.text)
        elif isinstance(message, protocol.Ping):
            await self.ws.send(protocol.encode("pong", id=message.id))
        elif isinstance(message, protocol.Hello):
            await self._error(protocol.BAD_MESSAGE, "hello was already received")
        elif isinstance(message, protocol.AudioStart):
            await self._error(protocol.NOT_READY, "voice input is not available; please type")
        elif isinstance(message, (protocol.AudioStop, protocol.Interrupt)):
            pass  # nothing is being recorded or played, so there is nothing to stop

    async def _answer(self, text: str) -> None:
        gateway = self.gateway
        session = self.session
        assert session is not None and gateway.brain is not None
        if gateway.stopping:
            await self._error(protocol.NOT_READY, "the attendant is restarting; ask again soon")
            return
        with gateway.turn():
            started = time.monotonic()
            answer = gateway.brain.dialog.answer(text, gateway.machines, gateway.now())
            turn = Turn(
                session=session.id,
                kiosk=session.kiosk,
                lang=session.lang,
                question=text,
                answer=answer.text,
                intent=answer.intent,
                source=answer.source,
                latency_ms=round((time.monotonic() - started) * 1000, 3),
            )
            rows: list[Turn | Event] = [turn]
            if answer.escalation:
                rows.append(
                    Event(
                        kind="escalation",
                        kiosk=session.kiosk,
                        session=session.id,
                        machine=answer.machine,
                        detail={"reason": answer.escalation, "question": text, "turn": turn.id},
                    )
                )
            try:
                # Committed before the reply leaves: every answered question is on disk.
                await gateway.spool.record(*rows)
            except SpoolUnavailable:
                pass  # the spool reported itself degraded; the customer still gets an answer
            session.turns += 1
            session.history.append({"question": text, "answer": answer.text})
            await self.ws.send(
                protocol.encode(
                    "reply",
                    turn=turn.id,
                    text=answer.text,
                    expression=answer.expression,
                    intent=answer.intent,
                    source=answer.source,
                )
            )
            gateway.turns_served += 1
            gateway.metrics.turns.labels(answer.intent, answer.source).inc()
            gateway.metrics.turn_latency.observe(time.monotonic() - started)
            if answer.escalation:
                gateway.metrics.escalations.labels(answer.escalation).inc()

    # -- errors -------------------------------------------------------------------------------

    async def _parse(self, frame: str | bytes) -> protocol.ClientMessage | None:
        if isinstance(frame, bytes):
            await self._error(
                protocol.NOT_READY, "voice input is not available; audio frames are ignored"
            )
            return None
        try:
            return protocol.parse(frame, self.limits.max_text_chars)
        except ProtocolError as exc:
            await self._error(exc.code, exc.message)
            return None

    async def _error(self, code: str, message: str) -> None:
        self.gateway.metrics.errors.labels(code).inc()
        await self.ws.send(protocol.error(code, message))

    async def _rate_limited(self) -> None:
        # One error a second at most: answering every flooded frame would be a flood too.
        self.gateway.metrics.errors.labels(protocol.RATE_LIMITED).inc()
        now = time.monotonic()
        if now - self._last_rate_error >= 1.0:
            self._last_rate_error = now
            await self.ws.send(
                protocol.error(protocol.RATE_LIMITED, "too many messages; slow down")
            )

    async def _record_error(self, code: str, message: str) -> None:
        session = self.session
        event = Event(
            kind="error",
            kiosk=session.kiosk if session else "",
            session=session.id if session else "",
            detail={"code": code, "message": message},
        )
        try:
            await self.gateway.spool.record(event)
        except SpoolUnavailable:
            pass


def _loop_time(deadline_monotonic: float) -> float:
    """asyncio.timeout_at wants the loop's clock; convert a time.monotonic() deadline."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline_monotonic - time.monotonic())
