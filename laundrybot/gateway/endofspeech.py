"""Cleaning up kiosk audio and deciding when the customer has finished speaking.

Washers and dryers rumble and hum mostly below 150 Hz, so a high-pass filter goes first. The
speech detector then compares each frame's energy with the room's noise floor, taken as the
quietest moment of the last two seconds (speech always has gaps between syllables; a spinning
dryer does not), so "speech" means "clearly louder than the room right now", not a fixed
threshold, and a machine starting or stopping is followed within seconds. The utterance ends
after a configurable silence following speech, or at a maximum length; Vosk's own endpointing
is slower (about a second) and is not waited for.
"""

from __future__ import annotations

import array
import collections
import enum
import math
import sys
from dataclasses import dataclass


class _Biquad:
    """One second-order high-pass section (RBJ cookbook, bilinear transform)."""

    def __init__(self, rate: int, cutoff_hz: float, q: float) -> None:
        w0 = 2 * math.pi * cutoff_hz / rate
        alpha = math.sin(w0) / (2 * q)
        cos_w0 = math.cos(w0)
        a0 = 1 + alpha
        self.b0 = (1 + cos_w0) / 2 / a0
        self.b1 = -(1 + cos_w0) / a0
        self.a1 = -2 * cos_w0 / a0
        self.a2 = (1 - alpha) / a0
        self.x1 = self.x2 = self.y1 = self.y2 = 0.0

    def run(self, samples: list[float]) -> list[float]:
        b0, b1, a1, a2 = self.b0, self.b1, self.a1, self.a2
        x1, x2, y1, y2 = self.x1, self.x2, self.y1, self.y2
        out = []
        for x in samples:
            y = b0 * (x + x2) + b1 * x1 - a1 * y1 - a2 * y2  # b2 == b0
            x2, x1, y2, y1 = x1, x, y1, y
            out.append(y)
        self.x1, self.x2, self.y1, self.y2 = x1, x2, y1, y2
        return out


class HighPass:
    """A 4th-order Butterworth high-pass on s16le mono PCM (two biquads), state across frames.

    About 30 dB down at 60 Hz mains hum with a 150 Hz cutoff, flat above 300 Hz. Pure Python:
    about 15 ms of CPU per second of audio, which is cheap next to recognition.
    """

    # Q of the two sections of a 4th-order Butterworth filter.
    QS = (0.5412, 1.3066)

    def __init__(self, rate: int, cutoff_hz: float = 150.0) -> None:
        self.sections = [_Biquad(rate, cutoff_hz, q) for q in self.QS]

    def process(self, pcm: bytes) -> bytes:
        samples = _samples(pcm)
        values: list[float] = list(map(float, samples))
        for section in self.sections:
            values = section.run(values)
        out = array.array(
            "h", (-32768 if y < -32768 else 32767 if y > 32767 else int(y) for y in values)
        )
        if sys.byteorder != "little":
            out.byteswap()
        return out.tobytes()


def _samples(pcm: bytes) -> array.array[int]:
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder != "little":
        samples.byteswap()
    return samples


def frame_dbfs(pcm: bytes) -> float:
    """Loudness of a frame in dB relative to full scale (-96 for silence)."""
    samples = _samples(pcm)
    if not samples:
        return -96.0
    mean_square = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(mean_square / 32768**2) if mean_square > 0 else -96.0


class Event(enum.Enum):
    NONE = "none"
    SPEECH_STARTED = "speech-started"
    END_OF_SPEECH = "end-of-speech"  # speech, then enough silence
    MAX_LENGTH = "max-length"  # the customer kept talking (or the room kept roaring)
    NO_SPEECH = "no-speech"  # nothing but the room for too long
    STOPPED = "audio-stop"  # the kiosk ended the utterance itself (audio-stop)


@dataclass
class EndpointSettings:
    silence_ms: int = 500  # silence after speech that ends the utterance
    max_utterance_ms: int = 12_000
    no_speech_ms: int = 6_000  # give up when nobody speaks at all
    margin_db: float = 6.0  # speech must be this much louder than the noise floor
    min_speech_dbfs: float = -50.0  # and at least this loud at all
    min_speech_ms: int = 120  # shorter bursts (a door, a thump) are not speech
    calibration_ms: int = 200  # the first frames teach the room's level; no speech yet
    floor_window_ms: int = 2000  # the noise floor is the quietest frame in this window


class EndpointDetector:
    """Feed filtered frames; it says when speech starts and when the utterance is over."""

    def __init__(self, rate: int, settings: EndpointSettings | None = None) -> None:
        self.rate = rate
        self.settings = settings or EndpointSettings()
        self.noise_floor = -96.0  # dBFS: the quietest recent frame
        self._levels: collections.deque[tuple[float, float]] = collections.deque()
        self.elapsed_ms = 0.0
        self.speech_ms = 0.0  # continuous loud time in the current burst
        self.heard_speech = False
        self.silence_ms = 0.0
        # The time of the end of the last speech frame, for end-of-speech latency figures.
        self.last_speech_end_ms = 0.0

    def feed(self, pcm: bytes) -> Event:
        ms = len(pcm) / 2 / self.rate * 1000
        self.elapsed_ms += ms
        level = frame_dbfs(pcm)
        s = self.settings
        self._levels.append((self.elapsed_ms, level))
        while self._levels[0][0] < self.elapsed_ms - s.floor_window_ms:
            self._levels.popleft()
        self.noise_floor = min(lvl for _, lvl in self._levels)
        if self.elapsed_ms <= s.calibration_ms:
            return Event.NONE  # still learning the room
        loud = level > max(self.noise_floor + s.margin_db, s.min_speech_dbfs)
        if loud:
            self.speech_ms += ms
            self.silence_ms = 0.0
            self.last_speech_end_ms = self.elapsed_ms
        else:
            self.speech_ms = 0.0
            self.silence_ms += ms
        event = Event.NONE
        if not self.heard_speech and self.speech_ms >= s.min_speech_ms:
            self.heard_speech = True
            event = Event.SPEECH_STARTED
        if self.heard_speech and self.silence_ms >= s.silence_ms:
            return Event.END_OF_SPEECH
        if self.elapsed_ms >= s.max_utterance_ms:
            return Event.MAX_LENGTH
        if not self.heard_speech and self.elapsed_ms >= s.no_speech_ms:
            return Event.NO_SPEECH
        return event
