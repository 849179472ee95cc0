"""Kiosk sessions: a conversation that survives a reconnect within the resume window."""

from __future__ import annotations

import collections
import secrets
import time
from dataclasses import dataclass, field

from laundrybot.dialog.state import DialogueState

# Turns kept per session, for resuming and for the dialogue's context.
HISTORY = 20


@dataclass
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
    # The escalation event this session filed, which later report updates refer to.
    report_event: str | None = None
    connected: bool = True
    last_seen: float = field(default_factory=time.monotonic)


class SessionStore:
    """Sessions by id, bounded in number and age (least recently seen dropped first)."""

    def __init__(self, resume_window: float, max_sessions: int) -> None:
        self.resume_window = resume_window
        self.max_sessions = max_sessions
        self._sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self, kiosk: str, lang: str) -> Session:
        self.expire()
        session = Session(id=secrets.token_hex(16), kiosk=kiosk, lang=lang)
        self._sessions[session.id] = session
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)
        return session

    def resume(self, session_id: str, kiosk: str) -> Session | None:
        """The session to resume, if it exists, belongs to this kiosk and is recent enough."""
        self.expire()
        session = self._sessions.get(session_id)
        if session is None or session.kiosk != kiosk:
            return None
        session.connected = True
        self.touch(session)
        return session

    def touch(self, session: Session) -> None:
        session.last_seen = time.monotonic()
        self._sessions.move_to_end(session.id)

    def disconnected(self, session: Session) -> None:
        session.connected = False
        self.touch(session)

    def expire(self) -> None:
        """Drop disconnected sessions older than the resume window."""
        limit = time.monotonic() - self.resume_window
        for session_id in [
            s.id for s in self._sessions.values() if not s.connected and s.last_seen < limit
        ]:
            del self._sessions[session_id]
