"""Spoken accuracy straight through the recognition engines and the dialogue, faster than real
time: for tuning recognition settings (voice_turns.py is the real measurement, through the
units in real time).

Each question of a tuning set is spoken by the bench speakers (bench/speakers.py) over the
laundromat noise, high-pass filtered and cut by the gateway's own end-of-speech detector as
``voice.Utterance`` does, then recognised on the same two streams the gateway opens (the free
one and the one biased by the dialogue's phrases), and the transcript the dialogue understands
better is judged, as ``Turns.hear`` picks. Prints language x speaker x SNR -> answer right %
and, with --verbose, every transcript.

    .venv/bin/python bench/spoken_offline.py --langs en,ko --questions 30 --snrs clean,10
    .venv/bin/python bench/spoken_offline.py --sphinx shop_lw=8 --verbose   # a variant

Only tuning sets: the held-out questions are never spoken here. tuning2 (the default) is the
one whose sentences are not in the English LM (lang/en/talk.txt holds tuning sets 1, 3 and 4).
"""

from __future__ import annotations

import argparse
import datetime
import json
import pickle
import random
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.speakers import SPEAKERS, noisy  # noqa: E402
from bench.voice_turns import SNRS, right, single_questions, table_row  # noqa: E402
from laundrybot.asr import engines as asr_engines  # noqa: E402
from laundrybot.asr.engine import StreamSettings  # noqa: E402
from laundrybot.config import load_config  # noqa: E402
from laundrybot.dialog.engine import Dialog  # noqa: E402
from laundrybot.dialog.knowledge import load_knowledge_set  # noqa: E402
from laundrybot.gateway.endofspeech import EndpointDetector, EndpointSettings, Event, HighPass  # noqa: E402
from laundrybot.speechmodels import asr_models  # noqa: E402
from tests import audio  # noqa: E402

FRAME_SECONDS = 0.1
ENDED = (Event.END_OF_SPEECH, Event.MAX_LENGTH, Event.NO_SPEECH)


def cut(pcm: bytes, highpass_hz: float) -> list[bytes]:
    """The frames the gateway would send on: filtered, up to the detector's end of speech."""
    filt = HighPass(audio.RATE, highpass_hz) if highpass_hz > 0 else None
    detector = EndpointDetector(audio.RATE, EndpointSettings())
    out = []
    for frame in audio.frames(pcm, FRAME_SECONDS):
        if filt is not None:
            frame = filt.process(frame)
        event = detector.feed(frame)
        out.append(frame)
        if event in ENDED:
            break
    return out


def recognise(engine: Any, settings: StreamSettings, frames: list[bytes]) -> str:
    rec = engine.acquire(settings)
    parts = []
    try:
        for frame in frames:
            result, endpoint = engine.accept(rec, frame, audio.RATE)
            if endpoint and result.get("text"):
                parts.append(result["text"])
        parts.append(engine.final(rec).get("text", ""))
    finally:
        engine.release(rec)
    return " ".join(p for p in parts if p).strip()


def main(args: argparse.Namespace) -> None:
    config = load_config(None)
    overrides: dict[str, Any] = {}
    for item in args.sphinx:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    knowledge = load_knowledge_set(ROOT / "conf" / "knowledge.yaml")
    config = replace(config, knowledge=str(ROOT / "conf" / "knowledge.yaml"))
    refs = [r for r in asr_models(config) if r.lang in args.langs]
    engines = asr_engines.Engines(refs, config.asr)
    for engine in engines.sphinx.values():
        engine.config = replace(engine.config, **overrides)
    engines.load(asr_engines.shop_phrases(config))
    cache_path = Path(args.cache)
    cache: dict[tuple[str, str], bytes] = (
        pickle.loads(cache_path.read_bytes()) if cache_path.exists() else {}
    )
    now = datetime.datetime.now(datetime.UTC)
    rng = random.Random(7)
    rows = []
    cells: dict[tuple[str, str, str], list[bool]] = defaultdict(list)
    started = time.monotonic()
    for lang in args.langs:
        dialog = Dialog(knowledge[lang])
        engine = engines.engine(lang)
        free = StreamSettings(lang)
        grammar = StreamSettings(lang, grammar=engine.grammar(lang, list(dialog.phrases)))
        questions = single_questions(lang, args.questions_from)
        rng.shuffle(questions)
        questions = questions[args.skip : args.skip + args.questions]
        typed = [right(q, dialog.answer(q["say"], {}, now).text, lang) for q in questions]
        cells[(lang, "(typed, the ceiling)", "clean")] = typed
        speakers = [s for s in SPEAKERS[lang] if not args.speakers or s in args.speakers]
        for speaker in speakers:
            for q in questions:
                key = (speaker, q["say"])
                if key not in cache:
                    cache[key] = SPEAKERS[lang][speaker](q["say"])
            for snr in args.snrs:
                for i, q in enumerate(questions):
                    pcm, _ = noisy(cache[(speaker, q["say"])], SNRS[snr], seed=i)
                    frames = cut(pcm, args.highpass)
                    heard_free = recognise(engine, free, frames)
                    heard_grammar = recognise(engine, grammar, frames) if args.grammar else ""
                    candidates = [t for t in (heard_grammar, heard_free) if t]
                    answers = [dialog.answer(t, {}, now) for t in candidates]
                    best = max(range(len(answers)), key=lambda j: answers[j].confidence, default=-1)
                    reply = answers[best].text if best >= 0 else ""
                    ok = right(q, reply, lang)
                    cells[(lang, speaker, snr)].append(ok)
                    cells[(lang, "all speakers", snr)].append(ok)
                    row = {
                        "lang": lang,
                        "speaker": speaker,
                        "snr": snr,
                        "say": q["say"],
                        "free": heard_free,
                        "grammar": heard_grammar,
                        "picked": candidates[best] if best >= 0 else "",
                        "right": ok,
                    }
                    rows.append(row)
                    if args.verbose:
                        mark = "ok " if ok else "BAD"
                        print(
                            f"  {mark} {speaker:<20} {snr:>5} {q['say']!r}\n"
                            f"        free {heard_free!r}\n        gram {heard_grammar!r}",
                            flush=True,
                        )
    cache_path.write_bytes(pickle.dumps(cache))
    print(
        f"\nanswer right %, {args.questions_from} ({args.questions} questions from {args.skip}; "
        f"sphinx {', '.join(args.sphinx) or 'defaults'}; {time.monotonic() - started:.0f} s)"
    )
    print(f"  {'lang':<4} {'speaker':<22}" + "".join(f"{s:>8}" for s in args.snrs))
    for lang in args.langs:
        speakers = sorted(
            {k[1] for k in cells if k[0] == lang},
            key=lambda s: (s == "all speakers", not s.startswith("(")),
        )
        for speaker in speakers:
            print(table_row(lang, speaker, args.snrs, cells))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


def _list(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--questions-from", default="tuning2", choices=["tuning", "tuning2", "tuning3", "tuning4"]
    )
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--skip", type=int, default=0, help="start further into the shuffled set")
    parser.add_argument("--langs", type=_list, default=["en"])
    parser.add_argument("--speakers", type=_list, default=[])
    parser.add_argument("--snrs", type=_list, default=["clean", "10"])
    parser.add_argument("--sphinx", action="append", default=[], help="SphinxConfig KEY=VALUE")
    parser.add_argument("--highpass", type=float, default=150.0)
    parser.add_argument("--no-grammar", dest="grammar", action="store_false")
    parser.add_argument("--cache", default="/tmp/laundrybot-spoken-cache.pickle")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--verbose", action="store_true")
    main(parser.parse_args())
