"""The ASR unit's engines, one per language, sharing one pool of recognition threads.

``asr.engines`` / ``asr.models`` say which language is recognised by what (see
``laundrybot.speechmodels.asr_models``): Vosk models (``laundrybot.asr.engine``, one engine
for all of them) and pocketsphinx for English (``laundrybot.asr.sphinx``, one engine per
language). Both have the same methods, so a stream asks ``engine(lang)`` once and goes on
with it. Everything blocking runs in ``executor`` (``asr.threads`` threads), watched by the
unit's PoolWatch.

The pocketsphinx engines search a shop LM built from the knowledge file's phrases
(``shop_phrases``): read at start and again at every reload.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from laundrybot.asr.engine import AsrEngine, StreamSettings
from laundrybot.asr.sphinx import SphinxConfig, SphinxEngine
from laundrybot.config import AsrConfig, Config
from laundrybot.speechmodels import POCKETSPHINX, VOSK, ModelRef

log = logging.getLogger(__name__)


class Engine(Protocol):
    """What a stream uses of its language's engine (AsrEngine and SphinxEngine both have it).
    Recognizers are the engine's own objects (Any here)."""

    def grammar(self, lang: str, phrases: Sequence[str]) -> str: ...
    def acquire(self, settings: StreamSettings, elapsed: float = 0.0) -> Any: ...
    def accept(self, rec: Any, pcm: bytes, rate: float) -> tuple[dict[str, Any], bool]: ...
    def final(self, rec: Any) -> dict[str, Any]: ...
    def renew(self, rec: Any, settings: StreamSettings) -> Any: ...
    def release(self, rec: Any) -> None: ...


def shop_phrases(config: Config) -> dict[str, list[str]]:
    """The knowledge file's phrases by language (``shoplm.knowledge_phrases``), and how
    customers of the language talk (``Language.talk``); {} when the file cannot be read
    (logged: the engines then fall back to their general models)."""
    from laundrybot import lang as languages
    from laundrybot.asr.shoplm import knowledge_phrases
    from laundrybot.dialog.knowledge import load_knowledge_set

    try:
        knowledge = load_knowledge_set(config.knowledge_path)
    except Exception as exc:
        log.warning("asr: knowledge file unusable, no shop LM: %s", exc)
        return {}
    out = {}
    for code, k in knowledge.items():
        language = languages.find(code)
        out[code] = knowledge_phrases(k) + list(language.talk if language else ())
    return out


def sphinx_config(config: AsrConfig) -> SphinxConfig:
    return SphinxConfig(
        threads=config.threads,
        idle_decoders=config.idle_recognizers,
        recycle_after_seconds=config.recycle_after_seconds,
        recycle_after_age=config.recycle_after_age,
        warps=SphinxConfig.warps if config.warp_voices else (1.0,),
    )


def _phrases_for(lang: str, phrases: dict[str, list[str]]) -> list[str]:
    return phrases.get(lang) or phrases.get(lang.partition("-")[0]) or []


class Engines:
    def __init__(self, refs: list[ModelRef], config: AsrConfig) -> None:
        self.refs = refs
        self.config = config
        self.executor = ThreadPoolExecutor(max_workers=config.threads, thread_name_prefix="asr")
        vosk_refs = [r for r in refs if r.kind == VOSK]
        self.vosk = AsrEngine(vosk_refs, config, self.executor) if vosk_refs else None
        self.sphinx = {
            r.lang: SphinxEngine(sphinx_config(config), r.lang, self.executor, r.path)
            for r in refs
            if r.kind == POCKETSPHINX
        }

    # -- languages -----------------------------------------------------------------------------

    @property
    def languages(self) -> list[str]:
        """The languages loaded, in configuration order."""
        loaded = set(self.vosk.languages if self.vosk else ())
        loaded |= {lang for lang, e in self.sphinx.items() if e.languages}
        return [r.lang for r in self.refs if r.lang in loaded]

    def describe(self) -> list[str]:
        """One line per language: which engine and model."""
        out = []
        for ref in self.refs:
            if ref.lang in self.sphinx:
                out.append(f"{ref.lang}: pocketsphinx, {self.sphinx[ref.lang].describe()}")
            else:
                out.append(f"{ref.lang}: vosk, {ref.path}")
        return out

    def default_lang(self) -> str:
        lang = self.config.default_lang
        return lang if lang else next(iter(self.languages), "")

    def find_lang(self, lang: str) -> str | None:
        """The loaded language for ``lang`` ("en", or "en" for "en-US"), or None."""
        languages = self.languages
        if not lang:
            lang = self.default_lang()
        if lang in languages:
            return lang
        base = lang.partition("-")[0]
        return base if base in languages else None

    def engine(self, lang: str) -> Engine:
        """The engine of a loaded language (an AsrEngine or a SphinxEngine)."""
        if lang in self.sphinx:
            return self.sphinx[lang]
        assert self.vosk is not None
        return self.vosk

    # -- loading and reloading (blocking: in the executor, or before serving) ---------------

    def load(self, phrases: dict[str, list[str]]) -> None:
        if self.vosk is not None:
            self.vosk.load()
        for lang, engine in self.sphinx.items():
            engine.load(_phrases_for(lang, phrases))

    def prepare(self, phrases: dict[str, list[str]]) -> dict[str, str]:
        """Build the new shop LMs (the slow part of a reload): language -> LM key."""
        return {
            lang: engine.prepare(_phrases_for(lang, phrases))
            for lang, engine in self.sphinx.items()
        }

    def use(self, prepared: dict[str, str], config: AsrConfig) -> None:
        """Apply a reload: the prepared shop LMs, and the limits and recycling settings."""
        self.config = config
        if self.vosk is not None:
            self.vosk.config = config
        for lang, engine in self.sphinx.items():
            engine.config = sphinx_config(config)
            if lang in prepared and engine.use(prepared[lang]):
                log.info("asr %s: now %s", lang, engine.describe())

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        if self.vosk is not None:
            self.vosk.close()
        for engine in self.sphinx.values():
            engine.close()
