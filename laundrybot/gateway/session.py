"""Kiosk sessions: a conversation that survives a reconnect within the resume window.

The store is bounded three ways: in number (``max_sessions``), in age (the resume window, for
disconnected sessions) and in bytes (``max_bytes``, from gateway.memory_budget_mb): past it,
the least recently seen sessions are dropped first, so memory stays under the unit's limit
whatever kiosks - or anyone with a connection - say.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from laundrybot.dialog.state import DialogueState

# Turns kept per session, for resuming and for the dialogue's context.
HISTORY = 20
# What Python holds besides the text: a session (object, deque, id, the store's entry) and a
# history entry (its dict and deque slot). Estimates on the high side.
SESSION_OVERHEAD = 1024
ENTRY_OVERHEAD = 256


@dataclass
class FiledReport:
    """The escalation this session filed last: a machine named later is added to it."""

    id: str  # the escalation event's id
    kind: str  # its reason: call-staff, money-taken, machine-broken
    machine: int | None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _entry_bytes(entry: dict[str, str]) -> int:
    return ENTRY_OVERHEAD + sum(sys.getsizeof(text) for text in entry.values())


@dataclass(eq=False)
class Session:
    id: str
    kiosk: str
    lang: str
    history: collections.deque[dict[str, str]] = field(
        default_factory=lambda: collections.deque(maxlen=HISTORY)
    )
    turns: int = 0
    # What the conversation is about so far: passed to Dialog.answer, replaced by its answer's.
    dialogue: DialogueState = field(default_factory=DialogueState)
    # The escalation this session filed last, which a machine named later is added to.
    report: FiledReport | None = None
    connected: bool = True
    last_seen: float = field(default_factory=time.monotonic)
    # The digest of the resume token the last welcome gave (the token itself is not kept).
    resume_digest: bytes = b""
    # The memory this session holds, as the store counts it.
    size: int = SESSION_OVERHEAD
    store: SessionStore | None = field(default=None, repr=False)

    def remember(self, question: str, answer: str) -> None:
        """Add a turn to the history (the oldest goes past HISTORY), counted in bytes."""
        entry = {"question": question, "answer": answer}
        grown = _entry_bytes(entry)
        if len(self.history) == self.history.maxlen:
            grown -= _entry_bytes(self.history[0])
        self.history.append(entry)
        self.size += grown
        if self.store is not None:
            self.store.grew(self, grown)


class SessionStore:
    """Sessions by id, bounded in number, age and bytes (least recently seen dropped first)."""

    def __init__(self, resume_window: float, max_sessions: int, max_bytes: int) -> None:
        self.resume_window = resume_window
        self.max_sessions = max_sessions
        self.max_bytes = max_bytes
        self.bytes = 0
        self.dropped = 0  # sessions dropped for number or bytes before their time
        # Told of every change a peer gateway would need to resume a session (SessionShelf).
        self.on_change: Callable[[Session], None] = lambda session: None
        self._sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self, kiosk: str, lang: str) -> Session:
        self.expire()
        session = Session(id=secrets.token_hex(16), kiosk=kiosk, lang=lang, store=self)
        self._sessions[session.id] = session
        self.bytes += session.size
        self._bound(keep=session)
        return session

    def resume(self, session_id: str, kiosk: str, resume_token: str) -> Session | None:
        """The session to resume, if it exists, belongs to this kiosk, is recent enough and
        ``resume_token`` is the one its last welcome gave."""
        self.expire()
        session = self._sessions.get(session_id)
        if session is None or session.kiosk != kiosk or not session.resume_digest:
            return None
        if not hmac.compare_digest(_digest(resume_token), session.resume_digest):
            return None
        session.connected = True
        self.touch(session)
        return session

    def adopt(
        self,
        session_id: str,
        *,
        kiosk: str,
        lang: str,
        resume_digest: bytes,
        resume_token: str,
        claimed_kiosk: str,
    ) -> Session | None:
        """A session another peer kept (SessionShelf), taken over if ``claimed_kiosk`` and
        ``resume_token`` are its own; it replaces this store's older copy, if any."""
        if kiosk != claimed_kiosk or not resume_digest:
            return None
        if not hmac.compare_digest(_digest(resume_token), resume_digest):
            return None
        stale = self._sessions.get(session_id)
        if stale is not None:
            self._drop(stale)
        session = Session(id=session_id, kiosk=kiosk, lang=lang, store=self)
        session.resume_digest = resume_digest
        self._sessions[session_id] = session
        self.bytes += session.size
        self._bound(keep=session)
        return session

    def new_resume_token(self, session: Session) -> str:
        """A fresh secret for the next resume of ``session`` (the previous one stops working)."""
        token = secrets.token_urlsafe(24)
        session.resume_digest = _digest(token)
        self.on_change(session)
        return token

    def touch(self, session: Session) -> None:
        session.last_seen = time.monotonic()
        if session.store is self:
            self._sessions.move_to_end(session.id)

    def disconnected(self, session: Session) -> None:
        session.connected = False
        self.touch(session)
        self.on_change(session)

    def grew(self, session: Session, grown: int) -> None:
        """A turn was added to ``session`` (its state and report changed with it)."""
        self.bytes += grown
        self._bound(keep=session)
        self.on_change(session)

    def _bound(self, keep: Session) -> None:
        while len(self._sessions) > 1 and (
            len(self._sessions) > self.max_sessions or self.bytes > self.max_bytes
        ):
            oldest = next(iter(self._sessions.values()))
            if oldest is keep:  # the one just used is the newest; only if alone
                break
            self._drop(oldest)
            self.dropped += 1

    def _drop(self, session: Session) -> None:
        del self._sessions[session.id]
        self.bytes -= session.size
        # A connection may still hold it: its history goes, so the memory really is freed.
        session.store = None
        session.history.clear()
        session.size = SESSION_OVERHEAD

    def expire(self) -> None:
        """Drop disconnected sessions older than the resume window."""
        limit = time.monotonic() - self.resume_window
        for session in [
            s for s in self._sessions.values() if not s.connected and s.last_seen < limit
        ]:
            self._drop(session)
