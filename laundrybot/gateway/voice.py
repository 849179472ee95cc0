"""The gateway's side of voice: links to the ASR and TTS units, and one spoken question.

``VoiceLinks`` knows whether the units can be reached. Only its monitors change the
``voice-input`` / ``voice-output`` readiness: a failed stream just asks them to look again
at once, and they keep probing with backoff until the unit is back. The languages the ASR
unit hears come from the unit itself (its handshake names them; from a plain vosk-server, the
configuration's, by the same rule the unit uses), so voice input is per language: ``/readyz``
and ``laundrybot status`` show ``voice-input`` with the languages heard, and a kiosk (its
status, ``/kiosk.json``) has voice input exactly when its language is one of them.
``voice-input`` is down when the unit is unreachable or does not hear a language the
configuration gives it. Which languages have a voice comes from the configuration.

``Utterance`` is one spoken question: kiosk frames are high-pass filtered, watched by the
end-of-speech detector and streamed to two recognition streams at once, a free one and one
biased by a grammar of the shop's own phrases; at the end the dialogue picks whichever
transcript it understands with more confidence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from laundrybot.asr.client import AsrClient, AsrError, AsrStream
from laundrybot.config import Config
from laundrybot.gateway.endofspeech import EndpointDetector, EndpointSettings, Event, HighPass
from laundrybot.health import Readiness
from laundrybot.speechmodels import asr_models, tts_voices
from laundrybot.tts.client import TtsClient

log = logging.getLogger(__name__)

VOICE_INPUT = "voice-input"
VOICE_OUTPUT = "voice-output"

# Seconds between probes of a healthy unit, and the backoff range for an unreachable one.
PROBE_HEALTHY = 5.0
PROBE_MIN = 0.5
PROBE_MAX = 10.0


class _Monitor:
    """Probes one unit; sets one readiness entry; can be poked to look again at once."""

    def __init__(
        self,
        name: str,
        probe: Callable[[], Awaitable[tuple[bool, str] | None]],
        readiness: Readiness,
        what: str,
    ) -> None:
        self.name = name
        self.probe = probe
        self.readiness = readiness
        self.what = what
        self.ok = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.readiness.set(self.name, False, f"connecting to the {self.what}")
        self._task = asyncio.create_task(self._run(), name=f"monitor-{self.name}")

    def poke(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = PROBE_MIN
        while True:
            self._wake.clear()
            try:
                verdict = await self.probe()
            except Exception as exc:
                if self.ok:
                    log.warning("%s unreachable: %s", self.what, exc)
                self.ok = False
                self.readiness.set(self.name, False, f"{self.what} unreachable")
                wait = delay
                delay = min(delay * 2, PROBE_MAX)
            else:
                if not self.ok:
                    log.info("%s reachable", self.what)
                self.ok = True
                self.readiness.set(self.name, *(verdict or (True, "")))
                delay = PROBE_MIN
                wait = PROBE_HEALTHY
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)


class VoiceLinks:
    def __init__(self, config: Config, readiness: Readiness) -> None:
        voice = config.gateway.voice
        self.asr = AsrClient(config.asr_socket_path, timeout=voice.asr_timeout)
        self.tts = TtsClient(config.tts_socket_path, timeout=voice.tts_timeout)
        self.input_enabled = voice.input
        self.output_enabled = voice.output
        # The languages the configuration gives the ASR unit, and those it says it hears.
        self.asr_langs = (
            frozenset(ref.lang for ref in asr_models(config) if not ref.problems())
            if voice.input
            else frozenset()
        )
        self.heard: frozenset[str] = frozenset()
        self.tts_langs = (
            frozenset(ref.lang for ref in tts_voices(config)) if voice.output else frozenset()
        )
        self._monitors: list[_Monitor] = []
        if voice.input:
            self.input = _Monitor(
                VOICE_INPUT, self._probe_asr, readiness, "speech recognition unit"
            )
            self._monitors.append(self.input)
        if voice.output:
            self.output = _Monitor(
                VOICE_OUTPUT, self._probe_tts, readiness, "speech synthesis unit"
            )
            self._monitors.append(self.output)

    async def _probe_asr(self) -> tuple[bool, str]:
        """Reach the ASR unit; voice input is ok when it hears every configured language."""
        named = await self.asr.languages()
        self.heard = frozenset(named) if named is not None else self.asr_langs
        if not self.heard:
            return False, "the speech recognition unit hears no language (no model)"
        detail = "hears " + ", ".join(sorted(self.heard))
        missing = sorted(self.asr_langs - self.heard)
        if missing:
            return False, f"{detail}; not {', '.join(missing)}"
        return True, detail

    async def _probe_tts(self) -> tuple[bool, str]:
        """Reach the TTS unit; its detail says which languages have a voice and which heard
        ones are answered in text only (no Piper voice for them), as ``can_speak`` does."""
        await self.tts.check()
        if not self.tts_langs:
            return False, "no voice for any language"
        detail = "speaks " + ", ".join(sorted(self.tts_langs))
        silent = sorted(self.asr_langs - self.tts_langs)
        if silent:
            detail += f"; {', '.join(silent)} in text only"
        return True, detail

    def start(self) -> None:
        for monitor in self._monitors:
            monitor.start()

    async def stop(self) -> None:
        for monitor in self._monitors:
            await monitor.stop()

    def can_listen(self, lang: str) -> bool:
        """The ASR unit is reachable and hears ``lang`` (or its base language, "en" for
        "en-US"), as it said when last probed."""
        if not (self.input_enabled and self.input.ok):
            return False
        return lang in self.heard or lang.partition("-")[0] in self.heard

    def can_speak(self, lang: str) -> bool:
        return self.output_enabled and self.output.ok and lang in self.tts_langs

    def missing(self, lang: str) -> list[str]:
        """What a kiosk in ``lang`` cannot use right now, for its status message."""
        out = []
        if not self.can_listen(lang):
            out.append(VOICE_INPUT)
        if not self.can_speak(lang):
            out.append(VOICE_OUTPUT)
        return out

    def asr_failed(self) -> None:
        if self.input_enabled:
            self.input.poke()

    def tts_failed(self) -> None:
        if self.output_enabled:
            self.output.poke()


@dataclass(frozen=True)
class Heard:
    """What recognition made of one utterance."""

    free: str
    grammar: str
    # time.monotonic() when the customer stopped speaking (the detector's estimate).
    speech_ended: float


class Utterance:
    """One spoken question, from audio-start to the final transcripts."""

    def __init__(
        self,
        asr: AsrClient,
        lang: str,
        rate: int,
        phrases: Sequence[str],
        settings: EndpointSettings,
        highpass_hz: float,
        on_partial: Callable[[str], Awaitable[None]],
        max_queued_frames: int = 200,
    ) -> None:
        self.rate = rate
        self.filter = HighPass(rate, highpass_hz) if highpass_hz > 0 else None
        self.detector = EndpointDetector(rate, settings)
        self.free: AsrStream = asr.stream(lang=lang, sample_rate=rate)
        self.grammar: AsrStream | None = (
            asr.stream(lang=lang, sample_rate=rate, phrases=list(phrases)) if phrases else None
        )
        self.on_partial = on_partial
        # Bounded: if recognition falls far behind, the utterance ends instead of growing.
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue(max_queued_frames)
        self._streamer: asyncio.Task[None] | None = None
        self._started = time.monotonic()
        self.ended: Event | None = None
        self._last_partial = ""
        self._free_done: list[str] = []
        self._grammar_done: list[str] = []

    async def open(self) -> None:
        await self.free.open()
        if self.grammar is not None:
            await self.grammar.open()
        self._streamer = asyncio.create_task(self._stream(), name="asr-stream")

    def feed(self, pcm: bytes) -> Event:
        """Take one kiosk frame; returns the detector's verdict (cheap, on the event loop)."""
        if self.ended is not None:
            return self.ended
        if len(pcm) % 2:
            pcm = pcm[:-1]
        if self.filter is not None:
            pcm = self.filter.process(pcm)
        event = self.detector.feed(pcm)
        try:
            self._frames.put_nowait(pcm)
        except asyncio.QueueFull:
            event = Event.MAX_LENGTH
        if event in (Event.END_OF_SPEECH, Event.MAX_LENGTH, Event.NO_SPEECH):
            self.ended = event
        return event

    def speech_ended_at(self) -> float:
        """time.monotonic() of the end of the last speech frame (the detector's clock)."""
        return self._started + self.detector.last_speech_end_ms / 1000

    async def _stream(self) -> None:
        while True:
            pcm = await self._frames.get()
            if pcm is None:
                return
            sends = [self.free.send(pcm)]
            if self.grammar is not None:
                sends.append(self.grammar.send(pcm))
            results = await asyncio.gather(*sends)
            # Vosk may find an endpoint of its own mid-question (a pause): keep those parts.
            for done, result in zip((self._free_done, self._grammar_done), results, strict=False):
                if result.final and result.text:
                    done.append(result.text)
            free = results[0]
            shown = " ".join([*self._free_done, *([free.text] if not free.final else [])]).strip()
            if shown and shown != self._last_partial:
                self._last_partial = shown
                await self.on_partial(shown)

    async def finish(self, why: Event) -> Heard:
        """Wait for recognition to catch up, then take both final transcripts."""
        self.ended = self.ended or why
        await self._frames.put(None)
        assert self._streamer is not None
        await self._streamer
        finals = [self.free.finish()]
        if self.grammar is not None:
            finals.append(self.grammar.finish())
        results = await asyncio.gather(*finals)
        free = " ".join([*self._free_done, results[0].text]).strip()
        grammar = " ".join([*self._grammar_done, results[1].text]).strip() if self.grammar else ""
        return Heard(free, grammar, self.speech_ended_at())

    async def abort(self) -> None:
        if self._streamer is not None:
            self._streamer.cancel()
            await asyncio.gather(self._streamer, return_exceptions=True)
        for stream in (self.free, self.grammar):
            if stream is not None:
                with contextlib.suppress(AsrError, Exception):
                    await stream.aclose()
