"""The high-pass filter and the noise-adaptive end-of-speech detector on synthetic audio."""

from __future__ import annotations

import array
import math
import random

from laundrybot.gateway.endofspeech import (
    EndpointDetector,
    EndpointSettings,
    Event,
    HighPass,
    frame_dbfs,
)

RATE = 16000
FRAME_MS = 20


def signal(ms: int, parts: list[tuple[float, float]], noise: float = 0.0, seed: int = 1) -> bytes:
    """Sum of sines (frequency, amplitude) plus white noise, as s16le."""
    rng = random.Random(seed)
    n = RATE * ms // 1000
    out = array.array("h")
    for i in range(n):
        value = sum(a * math.sin(2 * math.pi * f * i / RATE) for f, a in parts)
        value += rng.gauss(0, noise) if noise else 0
        out.append(max(-32768, min(32767, int(value))))
    return out.tobytes()


def voice(ms: int, seed: int = 2) -> bytes:
    """A crude voice: harmonics of 180 Hz with a syllable-rate loudness wobble."""
    raw = array.array("h")
    raw.frombytes(signal(ms, [(180 * k, 2500 / k) for k in range(1, 12)], seed=seed))
    for i in range(len(raw)):
        raw[i] = int(raw[i] * (0.6 + 0.4 * math.sin(2 * math.pi * 4 * i / RATE)))
    return raw.tobytes()


def mix(a: bytes, b: bytes) -> bytes:
    x, y = array.array("h"), array.array("h")
    x.frombytes(a)
    y.frombytes(b)
    return array.array(
        "h", (max(-32768, min(32767, p + q)) for p, q in zip(x, y, strict=True))
    ).tobytes()


def frames(pcm: bytes) -> list[bytes]:
    size = RATE * FRAME_MS // 1000 * 2
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def run(
    detector: EndpointDetector, pcm: bytes, hp: HighPass | None = None
) -> list[tuple[int, Event]]:
    events = []
    for n, frame in enumerate(frames(pcm)):
        event = detector.feed(hp.process(frame) if hp else frame)
        if event is not Event.NONE:
            events.append(((n + 1) * FRAME_MS, event))
            if event is not Event.SPEECH_STARTED:
                break
    return events


def test_high_pass_removes_hum_and_keeps_voice():
    hum = signal(1000, [(60, 8000), (120, 4000)])
    hp = HighPass(RATE)
    filtered = b"".join(hp.process(f) for f in frames(hum))
    assert frame_dbfs(filtered[RATE:]) < frame_dbfs(hum) - 12
    hp = HighPass(RATE)
    tone = signal(500, [(1000, 8000)])
    kept = b"".join(hp.process(f) for f in frames(tone))
    assert abs(frame_dbfs(kept[RATE // 2 :]) - frame_dbfs(tone)) < 1


def test_end_of_speech_after_the_configured_silence():
    room = signal(3000, [], noise=150)
    speech = room[: RATE * 2 * 500 // 1000] + mix(voice(1200), room[: RATE * 2 * 1200 // 1000])
    pcm = speech + room
    events = run(EndpointDetector(RATE, EndpointSettings(silence_ms=400)), pcm)
    assert events[0][1] is Event.SPEECH_STARTED
    ended_at, kind = events[-1]
    assert kind is Event.END_OF_SPEECH
    # Speech ended at 1700 ms; the detector should say so about 400 ms later.
    assert 1950 <= ended_at <= 2300, events


def test_a_loud_dryer_with_hum_is_not_speech_after_filtering():
    rumble = signal(8000, [(50, 9000), (100, 5000), (30, 6000)], noise=200)
    events = run(
        EndpointDetector(RATE, EndpointSettings(no_speech_ms=5000)), rumble, HighPass(RATE)
    )
    assert events == [(5000, Event.NO_SPEECH)]


def test_speech_over_a_noisy_room_is_found():
    room = signal(6000, [(50, 9000), (100, 5000)], noise=400, seed=5)
    talk = voice(1500)
    start = RATE * 2 * 2  # speech from 2 s to 3.5 s
    pcm = room[:start] + mix(talk, room[start : start + len(talk)]) + room[start + len(talk) :]
    events = run(EndpointDetector(RATE), pcm, HighPass(RATE))
    kinds = [e for _, e in events]
    assert kinds == [Event.SPEECH_STARTED, Event.END_OF_SPEECH], events
    assert 3500 < events[-1][0] < 4300


def test_max_length_stops_an_endless_utterance():
    settings = EndpointSettings(max_utterance_ms=2000)
    events = run(EndpointDetector(RATE, settings), voice(5000))
    assert events[-1] == (2000, Event.MAX_LENGTH)
