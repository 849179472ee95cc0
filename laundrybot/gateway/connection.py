"""One kiosk connection: hello, then typed and spoken questions, answers and spoken replies.

The receive loop never waits for recognition or synthesis: a spoken question is finished and
a reply is spoken in tasks of their own, so ``interrupt`` (barge-in) is read at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from laundrybot.asr.client import AsrError
from laundrybot.config import GatewayConfig, GatewayLimits
from laundrybot.dialog.engine import Answer
from laundrybot.gateway import protocol
from laundrybot.gateway.endofspeech import EndpointSettings, Event
from laundrybot.gateway.link import LinkStats
from laundrybot.gateway.protocol import ProtocolError
from laundrybot.gateway.session import Session, SessionStore
from laundrybot.gateway.sessionshelf import SessionShelf
from laundrybot.gateway.tokens import Tokens
from laundrybot.gateway.turns import Stopping, Turns
from laundrybot.gateway.voice import Heard, Utterance, VoiceLinks
from laundrybot.metrics import GatewayMetrics
from laundrybot.ratelimit import TokenBucket
from laundrybot.store.spool import Event as SpoolEvent
from laundrybot.tts.client import AudioFormat, TtsError

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_TRY_AGAIN = 1013
# Audio frames that arrive this long after an utterance ended are the kiosk catching up.
LATE_AUDIO_GRACE = 3.0
ENDED = (Event.END_OF_SPEECH, Event.MAX_LENGTH, Event.NO_SPEECH)


class Gateway(Protocol):
    """What a kiosk connection uses of the gateway (GatewayService has it)."""

    @property
    def settings(self) -> GatewayConfig: ...  # as last reloaded
    @property
    def turns(self) -> Turns: ...
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def shelf(self) -> SessionShelf | None: ...
    @property
    def voice(self) -> VoiceLinks: ...
    @property
    def metrics(self) -> GatewayMetrics: ...
    @property
    def links(self) -> LinkStats: ...
    @property
    def languages(self) -> list[str]: ...
    def choose_lang(self, wanted: str | None) -> str: ...
    def admit(self, kiosk: KioskConnection) -> bool: ...
    @property
    def tokens(self) -> Tokens: ...
    def kiosk_status(self, lang: str) -> str: ...


class KioskConnection:
    def __init__(self, gateway: Gateway, ws: ServerConnection) -> None:
        self.gateway = gateway
        self.ws = ws
        limits = gateway.settings.limits
        self.bucket = TokenBucket(limits.messages_per_second, limits.message_burst)
        self.session: Session | None = None
        self._last_rate_error = 0.0
        self.utterance: Utterance | None = None
        self._audio_ended_at = 0.0
        self._finishing: asyncio.Task[None] | None = None
        self._speaking: asyncio.Task[None] | None = None
        # The last status message this kiosk was sent; pushes go out only when it changes.
        self.last_status = ""
        # The kiosk's label in the network-quality metrics, once it said hello.
        self.link_label: str | None = None
        # Spoken replies wanted (hello {audio}); without them nothing is synthesised.
        self.audio = True

    @property
    def limits(self) -> GatewayLimits:
        return self.gateway.settings.limits

    @property
    def lang(self) -> str:
        return self.session.lang if self.session else self.gateway.choose_lang(None)

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
            await self._cleanup()

    async def _cleanup(self) -> None:
        await self._stop_speaking()
        if self.utterance is not None:
            await self.utterance.abort()
            self.utterance = None
        if self._finishing is not None:
            # A spoken question in progress is still answered and recorded (within a bound).
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._finishing), 10)
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
        gateway = self.gateway
        if not gateway.tokens.allows(hello.kiosk, hello.token):
            await self._error(protocol.UNAUTHORIZED, "this kiosk is not allowed to connect")
            await self.ws.close(CLOSE_POLICY, "unauthorized")
            return False
        if not gateway.admit(self):
            await self.ws.close(CLOSE_TRY_AGAIN, "too many kiosks connected, try again later")
            return False
        lang = gateway.choose_lang(hello.lang)
        store = gateway.sessions
        session = None
        if hello.resume and hello.resume_token:
            session = store.resume(hello.resume, hello.kiosk, hello.resume_token)
            if session is None and gateway.shelf is not None:
                # Left on another peer (or moved on there since this one last saw it).
                session = await gateway.shelf.take(hello.resume, hello.kiosk, hello.resume_token)
        resumed = session is not None
        if session is None:
            session = store.new(hello.kiosk, lang)
        else:
            session.lang = lang if hello.lang else session.lang
            gateway.metrics.sessions_resumed.inc()
        self.session = session
        self.audio = hello.audio
        if self.link_label is None:
            self.link_label = gateway.links.opened(hello.kiosk)
        label = self.link_label
        gateway.links.client(label, hello.client)
        if hello.resume:
            gateway.metrics.kiosk_reconnects.labels(label).inc()
        if resumed:
            gateway.metrics.kiosk_resumed.labels(label).inc()
        if hello.offline_ms is not None:
            gateway.metrics.kiosk_offline.labels(label).inc(hello.offline_ms / 1000)
        dialog = gateway.turns.dialog(session.lang)
        await self.ws.send(
            protocol.encode(
                "welcome",
                session=session.id,
                # The secret a reconnect needs (the session id alone is not enough: it is in
                # the records); a new one each welcome, kept here only as a digest.
                resume_token=store.new_resume_token(session),
                resumed=resumed,
                protocol=protocol.PROTOCOL_VERSION,
                lang=session.lang,
                languages=gateway.languages,
                history=list(session.history) if resumed else [],
                quick_questions=list(dialog.quick_questions),
            )
        )
        self.last_status = gateway.kiosk_status(session.lang)
        await self.ws.send(self.last_status)
        if hello.offline_ms is not None:
            # How long the kiosk was cut off, as it measured it: the owner's view of the link.
            event = SpoolEvent(
                kind="kiosk-reconnected",
                kiosk=session.kiosk,
                session=session.id,
                detail={"offline_ms": hello.offline_ms, "resumed": resumed},
            )
            await gateway.turns.note(event)
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
            if isinstance(frame, bytes):
                if self.utterance is not None:
                    await self._audio(frame)  # paced by the speech itself, not the bucket
                elif time.monotonic() - self._audio_ended_at <= LATE_AUDIO_GRACE:
                    pass  # the microphone catching up after the end of speech: dropped freely
                elif not self.bucket.take():
                    await self._rate_limited()
                else:
                    await self._error(protocol.BAD_MESSAGE, "audio frames need audio-start first")
                continue
            if not self.bucket.take():
                await self._rate_limited()
                continue
            message = await self._parse(frame)
            if message is not None:
                await self._dispatch(message)

    async def _dispatch(self, message: protocol.ClientMessage) -> None:
        if isinstance(message, protocol.Text):
            await self._stop_speaking()
            started = time.monotonic()
            state = self.session.dialogue if self.session else None
            answer = self.gateway.turns.understand(self.lang, message.text, state)
            await self._reply(message.text, answer, started, mode="text")
        elif isinstance(message, protocol.Ping):
            await self.ws.send(protocol.encode("pong", id=message.id))
        elif isinstance(message, protocol.Hello):
            await self._error(protocol.BAD_MESSAGE, "hello was already received")
        elif isinstance(message, protocol.AudioStart):
            await self._start_listening(message.rate)
        elif isinstance(message, protocol.AudioStop):
            self._end_listening(Event.STOPPED)
        elif isinstance(message, protocol.Interrupt):
            await self._stop_speaking()

    # -- answering -------------------------------------------------------------------------

    async def _reply(self, question: str, answer: Answer, started: float, mode: str) -> None:
        """Have the turn recorded, then send the reply, then speak it (in the background)."""
        session = self.session
        assert session is not None
        turns = self.gateway.turns
        try:
            async with turns.take(session, question, answer, started, mode) as reply:
                await self.ws.send(
                    protocol.encode(
                        "reply",
                        turn=reply.id,
                        text=reply.text,
                        expression=answer.expression,
                        intent=answer.intent,
                        source=answer.source,
                    )
                )
        except Stopping:
            await self._error(protocol.NOT_READY, "the attendant is restarting; ask again soon")
            return
        if self.audio and self.gateway.voice.can_speak(session.lang):
            self._speaking = asyncio.create_task(
                self._speak(reply.id, reply.text, session.lang, started), name="speak"
            )

    # -- speaking ----------------------------------------------------------------------------

    async def _speak(self, turn: str, text: str, lang: str, started: float) -> None:
        gateway = self.gateway
        began = False
        try:
            async with gateway.voice.tts.synthesize(text, voice=lang) as speech:
                async for item in speech:
                    if isinstance(item, AudioFormat):
                        await self.ws.send(
                            protocol.encode(
                                "audio-start",
                                turn=turn,
                                rate=item.rate,
                                width=item.width,
                                channels=item.channels,
                            )
                        )
                        began = True
                        continue
                    await self.ws.send(item)
                    if started:
                        gateway.metrics.first_audio.observe(time.monotonic() - started)
                        started = 0.0
        except asyncio.CancelledError:
            if began:
                with contextlib.suppress(ConnectionClosed):
                    await self.ws.send(protocol.encode("audio-stop", turn=turn, interrupted=True))
            raise
        except ConnectionClosed:
            pass  # the kiosk left mid-reply
        except TtsError as exc:
            log.warning("spoken reply failed: %s", exc)
            gateway.voice.tts_failed()
            if began:
                await self.ws.send(protocol.encode("audio-stop", turn=turn, error=exc.code))
        else:
            if began:
                await self.ws.send(protocol.encode("audio-stop", turn=turn))

    async def _stop_speaking(self) -> None:
        task, self._speaking = self._speaking, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- listening ---------------------------------------------------------------------------

    async def _start_listening(self, rate: int) -> None:
        gateway = self.gateway
        await self._stop_speaking()  # the customer talking over the reply: barge-in
        if self.utterance is not None or (self._finishing and not self._finishing.done()):
            await self._error(protocol.BAD_MESSAGE, "already listening; send audio-stop first")
            return
        if not gateway.voice.can_listen(self.lang):
            await self._error(protocol.NOT_READY, "voice input is not available; please type")
            return
        voice = gateway.settings.voice
        settings = EndpointSettings(
            silence_ms=voice.silence_ms,
            max_utterance_ms=int(voice.max_utterance_seconds * 1000),
            no_speech_ms=int(voice.no_speech_seconds * 1000),
        )
        phrases = gateway.turns.dialog(self.lang).phrases if voice.grammar else ()
        utterance = Utterance(
            gateway.voice.asr,
            self.lang,
            rate,
            phrases,
            settings,
            voice.highpass_hz,
            self._partial,
        )
        try:
            await utterance.open()
        except AsrError as exc:
            log.warning("cannot start recognition: %s", exc)
            gateway.voice.asr_failed()
            await utterance.abort()
            await self._error(protocol.NOT_READY, "voice input is not available; please type")
            return
        self.utterance = utterance

    async def _audio(self, pcm: bytes) -> None:
        utterance = self.utterance
        assert utterance is not None
        event = utterance.feed(pcm)
        if event in ENDED:
            self._end_listening(event)

    def _end_listening(self, why: Event) -> None:
        utterance, self.utterance = self.utterance, None
        if utterance is None:
            return
        self._audio_ended_at = time.monotonic()
        self._finishing = asyncio.create_task(self._finish(utterance, why), name="finish")

    async def _partial(self, text: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(protocol.encode("transcript", text=text, final=False))

    async def _finish(self, utterance: Utterance, why: Event) -> None:
        try:
            await self._answer_spoken(utterance, why)
        except ConnectionClosed:
            pass  # the kiosk left; a question already answered is recorded
        except Exception:
            log.exception("answering a spoken question failed")
            await self._record_error("internal", "answering a spoken question failed")

    async def _answer_spoken(self, utterance: Utterance, why: Event) -> None:
        gateway = self.gateway
        try:
            heard: Heard = await utterance.finish(why)
        except AsrError as exc:
            log.warning("recognition failed: %s", exc)
            gateway.voice.asr_failed()
            await utterance.abort()
            with contextlib.suppress(ConnectionClosed):
                await self._error(protocol.NOT_READY, "voice input stopped working; please type")
            return
        # Two transcripts, grammar first: the one the dialogue understands better is kept.
        state = self.session.dialogue if self.session else None
        understood = gateway.turns.hear(self.lang, heard.grammar, heard.free, state)
        if understood is None:
            await self.ws.send(protocol.encode("transcript", text="", final=True, why=why.value))
            return
        question, answer = understood
        await self.ws.send(protocol.encode("transcript", text=question, final=True, why=why.value))
        await self._reply(question, answer, heard.speech_ended, mode="voice")

    # -- errors -------------------------------------------------------------------------------

    async def _parse(self, frame: str | bytes) -> protocol.ClientMessage | None:
        if isinstance(frame, bytes):
            await self._error(protocol.BAD_MESSAGE, "audio frames need audio-start first")
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
        event = SpoolEvent(
            kind="error",
            kiosk=session.kiosk if session else "",
            session=session.id if session else "",
            detail={"code": code, "message": message},
        )
        await self.gateway.turns.note(event)


def _loop_time(deadline_monotonic: float) -> float:
    """asyncio.timeout_at wants the loop's clock; convert a time.monotonic() deadline."""
    loop = asyncio.get_running_loop()
    return loop.time() + (deadline_monotonic - time.monotonic())
