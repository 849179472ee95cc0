"""Sessions where a peer gateway can resume them: one SQLite file in the runtime folder.

Gateway peers (gateway@1, gateway@2) accept from one listening socket, so a kiosk that
reconnects lands on either. Each peer keeps its sessions in memory (SessionStore) and writes a
snapshot of each one here after every change; a resume that the peer does not know (or knows
an older state of: the resume secret moved on) is looked up here. The folder is the runtime
one (tmpfs under systemd): nothing outlives a reboot, and it is never part of the records.
Only the digest of the resume secret is kept, as in memory.

Writes leave the event loop: snapshots are coalesced per session and written by one thread in
one transaction per round. The file is bounded like the store: in rows (``max_sessions``), age
(the resume window) and bytes (the store's byte budget).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from laundrybot.dialog.state import DialogueState
from laundrybot.gateway.session import HISTORY, FiledReport, Session, SessionStore

log = logging.getLogger(__name__)

R = TypeVar("R")

FILE_NAME = "sessions.sqlite"
# Seconds a lost shelf waits before it is tried again, and between repeated warnings.
RETRY = 30.0


class Snapshot(msgspec.Struct, forbid_unknown_fields=True):
    """What a peer needs to carry a conversation on."""

    kiosk: str
    lang: str
    turns: int
    history: list[dict[str, str]]
    dialogue: DialogueState
    report: FiledReport | None
    resume_digest: bytes


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Snapshot).decode

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    updated REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
"""


def snapshot(session: Session) -> bytes:
    return _encode(
        Snapshot(
            kiosk=session.kiosk,
            lang=session.lang,
            turns=session.turns,
            history=list(session.history),
            dialogue=session.dialogue,
            report=session.report,
            resume_digest=session.resume_digest,
        )
    )


class SessionShelf:
    def __init__(
        self,
        folder: Path,
        store: SessionStore,
        on_state: Callable[[bool, str], None] = lambda ok, problem: None,
    ) -> None:
        self.path = folder / FILE_NAME
        self.store = store
        self.on_state = on_state
        # Snapshots not written yet, by session id: the newest one per session (bounded by the
        # store, whose sessions they are).
        self._dirty: collections.OrderedDict[str, tuple[float, bytes]] = collections.OrderedDict()
        self._wake = asyncio.Event()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, "session-shelf")
        self._db: sqlite3.Connection | None = None
        self._failed_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.adopted = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="session-shelf")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        await self._run(self._close)
        self._thread.shutdown(wait=True)

    # -- from the event loop ------------------------------------------------------------------

    def put(self, session: Session) -> None:
        """Shelve ``session``'s present state (written soon, off the loop)."""
        if session.store is not self.store:
            return  # dropped by the store's bounds: nothing to resume
        self._dirty[session.id] = (time.time(), snapshot(session))
        self._dirty.move_to_end(session.id)
        self._wake.set()

    async def take(self, session_id: str, kiosk: str, resume_token: str) -> Session | None:
        """The session a peer shelved, if the secret matches: adopted into this store."""
        pending = self._dirty.get(session_id)
        try:
            body = pending[1] if pending else await self._run(self._read, session_id)
        except sqlite3.Error as exc:
            self._failed(exc)
            return None
        if body is None:
            return None
        try:
            shelved = _decode(body)
        except msgspec.DecodeError as exc:
            log.warning("a shelved session could not be read, so it is not resumed: %s", exc)
            return None
        session = self.store.adopt(
            session_id,
            kiosk=shelved.kiosk,
            lang=shelved.lang,
            resume_digest=shelved.resume_digest,
            resume_token=resume_token,
            claimed_kiosk=kiosk,
        )
        if session is None:
            return None
        session.turns = shelved.turns
        session.dialogue = shelved.dialogue
        session.report = shelved.report
        for entry in shelved.history[-HISTORY:]:
            session.remember(entry.get("question", ""), entry.get("answer", ""))
        self.adopted += 1
        return session

    async def flush(self) -> None:
        """Write what is pending now (in the shelf's thread)."""
        if not self._dirty:
            return
        try:
            await self._run(self._write_all, self._take_dirty())
        except sqlite3.Error as exc:
            self._failed(exc)
        else:
            if self._failed_at:
                log.info("session shelf %s written again", self.path)
            self._failed_at = 0.0
            self.on_state(True, "")

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._failed_at and time.monotonic() - self._failed_at < RETRY:
                await asyncio.sleep(RETRY - (time.monotonic() - self._failed_at))
            await self.flush()

    def _take_dirty(self) -> list[tuple[str, float, bytes]]:
        batch = [(sid, at, body) for sid, (at, body) in self._dirty.items()]
        self._dirty.clear()
        return batch

    def _failed(self, exc: Exception) -> None:
        # Resuming on another peer stops working; resuming on this one still does.
        if not self._failed_at:
            log.warning("session shelf %s: %s (a peer cannot resume sessions)", self.path, exc)
        self._failed_at = time.monotonic()
        self.on_state(False, str(exc))

    async def _run(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    # -- in the shelf's thread ----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # tmpfs, and nothing here outlives a reboot
            db.executescript(SCHEMA)
            self._db = db
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _read(self, session_id: str) -> bytes | None:
        db = self._connect()
        row = db.execute("SELECT body FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return bytes(row[0]) if row else None

    def _write_all(self, batch: list[tuple[str, float, bytes]]) -> None:
        db = self._connect()
        store = self.store
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(
                "INSERT INTO sessions (id, updated, body) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated, body = excluded.body",
                batch,
            )
            # The store's bounds, for every peer's sessions together.
            db.execute(
                "DELETE FROM sessions WHERE updated < ?", (time.time() - store.resume_window,)
            )
            db.execute(
                "DELETE FROM sessions WHERE id NOT IN "
                "(SELECT id FROM sessions ORDER BY updated DESC LIMIT ?)",
                (store.max_sessions,),
            )
            (total,) = db.execute("SELECT coalesce(sum(length(body)), 0) FROM sessions").fetchone()
            while total > store.max_bytes:
                oldest = db.execute(
                    "SELECT id, length(body) FROM sessions ORDER BY updated LIMIT 64"
                ).fetchall()
                if not oldest:
                    break
                for sid, size in oldest:
                    db.execute("DELETE FROM sessions WHERE id = ?", (sid,))
                    total -= size
                    if total <= store.max_bytes:
                        break
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self.written += len(batch)
