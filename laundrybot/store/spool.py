"""The local durable spool: SQLite in WAL mode, written before any reply is sent.

``SpoolDB`` is the synchronous database (schema, migrations, rows) used directly by the CLI.
``Spool`` puts one ``SpoolDB`` behind a writer thread so the event loop never blocks: callers
await ``record(...)``, the thread commits queued rows in one transaction (group commit, so
hundreds of kiosks cost one fsync per batch) and then wakes them. A row SQLite refuses for
itself (it can never be written) is dropped and counted, and its caller told; the writer
thread never dies of one row, and ``watch`` lets the watchdog see it if it dies or sticks all
the same.

What is promised when the spool cannot be written (disk full, read-only, I/O errors):

- Customers keep being answered: a laundromat with nobody in it must not go silent because
  its records cannot be kept. ``record`` raises ``SpoolUnavailable`` (so an escalation is not
  promised to staff: the notify unit reads the spool) and the caller replies anyway.
- Each such row is appended, before the caller hears back, to the fallback journal
  (``fallback``: ``store.fallback``, by default ``/run/laundrybot/spool-fallback.jsonl``):
  one JSON line per row, fsynced. Nothing on a full disk can be written, so it lives on
  another filesystem: /run is RAM, which survives a crash, a watchdog kill or a restart of the
  unit, but not a reboot or power cut; an owner who wants those too points ``store.fallback``
  at another disk. The journal is read back at start, and emptied once its rows are in SQLite
  (rows carry their id: writing one twice keeps one).
- The rows are also kept in memory (``backlog``), at most ``max_backlog`` of them; the
  journal holds the same rows. Rows beyond that are not kept anywhere: they are counted in
  ``dropped`` (exported as ``laundrybot_spool_dropped_rows_total``, and alerted on), never
  silently lost. ``journal_ok`` is False while the journal itself cannot be written: then the
  backlog is in memory only, and a crash loses it (``laundrybot_spool_fallback_up`` says so).
- ``on_change`` is called (from the writer thread, or the event loop's) each time ``backlog``,
  ``dropped``, ``refused`` or ``journal_ok`` may have changed: the metrics follow at once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from laundrybot.health import WorkerWatch
from laundrybot.machines.state import MachineState, MachineStatus

log = logging.getLogger(__name__)
T = TypeVar("T")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Turn:
    """One question and its answer."""

    session: str
    kiosk: str
    question: str
    answer: str
    intent: str
    source: str
    latency_ms: float
    lang: str = "en"
    ts: float = field(default_factory=time.time)
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class Event:
    """Something worth keeping besides turns: escalations, machine changes, errors, restarts."""

    kind: str
    kiosk: str = ""
    session: str = ""
    machine: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)
    id: str = field(default_factory=new_id)


# Each entry migrates from version N to N+1; PRAGMA user_version says where a file stands.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE turns (
        id TEXT PRIMARY KEY, ts REAL NOT NULL, shop TEXT NOT NULL, kiosk TEXT NOT NULL,
        session TEXT NOT NULL, lang TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
        intent TEXT NOT NULL, source TEXT NOT NULL, latency_ms REAL NOT NULL,
        forwarded_at REAL
    );
    CREATE INDEX turns_unforwarded ON turns (ts) WHERE forwarded_at IS NULL;
    CREATE INDEX turns_ts ON turns (ts);
    CREATE TABLE events (
        id TEXT PRIMARY KEY, ts REAL NOT NULL, shop TEXT NOT NULL, kind TEXT NOT NULL,
        kiosk TEXT NOT NULL, session TEXT NOT NULL, machine INTEGER, detail TEXT NOT NULL,
        forwarded_at REAL
    );
    CREATE INDEX events_unforwarded ON events (ts) WHERE forwarded_at IS NULL;
    CREATE INDEX events_kind_ts ON events (kind, ts);
    CREATE TABLE machines (
        number INTEGER PRIMARY KEY, state TEXT NOT NULL, until REAL, updated REAL NOT NULL
    );
    """,
    # 2: staff notifications (laundrybot/notify): one row per event and channel. state is
    # pending, delivered, collapsed (carried by the message of into_id) or expired.
    """
    CREATE TABLE deliveries (
        event_id TEXT NOT NULL, channel TEXT NOT NULL, state TEXT NOT NULL,
        group_key TEXT NOT NULL, into_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL, created REAL NOT NULL, delivered_at REAL,
        last_error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (event_id, channel)
    );
    CREATE INDEX deliveries_due ON deliveries (channel, next_attempt) WHERE state = 'pending';
    CREATE INDEX deliveries_group ON deliveries (channel, group_key, created);
    CREATE INDEX deliveries_into ON deliveries (into_id, channel) WHERE into_id IS NOT NULL;
    CREATE TABLE notify_channels (channel TEXT PRIMARY KEY, added REAL NOT NULL);
    """,
    # 3: where each machine's state came from (mqtt, api, staff); older rows were set by staff.
    """
    ALTER TABLE machines ADD COLUMN source TEXT NOT NULL DEFAULT 'staff';
    """,
)


# Columns the recorder forwards to PostgreSQL, per table.
FORWARD_COLUMNS: dict[str, tuple[str, ...]] = {
    "turns": (
        "id", "ts", "shop", "kiosk", "session", "lang", "question", "answer", "intent",
        "source", "latency_ms",
    ),
    "events": ("id", "ts", "shop", "kind", "kiosk", "session", "machine", "detail"),
}  # fmt: skip
# Seconds one batch may take before the writer counts as stuck: well above SQLite's own lock
# timeout (10 s) plus a slow fsync.
WRITER_STALL_LIMIT = 30.0
# forwarded_at of a row PostgreSQL refused: kept here, no longer retried, not counted pending.
REFUSED = -1.0


class SpoolDB:
    """The spool file: one connection, used from one thread at a time."""

    def __init__(self, path: Path, shop: str) -> None:
        self.path = path
        self.shop = shop
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed row survives a power cut too, not only a crash.
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except BaseException:
            self.conn.close()
            raise

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(
                f"{self.path} has spool schema version {version}, newer than this laundrybot "
                f"({len(MIGRATIONS)}); upgrade laundrybot"
            )
        for number in range(version, len(MIGRATIONS)):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={number + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self.conn.close()

    # -- writes (call inside a transaction, see write()) --------------------------------

    def insert_turn(self, turn: Turn) -> None:
        row = asdict(turn) | {"shop": self.shop}
        self.conn.execute(
            "INSERT OR IGNORE INTO turns (id, ts, shop, kiosk, session, lang, question, answer,"
            " intent, source, latency_ms) VALUES (:id, :ts, :shop, :kiosk, :session, :lang,"
            " :question, :answer, :intent, :source, :latency_ms)",
            row,
        )

    def insert_event(self, event: Event) -> None:
        row = asdict(event) | {"shop": self.shop, "detail": json.dumps(event.detail)}
        self.conn.execute(
            "INSERT OR IGNORE INTO events (id, ts, shop, kind, kiosk, session, machine, detail)"
            " VALUES (:id, :ts, :shop, :kind, :kiosk, :session, :machine, :detail)",
            row,
        )

    def upsert_machine(self, status: MachineStatus) -> None:
        self.conn.execute(
            "INSERT INTO machines (number, state, until, updated, source) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (number) DO UPDATE SET state = excluded.state,"
            " until = excluded.until, updated = excluded.updated, source = excluded.source",
            (status.number, status.state.value, status.until, status.updated, status.source),
        )

    def write(self, rows: Iterable[Turn | Event | MachineStatus]) -> None:
        """Write rows in one transaction: all of them or none."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                if isinstance(row, Turn):
                    self.insert_turn(row)
                elif isinstance(row, Event):
                    self.insert_event(row)
                else:
                    self.upsert_machine(row)
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    # -- reads ----------------------------------------------------------------------------

    def machines(self) -> dict[int, MachineStatus]:
        rows = self.conn.execute("SELECT number, state, until, updated, source FROM machines")
        return {
            number: MachineStatus(number, MachineState(state), until, updated, source)
            for number, state, until, updated, source in rows
        }

    def data_version(self) -> int:
        """Changes when another connection (the CLI) commits: a cheap 'anything new?'."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Rows kept and rows not yet forwarded to PostgreSQL, per table."""
        out = {}
        for table in ("turns", "events"):
            total, pending = self.conn.execute(
                f"SELECT count(*), count(*) FILTER (WHERE forwarded_at IS NULL) FROM {table}"
            ).fetchone()
            out[f"{table}_total"] = total
            out[f"{table}_pending"] = pending
        return out

    def count_turns(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM turns").fetchone()[0])

    def unit_failures(self, since: float) -> list[tuple[str, str, int]]:
        """(unit, result, count) of unit-failure events since ``since`` (systemd OnFailure=)."""
        rows = self.conn.execute(
            "SELECT coalesce(json_extract(detail, '$.unit'), ''),"
            " coalesce(json_extract(detail, '$.result'), 'unknown'), count(*) FROM events"
            " WHERE kind = 'unit-failure' AND ts >= ? GROUP BY 1, 2",
            (since,),
        )
        return [(str(unit), str(result), int(count)) for unit, result, count in rows]

    # -- forwarding (the recorder) and retention (cleanup) -------------------------------

    def pending(self, table: str, limit: int) -> list[dict[str, Any]]:
        """The oldest rows of ``table`` not forwarded yet, at most ``limit`` of them."""
        columns = FORWARD_COLUMNS[table]
        rows = self.conn.execute(
            f"SELECT {', '.join(columns)} FROM {table} WHERE forwarded_at IS NULL"
            " ORDER BY ts LIMIT ?",
            (limit,),
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def pending_count(self, table: str) -> int:
        sql = f"SELECT count(*) FROM {_forwarded_table(table)} WHERE forwarded_at IS NULL"
        return int(self.conn.execute(sql).fetchone()[0])

    def mark_forwarded(self, table: str, ids: Iterable[str], ts: float) -> None:
        """Mark rows forwarded (``ts``) or refused (``REFUSED``), in one short transaction."""
        table = _forwarded_table(table)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(
                f"UPDATE {table} SET forwarded_at = ? WHERE id = ? AND forwarded_at IS NULL",
                ((ts, row_id) for row_id in ids),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def oldest_pending_ts(self) -> float | None:
        """When the oldest row still waiting to be forwarded was written, or None."""
        row = self.conn.execute(
            "SELECT min(ts) FROM (SELECT min(ts) AS ts FROM turns WHERE forwarded_at IS NULL"
            " UNION ALL SELECT min(ts) FROM events WHERE forwarded_at IS NULL)"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def delete_before(
        self, cutoff: float, dry_run: bool = False, chunk: int = 2000
    ) -> dict[str, int]:
        """Retention: remove turns older than ``cutoff`` and the customer's words quoted in
        older events (their kind, time and machine stay for the counts).

        Works in short transactions so the gateway's writes never wait long.
        """
        quoted = "json_extract(detail, '$.question') IS NOT NULL"
        if dry_run:
            turns = self.conn.execute("SELECT count(*) FROM turns WHERE ts < ?", (cutoff,))
            events = self.conn.execute(
                f"SELECT count(*) FROM events WHERE ts < ? AND {quoted}", (cutoff,)
            )
            return {"turns": turns.fetchone()[0], "event_texts": events.fetchone()[0]}
        removed = {"turns": 0, "event_texts": 0}
        for key, sql in (
            (
                "turns",
                "DELETE FROM turns WHERE id IN (SELECT id FROM turns WHERE ts < ? LIMIT ?)",
            ),
            (
                "event_texts",
                "UPDATE events SET detail = json_remove(detail, '$.question') WHERE id IN"
                f" (SELECT id FROM events WHERE ts < ? AND {quoted} LIMIT ?)",
            ),
        ):
            while True:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    count = self.conn.execute(sql, (cutoff, chunk)).rowcount
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                removed[key] += count
                if count < chunk:
                    break
        return removed


def _forwarded_table(table: str) -> str:
    """Only the known table names ever reach the SQL text."""
    if table not in FORWARD_COLUMNS:
        raise ValueError(f"not a forwarded table: {table!r}")
    return table


class SpoolUnavailable(Exception):
    """The spool could not be opened or written; the message says why."""


Row = Turn | Event | MachineStatus


def row_to_json(row: Row) -> str:
    """One line of the fallback journal."""
    if isinstance(row, Turn):
        data = {"row": "turn", **asdict(row)}
    elif isinstance(row, Event):
        data = {"row": "event", **asdict(row)}
    else:
        data = {"row": "machine", **asdict(row), "state": row.state.value}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def row_from_json(line: str) -> Row:
    data = json.loads(line)
    kind = data.pop("row")
    if kind == "turn":
        return Turn(**data)
    if kind == "event":
        return Event(**data)
    if kind == "machine":
        return MachineStatus(
            int(data["number"]), MachineState(data["state"]), data["until"], data["updated"]
        )
    raise ValueError(f"not a spool row: {kind!r}")


class FallbackJournal:
    """Append-only JSON lines, fsynced: the rows acknowledged while SQLite could not take them.

    Used from the writer thread (and, under the spool's lock, from the event loop).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0  # lines appended since the last clear (or found at load)
        self.ok = True
        self.problem = ""

    def load(self) -> list[Row]:
        """The rows a previous process left (a torn last line is skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.error("spool: cannot read the fallback journal %s: %s", self.path, exc)
            return []
        rows: list[Row] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                rows.append(row_from_json(line))
            except (ValueError, TypeError, KeyError) as exc:
                log.error("spool: skipped a broken line of %s: %s", self.path, exc)
        self.rows = len(rows)
        return rows

    def append(self, rows: list[Row]) -> bool:
        """Write and fsync ``rows``; False (and ``problem`` set) if that failed."""
        data = "".join(row_to_json(row) + "\n" for row in rows).encode("utf-8", "replace")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if self.ok:
                log.error("spool: cannot write the fallback journal %s: %s", self.path, exc)
            self.ok, self.problem = False, f"cannot write {self.path}: {exc}"
            return False
        if not self.ok:
            log.info("spool: the fallback journal %s is writable again", self.path)
        self.ok, self.problem = True, ""
        self.rows += len(rows)
        return True

    def clear(self) -> None:
        """Empty it: its rows are in SQLite now."""
        if self.rows == 0 and not self.path.exists():
            return
        try:
            with self.path.open("r+b") as f:
                f.truncate(0)
                os.fsync(f.fileno())
        except FileNotFoundError:
            pass
        except OSError as exc:
            # Left as is: read again at the next start, its rows are written twice (kept once).
            log.warning("spool: cannot empty the fallback journal %s: %s", self.path, exc)
        self.rows = 0


_STOP = object()


@dataclass
class _Job:
    rows: list[Row] | None
    read: Callable[[SpoolDB], Any] | None
    done: Callable[[BaseException | None, Any], None]


class Spool:
    """SpoolDB behind a writer thread; safe to use from the event loop."""

    def __init__(
        self,
        path: Path,
        shop: str,
        on_state: Callable[[bool, str], None] | None = None,
        max_queue: int = 10_000,
        max_backlog: int = 100_000,
        max_batch: int = 500,
        fallback: Path | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.shop = shop
        self._on_state = on_state or (lambda ok, detail: None)
        self._on_change = on_change or (lambda: None)
        self._jobs: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        # Rows that failed to write; retried first on the next batch once the disk is back.
        # Also in the fallback journal (when there is one): see the module's docstring.
        self._backlog: collections.deque[Row] = collections.deque()
        self._max_backlog = max_backlog
        self._backlog_lock = threading.Lock()
        self.journal = FallbackJournal(fallback) if fallback is not None else None
        self.dropped = 0  # rows lost because the backlog overflowed (reported, never silent)
        self.refused = 0  # rows SQLite refused for themselves (never writable), dropped
        self.watch = WorkerWatch("spool writer", WRITER_STALL_LIMIT)
        self._max_batch = max_batch
        self._db: SpoolDB | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ok = False
        self.problem = "not opened yet"

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    @property
    def journal_ok(self) -> bool:
        """False while rows are held in memory only (no journal, or it cannot be written)."""
        if self.journal is None:
            return not self._backlog
        return self.journal.ok

    async def start(self) -> None:
        """Start the writer thread and open the file; a failure leaves the spool degraded."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(target=self._work, name="spool-writer", daemon=True)
        self.watch.attach(self._thread)
        self._thread.start()
        try:
            await self.read(lambda db: None)
        except SpoolUnavailable:
            pass  # already reported through on_state; replies go on without the spool

    async def stop(self) -> None:
        if self._thread is None:
            return
        if self._thread.is_alive():
            self._jobs.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self.watch.detach()
        self._thread = None

    async def record(self, *rows: Row) -> None:
        """Return once the rows are committed; raise SpoolUnavailable if they could not be."""
        await self._submit(list(rows), None)

    async def read(self, reader: Callable[[SpoolDB], T]) -> T:
        result: T = await self._submit(None, reader)
        return result

    async def _submit(
        self,
        rows: list[Row] | None,
        reader: Callable[[SpoolDB], Any] | None,
    ) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def done(error: BaseException | None, result: Any) -> None:
            def settle() -> None:
                if future.done():
                    return
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)

            loop.call_soon_threadsafe(settle)

        if self._thread is None or not self._thread.is_alive():
            # Nobody would ever settle the future; the watchdog restarts the unit meanwhile.
            raise SpoolUnavailable("the spool writer thread is not running")
        try:
            self._jobs.put_nowait(_Job(rows, reader, done))
        except queue.Full:
            if rows:
                # Rare (the writer is far behind): the journal's fsync runs on the loop here.
                self._keep(rows)
            raise SpoolUnavailable("spool queue is full (the disk is too slow)") from None
        return await future

    # -- the writer thread --------------------------------------------------------------

    def _work(self) -> None:
        if self.journal is not None:
            left = self.journal.load()
            if left:
                log.warning(
                    "spool: %d rows from the fallback journal %s, kept while the spool could "
                    "not be written", len(left), self.journal.path,
                )  # fmt: skip
                with self._backlog_lock:
                    room = self._max_backlog - len(self._backlog)
                    self._backlog.extend(left[:room])
                    if len(left) > room:
                        self.dropped += len(left) - room
                self._backlog_changed()
        while True:
            first = self._jobs.get()
            if first is _STOP:
                break
            batch = [first]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop_after = True
                    break
                batch.append(job)
            jobs = [j for j in batch if isinstance(j, _Job)]
            self.watch.busy()
            try:
                self._run_batch(jobs)
            except Exception as exc:
                # A bug here must not leave every later caller waiting for ever: fail this
                # batch's callers by name and go on with the next one.
                log.exception("spool: a batch failed unexpectedly")
                failure = SpoolUnavailable(f"spool writer error: {type(exc).__name__}: {exc}")
                for job in jobs:
                    job.done(failure, None)
            except BaseException:
                # The thread is going: its callers hear it now, the watchdog sees it next.
                for job in jobs:
                    job.done(SpoolUnavailable("the spool writer thread died"), None)
                raise
            finally:
                self.watch.idle()
            if stop_after:
                break
        if self._db is not None:
            self._db.close()
            self._db = None

    def _run_batch(self, batch: list[_Job]) -> None:
        db = self._ensure_open()
        if db is None:
            # One journal write (one fsync) for the whole batch, before anyone hears back.
            self._keep([row for job in batch if job.rows for row in job.rows])
            for job in batch:
                job.done(SpoolUnavailable(self.problem), None)
            return
        rows = [row for job in batch if job.rows for row in job.rows]
        write_error: BaseException | None = None
        refused: set[int] = set()
        if rows or self._backlog:
            write_error, refused = self._write(db, rows)
        for job in batch:
            if job.rows:
                bad = [row for row in job.rows if id(row) in refused]
                if write_error is None and bad:
                    job.done(SpoolUnavailable(f"{len(bad)} row(s) could not be stored"), None)
                else:
                    job.done(write_error, None)
            if job.read is not None:
                try:
                    job.done(None, job.read(db))
                except Exception as exc:  # a failed read is the caller's error, not the spool's
                    job.done(exc, None)

    def _write(self, db: SpoolDB, rows: list[Row]) -> tuple[BaseException | None, set[int]]:
        """Write the backlog and ``rows``: (the error for all callers, ids of refused rows)."""
        with self._backlog_lock:
            kept = list(self._backlog)
        pending = kept + rows
        refused: set[int] = set()
        try:
            db.write(pending)
        except sqlite3.OperationalError as exc:  # disk full, read-only, I/O error, locked
            self._set_state(False, f"cannot write {self.path}: {exc}")
            self._keep(rows)
            return SpoolUnavailable(self.problem), refused
        except (sqlite3.Error, ValueError):
            # A row that can never be written (the schema refuses it, or text SQLite cannot
            # encode) would block every later batch: write row by row and drop only those.
            for index, row in enumerate(pending):
                try:
                    db.write([row])
                except sqlite3.OperationalError as exc:
                    self._set_state(False, f"cannot write {self.path}: {exc}")
                    # The new rows not written yet join the backlog (which has the others).
                    new = {id(r) for r in rows}
                    self._keep([r for r in pending[index:] if id(r) in new])
                    return SpoolUnavailable(self.problem), refused
                except (sqlite3.Error, ValueError) as exc:
                    self.refused += 1
                    refused.add(id(row))
                    log.error("spool: dropped a row that cannot be stored (%s): %r", exc, row)
            if refused:
                self._backlog_changed()
        if kept or (self.journal is not None and self.journal.rows):
            log.info("spool: wrote %d rows kept while it failed", len(kept))
            with self._backlog_lock:
                for _ in kept:
                    self._backlog.popleft()
                if self.journal is not None:
                    self.journal.clear()
                    # Kept meanwhile by the event loop (queue full): they stay in the journal.
                    if self._backlog:
                        self.journal.append(list(self._backlog))
            self._backlog_changed()
        self._set_state(True, "")
        return None, refused

    def _ensure_open(self) -> SpoolDB | None:
        if self._db is None:
            try:
                self._db = SpoolDB(self.path, self.shop)
            except (OSError, sqlite3.Error) as exc:
                self._set_state(False, f"cannot open {self.path}: {exc}")
                return None
            self._set_state(True, "")
        return self._db

    def _keep(self, rows: list[Row]) -> None:
        """Keep rows SQLite did not take: in the fallback journal and in memory, or count them.

        Beyond ``max_backlog`` the newest rows are the ones dropped, so the journal (append
        only) and the backlog hold the same rows.
        """
        with self._backlog_lock:
            room = max(0, self._max_backlog - len(self._backlog))
            kept, lost = rows[:room], len(rows) - room
            if kept and self.journal is not None:
                self.journal.append(kept)
            self._backlog.extend(kept)
            if lost > 0:
                self.dropped += lost
                log.error("spool: backlog full (%d rows), %d rows lost", self._max_backlog, lost)
        self._backlog_changed()

    def _backlog_changed(self) -> None:
        try:
            self._on_change()
        except Exception:
            log.exception("spool: on_change failed")

    def _set_state(self, ok: bool, problem: str) -> None:
        changed = ok != self.ok or problem != self.problem
        self.ok, self.problem = ok, problem
        if changed:
            if ok:
                log.info("spool: writing to %s", self.path)
            else:
                log.error("spool: %s", problem)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._on_state, ok, problem)
