"""Piper voices, loaded with our own onnxruntime session, synthesised sentence by sentence.

``PiperVoice.load`` has no thread option, so the session is built here with
``intra_op_num_threads`` from the configuration (default 2: a reply is synthesised just after
its question was recognised, when the other core is free; threads never spin waiting for work,
so a core busy with recognition costs little). Synthesis runs in
a bounded thread pool; each job is one sentence, so streams take turns sentence by sentence
and a stream that is cancelled stops after the sentence in progress.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import onnxruntime
from piper import PiperConfig, PiperVoice

from laundrybot.speechmodels import ModelRef, piper_config_path

log = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # s16le
CHANNELS = 1


def load_voice(model: Path, threads: int) -> PiperVoice:
    """A PiperVoice whose onnxruntime session uses ``threads`` threads (blocking, ~0.5 s)."""
    config = json.loads(piper_config_path(model).read_text(encoding="utf-8"))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Don't spin waiting for work: the other core belongs to recognition.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(model), sess_options=options, providers=["CPUExecutionProvider"]
    )
    # Piper downloads helper models into download_dir for a few languages; point it at a
    # scratch folder rather than the current directory (we never want downloads anyway).
    return PiperVoice(
        config=PiperConfig.from_dict(config),
        session=session,
        download_dir=Path(tempfile.gettempdir()),
    )


@dataclass
class Voice:
    name: str  # the .onnx file's stem, e.g. "en_US-joe-medium"
    lang: str
    path: Path
    piper: PiperVoice
    # Changes when the model file does: part of the phrase cache key.
    identity: str

    @property
    def rate(self) -> int:
        return int(self.piper.config.sample_rate)

    def sentences(self, text: str) -> Iterator[bytes]:
        """s16le PCM, one item per sentence (blocking: advance it in a worker thread)."""
        for piece in split_first_clause(text):
            for chunk in self.piper.synthesize(piece):
                audio: bytes = chunk.audio_int16_bytes
                if audio:
                    yield audio


# A first sentence longer than this is split at its first comma, when there is one.
FIRST_PIECE_CHARS = 40
MIN_CLAUSE_CHARS = 8
_FIRST_SENTENCE = re.compile(r"^(.*?[.!?。？！])(\s|$)", re.S)


def split_first_clause(text: str) -> list[str]:
    """The time to first audio grows with the first sentence, so a long one is cut at its
    first comma: the customer hears the start while the rest is being synthesised."""
    match = _FIRST_SENTENCE.match(text)
    first = match.group(1) if match else text
    if len(first) <= FIRST_PIECE_CHARS:
        return [text]
    comma = first.find(",", MIN_CLAUSE_CHARS)
    if comma < 0 or len(first) - comma < MIN_CLAUSE_CHARS:
        return [text]
    head, tail = text[: comma + 1], text[comma + 1 :].strip()
    return [head, tail] if tail else [head]


def _identity(ref: ModelRef) -> str:
    stat = ref.path.stat()
    config = piper_config_path(ref.path).stat()
    key = f"{ref.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{config.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class TtsEngine:
    """The voices by language and by name, and the threads that run them."""

    def __init__(self, refs: list[ModelRef], threads: int, workers: int) -> None:
        self.refs = refs
        self.threads = threads
        self.voices: dict[str, Voice] = {}  # by language
        self.by_name: dict[str, Voice] = {}
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tts")

    def load(self) -> None:
        """Load every voice and warm it up with a short sentence (blocking: seconds)."""
        for ref in self.refs:
            ref.require()
            piper = load_voice(ref.path, self.threads)
            voice = Voice(ref.path.stem, ref.lang, ref.path, piper, _identity(ref))
            # The first run allocates onnxruntime's buffers: pay for it before READY=1.
            for _ in voice.sentences("Hello."):
                pass
            self.voices[ref.lang] = voice
            self.by_name[voice.name] = voice
            log.info("voice %s for %s loaded from %s", voice.name, ref.lang, ref.path)

    def find(self, name: str | None, default_lang: str) -> Voice | None:
        """A voice by language ("en", or "en" for "en-US") or by name; None: not known."""
        if not name:
            name = default_lang or next(iter(self.voices), "")
        if name in self.voices:
            return self.voices[name]
        if name in self.by_name:
            return self.by_name[name]
        return self.voices.get(name.partition("-")[0])

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
