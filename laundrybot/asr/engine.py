"""Vosk models, the recognizers built on them, and the threads that run them.

One ``Model`` per language, shared. A recognizer belongs to one stream at a time, but is not
thrown away with it: creating one costs ~90 ms and a fresh recognizer decodes slowly until its
graph cache warms up, so finished streams hand theirs back to a small idle pool (by language,
sample rate and grammar) for the next stream. A long-lived free recognizer keeps growing
(620 -> 916 MB over 25 minutes of audio, measured), so each one is replaced once it has heard
``recycle_after_seconds`` of audio or reached ``recycle_after_age``, at a pause: after a
result, never in mid-utterance. Vosk times words from the first sample a recognizer ever
heard, across ``Reset()``; each recognizer remembers where the current stream began on that
clock (``origin``), so a stream's word times start at 0 whichever recognizer serves it.
Everything that touches Vosk is blocking and runs in the
bounded thread pool ``executor``; a recognizer is never used by two threads at once because
its stream awaits each call before making the next. A grammar stream's results are given as
the grammar's closest phrase (``_snapped``: Vosk's grammar mixes words across phrases), with
Vosk's own text as ``heard``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import vosk

from laundrybot.asr.pool import IdlePool
from laundrybot.config import AsrConfig
from laundrybot.speechmodels import ModelRef

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # s16le mono
MIN_RATE, MAX_RATE = 8000, 48000
# How the standard Vosk models spell "any other word" in a grammar.
UNK_SPELLINGS = ("[unk]", "<UNK>", "<unk>")


def _malloc_trim() -> None:
    """Give freed recognizer memory back to the system (glibc keeps it otherwise)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


_libc_name = ctypes.util.find_library("c")
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(_libc_name) if _libc_name else None
    if _LIBC is not None and not hasattr(_LIBC, "malloc_trim"):
        _LIBC = None
except OSError:
    _LIBC = None


class AsrRequestError(Exception):
    """A stream asked for something this engine cannot do; the text goes to the client."""


@dataclass(frozen=True)
class StreamSettings:
    lang: str
    sample_rate: float = 16000.0
    # The grammar as Vosk gets it (a JSON list), or "" for free recognition.
    grammar: str = ""
    words: bool = True
    max_alternatives: int = 0

    @property
    def key(self) -> tuple[str, float, str]:
        return (self.lang, self.sample_rate, self.grammar)


@dataclass
class Recognizer:
    """A KaldiRecognizer and what it has been through."""

    settings_key: tuple[str, float, str]
    kaldi: Any
    created: float = field(default_factory=time.monotonic)
    # Audio heard for the current owner's purposes (the recycling budget).
    audio_seconds: float = 0.0
    # Every second of audio Kaldi has been fed, warm-up included: Vosk's clock for word times.
    fed_seconds: float = 0.0
    # Where the current stream's time 0 is on that clock.
    origin: float = 0.0

    def worn(self, config: AsrConfig) -> bool:
        return (
            self.audio_seconds >= config.recycle_after_seconds
            or time.monotonic() - self.created >= config.recycle_after_age
        )


class AsrEngine:
    def __init__(
        self, refs: list[ModelRef], config: AsrConfig, executor: ThreadPoolExecutor | None = None
    ) -> None:
        self.refs = refs
        self.config = config
        self.models: dict[str, Any] = {}
        self._own_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(
            max_workers=config.threads, thread_name_prefix="asr"
        )
        self._idle: IdlePool[Recognizer] = IdlePool()
        self.recycled = 0
        self.created = 0

    @property
    def languages(self) -> list[str]:
        return list(self.models)

    def default_lang(self) -> str:
        lang = self.config.default_lang
        return lang if lang else next(iter(self.models), "")

    def find_lang(self, lang: str) -> str | None:
        """The loaded language for ``lang`` ("ko", or "ko" for "ko-KR"), or None."""
        if not lang:
            lang = self.default_lang()
        if lang in self.models:
            return lang
        base = lang.partition("-")[0]
        return base if base in self.models else None

    # -- loading (blocking) ------------------------------------------------------------------

    def load(self) -> None:
        """Load every model and warm one recognizer per language (seconds, ~600 MB each)."""
        vosk.SetLogLevel(-1)
        for ref in self.refs:
            ref.require()
            started = time.monotonic()
            try:
                # Always by path: Model(lang=...) would try to download.
                self.models[ref.lang] = vosk.Model(str(ref.path))
            except Exception as exc:
                raise RuntimeError(
                    f"{ref.source}: {ref.path}: Vosk cannot load it ({exc})"
                ) from None
            log.info(
                "vosk model for %s loaded from %s in %.1f s",
                ref.lang,
                ref.path,
                time.monotonic() - started,
            )
            if self.config.idle_recognizers:
                warm = self._new(StreamSettings(ref.lang))
                # A second of quiet noise: allocates the decoder and feature pipeline.
                warm.kaldi.AcceptWaveform(_noise(16000))
                warm.kaldi.FinalResult()
                warm.fed_seconds += 1.0
                self.release(warm)

    # -- settings ----------------------------------------------------------------------------

    def grammar(self, lang: str, phrases: Sequence[str]) -> str:
        """The phrases as a Vosk grammar, in words this model knows (others are dropped).

        Vosk drops unknown words silently; doing it here makes the result predictable and lets
        the client know when nothing usable is left. "[unk]" is spelt the model's way.
        """
        model = self.models[lang]
        unk = next((u for u in UNK_SPELLINGS if model.vosk_model_find_word(u) >= 0), None)
        kept: list[str] = []
        for phrase in phrases:
            words = []
            for word in phrase.split():
                if word in UNK_SPELLINGS:
                    if unk:
                        words.append(unk)
                elif model.vosk_model_find_word(word) >= 0:
                    words.append(word)
            text = " ".join(words)
            if text and text not in kept:
                kept.append(text)
        if not any(p != unk for p in kept):
            raise AsrRequestError("no phrase in phrase_list has words this model knows")
        return json.dumps(kept, ensure_ascii=False)

    # -- recognizers (blocking: call in the executor) ---------------------------------------

    def acquire(self, settings: StreamSettings, elapsed: float = 0.0) -> Recognizer:
        """A recognizer for these settings: a warm idle one if there is, else a new one.

        ``elapsed``: seconds of audio the stream has sent already (its word times go on
        from there)."""
        rec = self._idle.take(settings.key) or self._new(settings)
        rec.origin = rec.fed_seconds - elapsed
        rec.kaldi.SetWords(settings.words)
        rec.kaldi.SetMaxAlternatives(settings.max_alternatives)
        return rec

    def _new(self, settings: StreamSettings) -> Recognizer:
        model = self.models[settings.lang]
        if settings.grammar:
            kaldi = vosk.KaldiRecognizer(model, settings.sample_rate, settings.grammar)
        else:
            kaldi = vosk.KaldiRecognizer(model, settings.sample_rate)
        self.created += 1
        return Recognizer(settings.key, kaldi)

    def release(self, rec: Recognizer) -> None:
        """A stream is done with ``rec``: keep it warm for the next, unless it is worn out."""
        if rec.worn(self.config) or self.config.idle_recognizers == 0:
            self._discard(rec)
            return
        rec.kaldi.Reset()
        # Oldest first out: the pool never holds more than idle_recognizers.
        for old in self._idle.put(rec, self.config.idle_recognizers):
            self._discard(old)

    def _discard(self, rec: Recognizer) -> None:
        rec.kaldi = None  # KaldiRecognizer.__del__ frees it
        _malloc_trim()

    def renew(self, rec: Recognizer, settings: StreamSettings) -> Recognizer:
        """At a pause: replace ``rec`` with a fresh one if it has heard enough."""
        if not rec.worn(self.config):
            return rec
        self.recycled += 1
        log.debug("recycling a recognizer after %.0f s of audio", rec.audio_seconds)
        self._discard(rec)
        fresh = self._new(settings)
        # The stream's clock goes on where the worn recognizer's stopped.
        fresh.origin = rec.origin - rec.fed_seconds
        fresh.kaldi.SetWords(settings.words)
        fresh.kaldi.SetMaxAlternatives(settings.max_alternatives)
        return fresh

    def accept(self, rec: Recognizer, pcm: bytes, rate: float) -> tuple[dict[str, Any], bool]:
        """Feed audio; returns (reply, endpoint) where reply is a partial or a result."""
        seconds = len(pcm) / (SAMPLE_WIDTH * rate)
        rec.audio_seconds += seconds
        rec.fed_seconds += seconds
        if rec.kaldi.AcceptWaveform(pcm):
            return _snapped(_on_stream_clock(json.loads(rec.kaldi.Result()), rec.origin), rec), True
        return json.loads(rec.kaldi.PartialResult()), False

    @staticmethod
    def final(rec: Recognizer) -> dict[str, Any]:
        return _snapped(_on_stream_clock(json.loads(rec.kaldi.FinalResult()), rec.origin), rec)

    def idle_count(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        if self._own_executor:
            self.executor.shutdown(wait=True, cancel_futures=True)
        for rec in self._idle.drain():
            self._discard(rec)
        self.models.clear()


def _on_stream_clock(result: dict[str, Any], origin: float) -> dict[str, Any]:
    """Word times in ``result`` (and in its alternatives) counted from the stream's start."""
    if origin:
        lists = [result.get("result")]
        lists += [a.get("result") for a in result.get("alternatives", []) if isinstance(a, dict)]
        for words in lists:
            for word in words or ():
                for key in ("start", "end"):
                    if isinstance(word.get(key), (int, float)):
                        word[key] = round(max(0.0, word[key] - origin), 6)
    return result


def _snapped(result: dict[str, Any], rec: Recognizer) -> dict[str, Any]:
    """A grammar stream's result as the grammar's closest phrase.

    Vosk builds a bigram model of a grammar's phrases, so what it hears mixes words across
    phrases ("이 뭐 있어요 사 이 얼마 예요"); the closest whole phrase (edit distance over
    the characters, spaces left out: Korean word splitting varies) is what the client asked
    to recognise. ``text`` becomes that phrase; ``heard`` keeps Vosk's own text, ``result``
    its words and times. Measured on the Korean tuning2 questions (34 x 3 espeak-ng speakers,
    clean, the dialogue picking between this and the free stream): answer right 20/102 ->
    34/102. (Not done for pocketsphinx's shop LM: its phrase-list LM often hears a question
    that no phrase holds, and snapping English lost 186/300 -> 156/300.)
    """
    heard = result.get("text")
    grammar = rec.settings_key[2]
    if not grammar or not isinstance(heard, str) or not heard.strip():
        return result
    phrase = closest_phrase(heard, _grammar_phrases(grammar))
    if phrase is not None and phrase != heard:
        result["heard"], result["text"] = heard, phrase
    return result


@functools.lru_cache(maxsize=8)
def _grammar_phrases(grammar: str) -> tuple[str, ...]:
    return tuple(
        p for p in json.loads(grammar) if isinstance(p, str) and p not in UNK_SPELLINGS and p
    )


def closest_phrase(text: str, phrases: Sequence[str]) -> str | None:
    """The phrase nearest ``text`` by character edit distance, spaces left out (the first of
    equals); None when there are no phrases."""
    target = text.replace(" ", "")
    best, best_cost = None, 1 << 30
    for phrase in phrases:
        candidate = phrase.replace(" ", "")
        if abs(len(candidate) - len(target)) >= best_cost:
            continue  # cannot be nearer than the best so far
        cost = _edit_distance(target, candidate, best_cost)
        if cost < best_cost:
            best, best_cost = phrase, cost
    return best


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``; stops early (returns ``limit``) once every
    way through is at least ``limit``."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        if min(current) >= limit:
            return limit
        previous = current
    return previous[-1]


def _noise(samples: int) -> bytes:
    """Quiet deterministic noise, s16le."""
    out = bytearray()
    x = 12345
    for _ in range(samples):
        x = (1103515245 * x + 12345) & 0x7FFFFFFF
        out += ((x >> 16) % 200 - 100).to_bytes(2, "little", signed=True)
    return bytes(out)
