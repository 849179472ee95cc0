"""English recognition with pocketsphinx and the US-English model inside its package.

The same methods as the Vosk engine in ``laundrybot.asr.engine`` (``load``, ``languages``,
``find_lang``, ``grammar``, ``acquire``, ``release``, ``renew``, ``accept``, ``final``,
``close``; replies are Vosk-style dicts: ``{"partial": ...}`` / ``{"text": ..., "result":
[{"word", "start", "end", "conf"}]}``), so the ASR unit serves either behind the vosk-server
protocol and its clients see no difference.

- The search is a shop-biased n-gram model (``laundrybot.asr.shoplm``), never the general
  English one when there are shop phrases: measured on synthetic speakers, the shop LM alone
  had 25% word errors on clean audio where the general LM had 70% (10 dB SNR: 47% vs 93%),
  and decoding with both and picking added nothing but CPU. A stream with no ``phrase_list``
  gets the *default* shop LM, built from the knowledge file's phrases (``set_phrases``, again
  at every reload); a stream with a ``phrase_list`` gets one built from those phrases and the
  default ones.
- Each decoder loads the acoustic model with a dictionary holding only its LM's words (a few
  hundred lines): about 7 MB and 30-80 ms per decoder, against 45 MB and over a second with
  the 130k-word dictionary (measured). The general LM (27 MB) is loaded only when there are
  no shop phrases at all.
- Words the CMU dictionary lacks are derived from dictionary words (``shoplm.derive_
  pronunciation``: compounds such as "laundrybot", possessives such as "bubbles's"); a word
  that cannot be derived is left out of the LM and named in the log, so the owner can reword
  the knowledge file. There are no letter-to-sound rules in pocketsphinx's Python API, and the
  knowledge file keeps to the shop's facts: no pronunciations in it.
- One decoder per stream (a decoder is not thread-safe); finished streams hand it back to a
  small idle pool keyed by (lang, rate, grammar). Recognizers are replaced once worn (audio
  heard, age), at a pause, as the Vosk ones are; a reload's new default LM retires the old
  default decoders as their streams end.
- Endpoints as vosk-server gives them, for clients that stream on and on: pocketsphinx's own
  voice-activity ``Endpointer`` ends an utterance after about a second of non-speech
  (``endpoint_window``; Vosk takes about as long), or at ``max_utterance_seconds``. The
  gateway's own detector ends a question after 500 ms, so there it never fires.
- 16 kHz only: the acoustic model is 16 kHz; other rates are refused (resample upstream).
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

import numpy as np
import pocketsphinx

from laundrybot.asr import shoplm
from laundrybot.asr.engine import AsrRequestError, StreamSettings, _malloc_trim
from laundrybot.asr.pool import IdlePool

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2
RATE = 16000
FRAMES_PER_SECOND = 100  # pocketsphinx's default -frate
# Shop LMs kept built (the default one, and the last few phrase lists clients sent).
MAX_LMS = 8


@dataclass(frozen=True)
class SphinxConfig:
    """Decoder settings. The defaults are pocketsphinx's, except where measured better."""

    lw: float = 6.5  # language weight (general LM)
    shop_lw: float = 6.5  # language weight of the shop LMs
    beam: float = 1e-48
    pbeam: float = 1e-48
    wbeam: float = 7e-29
    maxhmmpf: int = 30000
    # Gaussians scored per frame (pocketsphinx: 4): 8 measured better on the bench speakers
    # (tuning2, one stream, 30 questions x 5 speakers x clean/10 dB: answer right 57.7% ->
    # 61.3%; 16: 60.0% for a quarter more CPU).
    topn: int = 8
    # A steady noise floor (RMS, in s16 units; about -60 dBFS) added to the audio before
    # decoding: near-digital silence (a browser's noise suppression, a quiet kiosk) between
    # and around words throws the acoustic model's noise and level tracking off, which cost
    # the first words of clean utterances ("can you" -> "do you"). Measured (one stream, 30
    # tuning2 questions x 5 speakers): clean 61% -> 65% right, word errors 42% -> 39%; no
    # change at 10 dB, where the room is louder than this. Shop LMs only: on the general LM
    # (no shop phrases) it turned "took" into "put" in 2 of 6 clean Piper clips of "the
    # dryer took my money" (none without). 0: off.
    noise_floor: float = 30.0
    # The second, flat-lexicon pass over the whole utterance: it runs at the end of speech
    # (about 35 ms per stream, on the reply's path) and measured no better (tuning2, 81
    # questions x 5 speakers, clean / 10 dB: 80.5 / 76% right with it and without it).
    fwdflat: bool = False
    # Vocal tract length normalisation: an utterance is decoded at each of these frequency
    # warps side by side (pocketsphinx's inverse-linear warp of the filterbank; 1.0 is none),
    # and the warp whose search scores best is the one heard, so a deep or a high voice is
    # heard the way the acoustic model was trained. Measured (tuning2, 81 questions x 5
    # speakers, clean / 10 dB): 80 / 75% right unwarped, 84 / 79% with these three; the
    # deepest speaker 59 / 46% -> 73 / 64%.
    warps: tuple[float, ...] = (1.0, 0.9, 1.1)
    # Seconds into an utterance after which the best-scoring warp is kept and the others stop
    # (they cost CPU while they search); 0: all search to the end.
    warp_decide_seconds: float = 2.0
    bestpath: bool = True
    order: int = 3
    endpoint_window: float = 1.0  # seconds of mostly non-speech that end an utterance
    max_utterance_seconds: float = 30.0
    threads: int = 1
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
            "topn": self.topn,
            "fwdflat": self.fwdflat,
            "bestpath": self.bestpath,
        }


@dataclass
class _Lm:
    arpa: Path
    dictionary: Path
    model: shoplm.ShopLm


@dataclass
class SphinxRecognizer:
    settings_key: tuple[str, float, str]
    # One decoder per warp (SphinxConfig.warps, the unwarped one first): those still in
    # ``live`` search the utterance; ``chosen`` is the one heard best so far.
    decoders: list[Any]
    generation: int
    created: float = field(default_factory=time.monotonic)
    audio_seconds: float = 0.0
    words: bool = True
    in_utt: bool = False
    offset_frames: int = 0  # frames of earlier utterances in this stream, for word times
    endpointer: Any = None
    pending: bytes = b""  # audio waiting for a whole endpointer frame
    utterance_seconds: float = 0.0
    # The noise floor's generator (seeded again for each stream: the same audio, the same
    # noise).
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    shop: bool = False  # it searches a shop LM (not the general one)
    live: list[int] = field(default_factory=list)
    chosen: int = 0

    @property
    def decoder(self) -> Any:
        return self.decoders[self.chosen]

    def start(self) -> None:
        for d in self.decoders:
            d.start_utt()
        self.live, self.chosen = list(range(len(self.decoders))), 0
        self.in_utt = True

    def feed(self, pcm: bytes) -> None:
        for i in self.live:
            self.decoders[i].process_raw(pcm, False, False)

    def decide(self) -> None:
        """Keep the warp whose search scores best now; the others stop."""
        if len(self.live) < 2:
            return
        scores = {i: h.score for i in self.live if (h := self.decoders[i].hyp()) is not None}
        if not scores:
            return  # nothing heard yet to weigh the warps by
        self.chosen = max(scores, key=lambda i: scores[i])
        for i in self.live:
            if i != self.chosen:
                self.decoders[i].end_utt()
        self.live = [self.chosen]

    def stop(self) -> None:
        """End the utterance in every decoder still searching it; the best is chosen."""
        for i in self.live:
            self.decoders[i].end_utt()
        scores = {i: h.score for i in self.live if (h := self.decoders[i].hyp()) is not None}
        if len(scores) > 1:
            self.chosen = max(scores, key=lambda i: scores[i])
        self.live, self.in_utt = [], False

    def free(self) -> None:
        self.decoders, self.endpointer, self.live = [], None, []

    def worn(self, config: SphinxConfig) -> bool:
        return (
            self.audio_seconds >= config.recycle_after_seconds
            or time.monotonic() - self.created >= config.recycle_after_age
        )


def _warped(warp: float) -> dict[str, Any]:
    """Decoder settings for a frequency warp (1.0: none)."""
    if warp == 1.0:
        return {}
    return {"warp_type": "inverse_linear", "warp_params": f"{warp:g}"}


def model_path() -> Path:
    """The package's model folder (``en-us/`` acoustic model, dictionary, general LM)."""
    return Path(pocketsphinx.get_model_path())


class SphinxEngine:
    """pocketsphinx for one language (English); blocking calls belong in ``executor``."""

    def __init__(
        self,
        config: SphinxConfig | None = None,
        lang: str = "en",
        executor: ThreadPoolExecutor | None = None,
        model: Path | None = None,
    ) -> None:
        self.config = config or SphinxConfig()
        self.lang = lang
        self.model = model or model_path()
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(
            max_workers=self.config.threads, thread_name_prefix="sphinx"
        )
        self.dictionary: dict[str, list[str]] = {}
        self._lms: dict[str, _Lm] = {}
        # The grammar key of the default search ("" = the general LM) and its generation.
        self.default_key = ""
        self.generation = 0
        self._idle: IdlePool[SphinxRecognizer] = IdlePool()
        self._lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._files = 0
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

    # -- loading (blocking) --------------------------------------------------------------------

    def load(self, phrases: Sequence[str] = ()) -> None:
        """Read the dictionary, build the default shop LM from ``phrases``, warm a decoder."""
        started = time.monotonic()
        self.dictionary = shoplm.read_dictionary(self.model / "en-us" / "cmudict-en-us.dict")
        self._tmp = tempfile.TemporaryDirectory(prefix="laundrybot-sphinx-")
        self.set_phrases(phrases)
        log.info(
            "pocketsphinx %s loaded in %.1f s (%s)",
            self.lang,
            time.monotonic() - started,
            self.describe(),
        )

    def describe(self) -> str:
        if not self.default_key:
            return "general English LM: no shop phrases"
        lm = self._lms[self.default_key].model
        return f"shop LM of {len(lm.sentences)} phrases, {len(lm.vocabulary)} words"

    def set_phrases(self, phrases: Sequence[str]) -> None:
        """Make the shop LM of ``phrases`` the default search (none: the general LM), and
        warm a decoder for it."""
        if self.use(self.prepare(phrases)) and self.config.idle_decoders:
            self.release(self._new(StreamSettings(self.lang)))

    def prepare(self, phrases: Sequence[str]) -> str:
        """Build the shop LM of ``phrases`` (the slow part of a reload); returns its key
        ("" for no phrases: the general LM). Words left out are logged."""
        key = self._key(phrases) if phrases else ""
        if key:
            lm = self._lm(key).model
            if lm.dropped:
                log.warning(
                    "shop LM: no pronunciation for %s (left out; reword them in the knowledge "
                    "file to make them heard)",
                    ", ".join(lm.dropped),
                )
        return key

    def use(self, key: str) -> bool:
        """Switch the default search to a prepared LM (cheap). Streams already running keep
        their decoder until they end; idle default decoders go now. True if it changed."""
        with self._lock:
            if key == self.default_key:
                return False
            self.default_key = key
            self.generation += 1
            self._idle.keep_only(lambda rec: bool(rec.settings_key[2]))
        return True

    def _key(self, phrases: Sequence[str]) -> str:
        kept = sorted({" ".join(shoplm.tokenize(p)) for p in phrases} - {""})
        if not kept:
            raise AsrRequestError("no phrase in phrase_list has words this model knows")
        return json.dumps(kept)

    # -- grammars ------------------------------------------------------------------------------

    def grammar(self, lang: str, phrases: Sequence[str]) -> str:
        """The phrases, with the default shop LM's, as this engine's grammar key (JSON), with
        its shop LM built.

        The default phrases go in too: the gateway's phrase list (the dialogue's example
        phrases) and the knowledge file's phrases say different things, and one LM of both
        heard more of the tuning2 questions right than either alone (one stream, 30 questions
        x 5 speakers x clean/10 dB: 57.7% vs 55.0% with the phrase list alone, 49.7% with the
        default alone)."""
        own = json.loads(self._key(phrases))  # refuses a list with no usable phrase
        with self._lock:
            default = json.loads(self.default_key) if self.default_key else []
        key = self._key([*own, *default])
        self._lm(key)
        return key

    def _lm(self, key: str) -> _Lm:
        with self._lock:
            if key in self._lms:
                return self._lms[key]
        try:
            model = shoplm.build(json.loads(key), self.dictionary, order=self.config.order)
        except ValueError as exc:
            raise AsrRequestError(str(exc)) from None
        assert self._tmp is not None, "load() first"
        with self._lock:
            self._files += 1
            stem = Path(self._tmp.name) / f"shop-{self._files}"
        arpa = model.write(stem.with_suffix(".arpa"))
        words = stem.with_suffix(".dict")
        words.write_text(self._dictionary_lines(model), encoding="utf-8")
        built = _Lm(arpa, words, model)
        with self._lock:
            self._lms[key] = built
            # Bounded: drop the oldest phrase-list LMs, never the default one.
            for old in [k for k in self._lms if k != self.default_key and k != key][
                : max(0, len(self._lms) - MAX_LMS)
            ]:
                gone = self._lms.pop(old)
                gone.arpa.unlink(missing_ok=True)
                gone.dictionary.unlink(missing_ok=True)
        return built

    def _dictionary_lines(self, model: shoplm.ShopLm) -> str:
        """A dictionary of the LM's words only (every pronunciation), derived ones too."""
        lines = []
        for word in model.vocabulary:
            prons = self.dictionary.get(word) or [model.pronunciations[word]]
            for i, phones in enumerate(prons):
                lines.append(f"{word if i == 0 else f'{word}({i + 1})'} {phones}")
        return "\n".join(lines) + "\n"

    # -- recognizers (blocking) ----------------------------------------------------------------

    def _new(self, settings: StreamSettings) -> SphinxRecognizer:
        if settings.sample_rate != RATE:
            raise AsrRequestError(f"this English model takes {RATE} Hz audio only")
        with self._lock:
            key = settings.grammar or self.default_key
            generation = self.generation
        kwargs = self.config.decoder_kwargs()
        if key:
            lm = self._lm(key)
            kwargs |= {"lw": self.config.shop_lw, "lm": str(lm.arpa), "dict": str(lm.dictionary)}
        decoders = [
            pocketsphinx.Decoder(samprate=RATE, loglevel="FATAL", **kwargs, **_warped(w))
            for w in self.config.warps or (1.0,)
        ]
        self.created += 1
        return SphinxRecognizer(
            settings.key, decoders, generation, endpointer=self._endpointer(), shop=bool(key)
        )

    def _endpointer(self) -> Any:
        return pocketsphinx.Endpointer(window=self.config.endpoint_window, sample_rate=RATE)

    def acquire(self, settings: StreamSettings, elapsed: float = 0.0) -> SphinxRecognizer:
        """A decoder for these settings: an idle one if there is, else a new one.

        ``elapsed``: seconds of audio the stream has sent already (its word times go on)."""
        rec = self._idle.take(settings.key) or self._new(settings)
        rec.words = settings.words
        rec.offset_frames = round(elapsed * FRAMES_PER_SECOND)
        rec.rng = np.random.default_rng(0)  # each stream gets the same noise floor
        return rec

    def release(self, rec: SphinxRecognizer) -> None:
        """A stream is done with ``rec``: keep it for the next unless worn or out of date."""
        if rec.in_utt:
            rec.stop()
        # The endpointer lives as long as its decoder: pocketsphinx never frees one (about
        # 50 kB each, measured), so one per utterance grew the unit by 10 MB in 15 minutes.
        rec.pending, rec.utterance_seconds = b"", 0.0
        with self._lock:
            current = rec.generation == self.generation or rec.settings_key[2]
            keep = not rec.worn(self.config) and current and self.config.idle_decoders > 0
        if keep:
            self._idle.put(rec, self.config.idle_decoders)
        else:
            rec.free()
            _malloc_trim()

    def renew(self, rec: SphinxRecognizer, settings: StreamSettings) -> SphinxRecognizer:
        """At a pause: a fresh recognizer if ``rec`` has heard enough (bounds memory)."""
        if not rec.worn(self.config):
            return rec
        self.recycled += 1
        rec.free()  # freed now, and given back to the system
        _malloc_trim()
        fresh = self._new(settings)
        fresh.words = settings.words
        fresh.offset_frames = rec.offset_frames
        return fresh

    def accept(self, rec: SphinxRecognizer, pcm: bytes, rate: float) -> tuple[dict[str, Any], bool]:
        """Feed audio; returns (reply, endpoint): a partial, or the result at an endpoint."""
        if rate != RATE:
            raise AsrRequestError(f"this English model takes {RATE} Hz audio only")
        seconds = len(pcm) / (SAMPLE_WIDTH * rate)
        rec.audio_seconds += seconds
        rec.utterance_seconds += seconds
        if not rec.in_utt:
            rec.start()
        rec.feed(self._with_floor(rec, pcm))
        if (
            self.config.warp_decide_seconds
            and rec.utterance_seconds >= self.config.warp_decide_seconds
        ):
            rec.decide()
        if (
            self._speech_ended(rec, pcm)
            or rec.utterance_seconds >= self.config.max_utterance_seconds
        ):
            return self.final(rec), True
        hyp = rec.decoder.hyp()
        return {"partial": hyp.hypstr if hyp is not None else ""}, False

    def _with_floor(self, rec: SphinxRecognizer, pcm: bytes) -> bytes:
        """``pcm`` with the configured noise floor added (see ``SphinxConfig.noise_floor``)
        for a shop LM's decoder."""
        floor = self.config.noise_floor
        if floor <= 0 or not rec.shop or len(pcm) % SAMPLE_WIDTH:
            return pcm
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
        samples += rec.rng.normal(0.0, floor, len(samples)).astype(np.float32)
        return np.clip(samples, -32768, 32767).astype(np.int16).tobytes()

    @staticmethod
    def _speech_ended(rec: SphinxRecognizer, pcm: bytes) -> bool:
        """Feed the endpointer; True when speech went over to non-speech in this audio."""
        ep = rec.endpointer
        data = rec.pending + pcm
        size = ep.frame_bytes
        whole = len(data) // size * size
        rec.pending = data[whole:]
        ended = False
        for i in range(0, whole, size):
            was = ep.in_speech
            ep.process(data[i : i + size])
            ended = ended or (was and not ep.in_speech)
        return ended

    def final(self, rec: SphinxRecognizer) -> dict[str, Any]:
        """End the utterance: the result (Vosk's shape), and the stream may go on."""
        if rec.in_utt:
            rec.stop()
        decoder = rec.decoder
        hyp = decoder.hyp()
        result: dict[str, Any] = {"text": hyp.hypstr if hyp is not None else ""}
        if rec.words:
            segments = list(decoder.seg()) if hyp is not None else []
            logmath = decoder.logmath
            result["result"] = [
                {
                    "word": _base_word(s.word),
                    "start": (rec.offset_frames + s.start_frame) / FRAMES_PER_SECOND,
                    "end": (rec.offset_frames + s.end_frame + 1) / FRAMES_PER_SECOND,
                    "conf": min(1.0, logmath.exp(s.prob)),
                }
                for s in segments
                if not _is_filler(s.word)
            ]
        rec.offset_frames += decoder.n_frames()
        rec.utterance_seconds = 0.0
        return result

    def idle_count(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        if self._own_executor:
            self.executor.shutdown(wait=True, cancel_futures=True)
        self._idle.drain()
        with self._lock:
            self._lms.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def _is_filler(word: str) -> bool:
    return word in ("<s>", "</s>", "<sil>") or word.startswith(("[", "+"))


def _base_word(word: str) -> str:
    """ "read(2)" -> "read": alternative pronunciations are one word."""
    return word.split("(", 1)[0] if word.endswith(")") else word
