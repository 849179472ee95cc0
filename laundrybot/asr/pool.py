"""Warm recognizers between streams: both engines keep idle ones keyed by their settings.

A new recognizer is slow to make (a Vosk graph cache, a pocketsphinx decoder), so a stream
that ends hands its recognizer back and the next stream with the same settings takes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, Protocol, TypeVar


class Keyed(Protocol):
    @property
    def settings_key(self) -> Hashable: ...


R = TypeVar("R", bound=Keyed)


class IdlePool(Generic[R]):
    """Idle recognizers, oldest first; safe to use from the recognition threads."""

    def __init__(self) -> None:
        self._idle: list[R] = []
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> R | None:
        """An idle recognizer made for ``key``, or None."""
        with self._lock:
            for i, rec in enumerate(self._idle):
                if rec.settings_key == key:
                    return self._idle.pop(i)
        return None

    def put(self, rec: R, limit: int) -> list[R]:
        """Keep ``rec``; return the oldest ones beyond ``limit``, for the caller to free."""
        with self._lock:
            self._idle.append(rec)
            dropped = self._idle[:-limit] if limit else list(self._idle)
            del self._idle[: len(dropped)]
        return dropped

    def keep_only(self, wanted: Callable[[R], bool]) -> None:
        with self._lock:
            self._idle = [rec for rec in self._idle if wanted(rec)]

    def drain(self) -> list[R]:
        with self._lock:
            idle, self._idle = self._idle, []
        return idle

    def __iter__(self) -> Iterator[R]:
        """A snapshot of the idle ones (the pool may change meanwhile)."""
        with self._lock:
            return iter(list(self._idle))

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)
