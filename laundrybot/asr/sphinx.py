"""English recognition with pocketsphinx and the US-English model inside its wheel.

The same shape as the Vosk engine in ``laundrybot.asr.engine`` (``load``, ``languages``,
``find_lang``, ``grammar``, ``acquire``, ``release``, ``renew``, ``accept``, ``final``,
``close``; replies are Vosk-style dicts: ``{"partial": ...}`` / ``{"text": ..., "result":
[{"word", "start", "end", "conf"}]}``), so the ASR service can choose an engine per language.

- One ``Decoder`` per stream (a decoder is not thread-safe); finished streams hand it back to a
  small idle pool keyed by (lang, rate, grammar); each decoder loads its own copy of the
  acoustic model and the general LM (about 0.2 s CPU and ~40 MB; see bench/english_asr.py).
- A "grammar" (the client's ``phrase_list``) becomes a shop-biased n-gram model
  (``laundrybot.asr.shoplm``): with ``SphinxConfig.background_words`` > 0 the model keeps the
  most common English words possible at a low weight (open vocabulary); the shop LM is added to
  the decoder as a second search, next to the general LM, and activated per stream.
- ``SphinxConfig.dual``: decode with the shop LM *and* the general LM (two decoders, twice the
  CPU) and pick one hypothesis at the end (``pick``): the shop one unless the general one fits
  the audio clearly better.
- pocketsphinx gives no endpoint of its own: ``accept`` always says "no endpoint" and the
  gateway's end-of-speech detector decides (then ``final``).
- Only 16 kHz: the acoustic model is 16 kHz; other rates are refused (resample upstream).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pocketsphinx  # type: ignore[import-untyped]

from laundrybot.asr import shoplm
from laundrybot.asr.engine import AsrRequestError, StreamSettings

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2
RATE = 16000
FRAMES_PER_SECOND = 100  # pocketsphinx's default -frate
SHOP_SEARCH = "shop"
_SCORING_KEYS = ("ascore_per_frame", "search")


@dataclass(frozen=True)
class SphinxConfig:
    """Decoder settings. The defaults are pocketsphinx's, except where measured better."""

    lw: float = 6.5  # language weight (general LM); the shop LM uses shop_lw
    shop_lw: float = 6.5
    beam: float = 1e-48
    pbeam: float = 1e-48
    wbeam: float = 7e-29
    maxhmmpf: int = 30000
    fwdflat: bool = True
    bestpath: bool = True
    order: int = 3
    background_words: int = 0  # common English words kept possible in the shop LM
    background_weight: float = 0.3
    dual: bool = False  # also decode with the general LM and pick
    pick_margin: float = 15.0  # general wins only if its acoustic score/frame is this much better
    threads: int = 2
    idle_decoders: int = 2
    recycle_after_seconds: float = 1800.0
    recycle_after_age: float = 6 * 3600.0

    def decoder_kwargs(self) -> dict[str, Any]:
        return {
            "lw": self.lw,
            "beam": self.beam,
            "pbeam": self.pbeam,
            "wbeam": self.wbeam,
            "maxhmmpf": self.maxhmmpf,
            "fwdflat": self.fwdflat,
            "bestpath": self.bestpath,
        }


@dataclass
class _Pass:
    """One decoder and its search inside a recognizer."""

    decoder: Any
    search: str  # "" = the decoder's default (general) LM
    in_utt: bool = False
    offset_frames: int = 0  # frames of earlier utterances in this stream, for word times


@dataclass
class SphinxRecognizer:
    settings_key: tuple[str, float, str]
    passes: list[_Pass]
    created: float = field(default_factory=time.monotonic)
    audio_seconds: float = 0.0
    words: bool = True

    def worn(self, config: SphinxConfig) -> bool:
        return (
            self.audio_seconds >= config.recycle_after_seconds
            or time.monotonic() - self.created >= config.recycle_after_age
        )


def model_path() -> Path:
    """The wheel's model folder (``en-us/`` acoustic model, dictionary, general LM)."""
    return Path(pocketsphinx.get_model_path())


class SphinxEngine:
    """pocketsphinx for one language (English); blocking calls belong in ``executor``."""

    def __init__(self, config: SphinxConfig | None = None, lang: str = "en") -> None:
        self.config = config or SphinxConfig()
        self.lang = lang
        self.executor = ThreadPoolExecutor(
            max_workers=self.config.threads, thread_name_prefix="sphinx"
        )
        self.dictionary: dict[str, list[str]] = {}
        self.background: dict[str, float] = {}
        self._lms: dict[str, tuple[Path, shoplm.ShopLm]] = {}
        self._idle: list[SphinxRecognizer] = []
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.created = 0
        self.recycled = 0

    # -- languages -----------------------------------------------------------------------------

    @property
    def languages(self) -> list[str]:
        return [self.lang] if self.dictionary else []

    def default_lang(self) -> str:
        return self.lang

    def find_lang(self, lang: str) -> str | None:
        if not lang or lang == self.lang or lang.partition("-")[0] == self.lang:
            return self.lang if self.dictionary else None
        return None

    # -- loading -------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the dictionary; warm one decoder (about 0.3 s)."""
        started = time.monotonic()
        root = model_path()
        self.dictionary = shoplm.read_dictionary(root / "en-us" / "cmudict-en-us.dict")
        self._tmp = tempfile.TemporaryDirectory(prefix="laundrybot-sphinx-")
        if self.config.background_words:
            self.background = self._common_words(self.config.background_words)
        if self.config.idle_decoders:
            self.release(self._new(StreamSettings(self.lang)))
        log.info("pocketsphinx en-us loaded in %.1f s", time.monotonic() - started)

    def _decoder(self, lw: float | None = None) -> Any:
        kwargs = self.config.decoder_kwargs()
        if lw is not None:
            kwargs["lw"] = lw
        return pocketsphinx.Decoder(samprate=RATE, loglevel="FATAL", **kwargs)

    def _common_words(self, count: int) -> dict[str, float]:
        """The ``count`` most likely dictionary words by the general LM's unigrams."""
        decoder = self._decoder()
        lm, logmath = decoder.get_lm(), decoder.logmath
        scored = []
        for word in self.dictionary:
            if (word.isalpha() and len(word) > 1) or word in ("a", "i"):
                scored.append((lm.prob([word]), word))
        scored.sort(reverse=True)
        return {w: logmath.exp(p) for p, w in scored[:count]}

    # -- grammars ------------------------------------------------------------------------------

    def grammar(self, lang: str, phrases: Sequence[str]) -> str:
        """The phrases as this engine's grammar key (JSON), and its shop LM built and cached."""
        kept = [p for p in (" ".join(shoplm.tokenize(p)) for p in phrases) if p]
        if not kept:
            raise AsrRequestError("no phrase in phrase_list has words this model knows")
        key = json.dumps(sorted(set(kept)))
        self.shop_lm(key)
        return key

    def shop_lm(self, key: str) -> tuple[Path, shoplm.ShopLm]:
        with self._lock:
            if key in self._lms:
                return self._lms[key]
        try:
            lm = shoplm.build(
                json.loads(key),
                self.dictionary,
                order=self.config.order,
                background=self.background or None,
                background_weight=self.config.background_weight,
            )
        except ValueError as exc:
            raise AsrRequestError(str(exc)) from None
        assert self._tmp is not None, "load() first"
        path = lm.write(Path(self._tmp.name) / f"shop-{len(self._lms)}.arpa")
        with self._lock:
            self._lms[key] = (path, lm)
        if lm.dropped:
            log.info("shop LM: no pronunciation for %s", ", ".join(lm.dropped))
        return path, lm

    # -- recognizers (blocking) ----------------------------------------------------------------

    def _new(self, settings: StreamSettings) -> SphinxRecognizer:
        if settings.sample_rate != RATE:
            raise AsrRequestError(f"this English model takes {RATE} Hz audio only")
        passes = []
        if settings.grammar:
            path, lm = self.shop_lm(settings.grammar)
            decoder = self._decoder(self.config.shop_lw)
            for word, phones in lm.pronunciations.items():
                decoder.add_word(word, phones, False)
            if lm.pronunciations:
                decoder.add_word(*next(iter(lm.pronunciations.items())), True)
            model = pocketsphinx.NGramModel(decoder.config, decoder.logmath, str(path))
            decoder.add_lm(SHOP_SEARCH, model)
            decoder.activate_search(SHOP_SEARCH)
            passes.append(_Pass(decoder, SHOP_SEARCH))
            if self.config.dual:
                passes.append(_Pass(self._decoder(), ""))
        else:
            passes.append(_Pass(self._decoder(), ""))
        self.created += len(passes)
        return SphinxRecognizer(settings.key, passes)

    def acquire(self, settings: StreamSettings) -> SphinxRecognizer:
        with self._lock:
            for i, rec in enumerate(self._idle):
                if rec.settings_key == settings.key:
                    del self._idle[i]
                    break
            else:
                rec = None
        if rec is None:
            rec = self._new(settings)
        rec.words = settings.words
        return rec

    def release(self, rec: SphinxRecognizer) -> None:
        if rec.worn(self.config) or self.config.idle_decoders == 0:
            return
        for p in rec.passes:
            if p.in_utt:
                p.decoder.end_utt()
                p.in_utt = False
            p.offset_frames = 0
        with self._lock:
            self._idle.append(rec)
            del self._idle[: -self.config.idle_decoders]

    def renew(self, rec: SphinxRecognizer, settings: StreamSettings) -> SphinxRecognizer:
        """At a pause: a fresh recognizer if ``rec`` has heard enough (bounds memory)."""
        if not rec.worn(self.config):
            return rec
        self.recycled += 1
        fresh = self._new(settings)
        fresh.words = settings.words
        return fresh

    def accept(self, rec: SphinxRecognizer, pcm: bytes, rate: float) -> tuple[dict[str, Any], bool]:
        """Feed audio; returns ({"partial": ...}, False): endpoints come from the gateway."""
        if rate != RATE:
            raise AsrRequestError(f"this English model takes {RATE} Hz audio only")
        rec.audio_seconds += len(pcm) / (SAMPLE_WIDTH * rate)
        for p in rec.passes:
            if not p.in_utt:
                p.decoder.start_utt()
                p.in_utt = True
            p.decoder.process_raw(pcm, False, False)
        hyp = rec.passes[0].decoder.hyp()
        return {"partial": hyp.hypstr if hyp is not None else ""}, False

    def final(self, rec: SphinxRecognizer) -> dict[str, Any]:
        """End the utterance: the result (Vosk's shape), and the stream may go on."""
        results = self.final_all(rec)
        if len(results) == 1:
            result = results[0]
        else:
            result = pick(results[0], results[1], self.config.pick_margin)
        return {k: v for k, v in result.items() if k not in _SCORING_KEYS}

    def final_all(self, rec: SphinxRecognizer) -> list[dict[str, Any]]:
        """End the utterance: one result per pass (shop first, then general), with their
        ``search`` name and ``ascore_per_frame`` (what ``pick`` compares)."""
        results = []
        for p in rec.passes:
            if p.in_utt:
                p.decoder.end_utt()
                p.in_utt = False
            results.append(_result(p, rec.words))
            p.offset_frames += p.decoder.n_frames()
        return results

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._idle.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _is_filler(word: str) -> bool:
    return word in ("<s>", "</s>", "<sil>") or word.startswith(("[", "+"))


def _result(p: _Pass, words: bool) -> dict[str, Any]:
    """The decoder's last hypothesis as a Vosk-style result, plus private scoring fields."""
    decoder = p.decoder
    hyp = decoder.hyp()
    text = hyp.hypstr if hyp is not None else ""
    segments = list(decoder.seg()) if hyp is not None else []
    frames = max(1, decoder.n_frames())
    result: dict[str, Any] = {
        "text": text,
        "ascore_per_frame": sum(s.ascore for s in segments) / frames,
        "search": p.search or "general",
    }
    if words:
        logmath = decoder.logmath
        result["result"] = [
            {
                "word": _base_word(s.word),
                "start": (p.offset_frames + s.start_frame) / FRAMES_PER_SECOND,
                "end": (p.offset_frames + s.end_frame + 1) / FRAMES_PER_SECOND,
                "conf": min(1.0, logmath.exp(s.prob)),
            }
            for s in segments
            if not _is_filler(s.word)
        ]
    return result


def _base_word(word: str) -> str:
    """ "read(2)" -> "read": alternative pronunciations are one word."""
    return word.split("(", 1)[0] if word.endswith(")") else word


def pick(shop: dict[str, Any], general: dict[str, Any], margin: float) -> dict[str, Any]:
    """The shop hypothesis unless the general one's acoustic score per frame beats it by
    more than ``margin`` (log units of pocketsphinx's logmath, base 1.0001), or it is empty."""
    if not shop.get("text"):
        return general
    if general.get("text") and (general["ascore_per_frame"] - shop["ascore_per_frame"] > margin):
        return general
    return shop
