"""The phrase cache: audio of answers said before, on disk, with a size cap.

One file per phrase, named by a hash of the voice's identity and the normalised text, so a new
voice file or a change in normalisation never plays stale audio. A file is a JSON header line
(rate, width, channels, sentence lengths in bytes) followed by the PCM. Writes go to a temp
file and are renamed into place, so a crash never leaves half a phrase. Least recently used
phrases (by mtime, refreshed on every hit: atime is often off) go first once over the cap.
Blocking: call these methods in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".pcm"
# A phrase longer than this share of the cap is not kept: it would push out everything else.
MAX_SHARE = 0.25


@dataclass(frozen=True)
class Phrase:
    rate: int
    width: int
    channels: int
    sentences: list[bytes]


def phrase_key(voice_identity: str, text: str) -> str:
    return hashlib.sha256(f"{voice_identity}\n{text}".encode()).hexdigest()


class PhraseCache:
    def __init__(self, folder: Path, cap_bytes: int) -> None:
        self.folder = folder
        self.cap = cap_bytes
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()
        self.hits = 0

    @property
    def enabled(self) -> bool:
        return self.cap > 0

    @property
    def size(self) -> int:
        return sum(self._sizes.values())

    def open(self) -> None:
        """Create the folder, forget temp files a crash left, and fit under the cap."""
        if not self.enabled:
            return
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            for entry in os.scandir(self.folder):
                if entry.name.startswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                elif entry.name.endswith(SUFFIX) and entry.is_file():
                    self._sizes[entry.name] = entry.stat().st_size
            self._evict()

    def get(self, key: str) -> Phrase | None:
        if not self.enabled:
            return None
        name = key + SUFFIX
        path = self.folder / name
        try:
            with path.open("rb") as f:
                header = json.loads(f.readline())
                data = f.read()
            os.utime(path)  # the LRU order
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("dropping unreadable cached phrase %s: %s", path, exc)
            self._remove(name)
            return None
        sentences, offset = [], 0
        for length in header["sentences"]:
            sentences.append(data[offset : offset + length])
            offset += length
        if offset != len(data):
            log.warning("dropping truncated cached phrase %s", path)
            self._remove(name)
            return None
        self.hits += 1
        return Phrase(header["rate"], header["width"], header["channels"], sentences)

    def put(self, key: str, phrase: Phrase) -> None:
        if not self.enabled:
            return
        header = {
            "rate": phrase.rate,
            "width": phrase.width,
            "channels": phrase.channels,
            "sentences": [len(s) for s in phrase.sentences],
        }
        head = json.dumps(header).encode() + b"\n"
        size = len(head) + sum(len(s) for s in phrase.sentences)
        if size > self.cap * MAX_SHARE:
            return
        name = key + SUFFIX
        try:
            fd, tmp = tempfile.mkstemp(prefix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(head)
                    for sentence in phrase.sentences:
                        f.write(sentence)
                os.replace(tmp, self.folder / name)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            # A full or read-only disk costs us the cache, never the answer.
            log.warning("could not cache a phrase in %s: %s", self.folder, exc)
            return
        with self._lock:
            self._sizes[name] = size
            self._evict()

    def _evict(self) -> None:
        """Remove least recently used phrases until under the cap (lock held)."""
        total = sum(self._sizes.values())
        if total <= self.cap:
            return
        aged = []
        for name in self._sizes:
            try:
                aged.append((os.stat(self.folder / name).st_mtime_ns, name))
            except OSError:
                aged.append((0, name))
        for _, name in sorted(aged):
            if total <= self.cap:
                break
            total -= self._sizes.pop(name)
            with contextlib.suppress(OSError):
                os.unlink(self.folder / name)

    def _remove(self, name: str) -> None:
        with self._lock:
            self._sizes.pop(name, None)
        with contextlib.suppress(OSError):
            os.unlink(self.folder / name)

    def clear(self) -> None:
        with self._lock:
            for name in list(self._sizes):
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)
            self._sizes.clear()
