"""The WebRTC noise suppression + gain wrapper used by the ASR unit."""

from __future__ import annotations

import numpy as np
import pytest

from laundrybot.asr.denoise import FRAME_BYTES, NoiseGain


def test_noise_gain_keeps_length_and_reduces_steady_noise() -> None:
    hiss = (np.random.default_rng(1).normal(0, 800, 16000 * 3)).astype(np.int16).tobytes()
    gain = NoiseGain(noise_suppression=3, auto_gain_dbfs=0)
    out = b""
    for i in range(0, len(hiss), 1000):  # 1000 bytes: not a multiple of 320
        out += gain.process(hiss[i : i + 1000])
    assert len(out) % FRAME_BYTES == 0
    out += gain.flush()
    assert len(out) == len(hiss) and gain.flush() == b""
    tail_in = np.frombuffer(hiss[-16000:], dtype=np.int16).astype(float)
    tail_out = np.frombuffer(out[-16000:], dtype=np.int16).astype(float)
    assert np.sqrt(np.mean(tail_out**2)) < 0.5 * np.sqrt(np.mean(tail_in**2))


def test_noise_gain_rejects_bad_levels() -> None:
    with pytest.raises(ValueError):
        NoiseGain(noise_suppression=5)
    with pytest.raises(ValueError):
        NoiseGain(auto_gain_dbfs=32)
