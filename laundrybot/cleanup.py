"""`laundrybot cleanup`: the daily job of laundrybot-cleanup.timer.

A list of tasks, each removing one kind of old data and saying what it removed and how much
space that freed (or, with ``--dry-run``, what it would remove):

- laundrybot's temporary files older than ``cleanup.temp_hours``: everything in
  ``$CACHE_DIRECTORY/tmp`` (the units' TMPDIR), ``.tmp*`` files an interrupted write left in
  the phrase cache and ``.adding-*`` folders an interrupted ``models add`` left;
- the phrase cache beyond ``tts.cache_mb``, least recently used first (the TTS unit refreshes
  a phrase's mtime on every hit);
- debug audio (``$STATE_DIRECTORY/debug-audio``) older than ``cleanup.debug_audio_days``;
- spool rows already forwarded to PostgreSQL and older than ``cleanup.forwarded_days``;
- transcript retention in the spool and in PostgreSQL (``store.retention_days``).

Everything it touches is inside laundrybot's own folders: files are found by name inside them,
symlinks are never followed (a link is removed as a link), and under systemd the unit's sandbox
allows writes nowhere else. A failing task is logged and makes the exit code 1; the others
still run.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from laundrybot.config import Config
from laundrybot.store.spool import REFUSED, SpoolDB

log = logging.getLogger("laundrybot.cleanup")


@dataclass(frozen=True)
class Removed:
    """One line of the cleanup's account: ``count`` of ``what`` from ``where``."""

    where: str
    what: str
    count: int
    # Bytes of disk space this freed (or would free).
    bytes: int = 0


@dataclass(frozen=True)
class Job:
    config: Config
    now: float
    dry_run: bool

    @property
    def retention_cutoff(self) -> float | None:
        """Epoch seconds before which transcripts go; None when kept forever."""
        days = self.config.store.retention_days
        return None if days == 0 else self.now - days * 86400


Task = Callable[[Job], list[Removed]]

# Debug audio lives here, under the state folder (recorded only while debugging is on).
DEBUG_AUDIO = "debug-audio"
# Phrase cache files: a sha256 hex digest and the suffix the TTS unit uses.
PHRASE = re.compile(r"[0-9a-f]{64}\.pcm")


def state_dir() -> Path:
    """laundrybot's state folder: $STATE_DIRECTORY under systemd, else ~/.local/state/..."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "laundrybot"


def cache_dir() -> Path:
    """laundrybot's cache folder: $CACHE_DIRECTORY under systemd, else ~/.cache/laundrybot."""
    cache = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if cache:
        return Path(cache)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "laundrybot"


def temp_dir() -> Path:
    """laundrybot's temporary files: the units run with TMPDIR set to this folder."""
    return cache_dir() / "tmp"


# -- files ---------------------------------------------------------------------------------


def _entries(folder: Path) -> Iterator[os.DirEntry[str]]:
    """The entries of ``folder`` (none if it is missing or is a symlink)."""
    try:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            return
        with os.scandir(folder) as it:
            yield from list(it)
    except FileNotFoundError:
        return


def _tree_stats(entry: os.DirEntry[str]) -> tuple[float, int]:
    """Newest mtime and total size of an entry; a folder counts everything inside it."""
    st = entry.stat(follow_symlinks=False)
    newest, size = st.st_mtime, st.st_size if not entry.is_dir(follow_symlinks=False) else 0
    if entry.is_dir(follow_symlinks=False):
        for root, dirs, files in os.walk(entry.path):  # os.walk never follows links here
            for name in dirs + files:
                try:
                    sub = os.lstat(os.path.join(root, name))
                except OSError:
                    continue
                newest = max(newest, sub.st_mtime)
                if not stat.S_ISDIR(sub.st_mode):
                    size += sub.st_size
    return newest, size


def _remove(entry: os.DirEntry[str]) -> None:
    if entry.is_dir(follow_symlinks=False):
        shutil.rmtree(entry.path)
    else:
        os.unlink(entry.path)


def _remove_old(job: Job, entries: Iterator[os.DirEntry[str]], cutoff: float) -> tuple[int, int]:
    """Remove entries whose newest content is older than ``cutoff``; (count, bytes)."""
    count = freed = 0
    for entry in entries:
        try:
            newest, size = _tree_stats(entry)
            if newest >= cutoff:
                continue
            if not job.dry_run:
                _remove(entry)
        except FileNotFoundError:
            continue  # gone meanwhile
        count += 1
        freed += size
    return count, freed


def temp_files(job: Job) -> list[Removed]:
    cutoff = job.now - job.config.cleanup.temp_hours * 3600
    tmp = temp_dir()
    phrases = job.config.tts_cache_path
    models = state_dir() / "models"
    found = [
        (tmp, "temporary files", _entries(tmp)),
        (
            phrases,
            "unfinished phrase cache files",
            (e for e in _entries(phrases) if e.name.startswith(".tmp")),
        ),
        (
            models,
            "unfinished model installs",
            (e for e in _entries(models) if e.name.startswith(".adding-")),
        ),
    ]
    out = []
    for folder, what, entries in found:
        count, freed = _remove_old(job, entries, cutoff)
        if count or folder == tmp:
            out.append(Removed(str(folder), what, count, freed))
    return out


def phrase_cache(job: Job) -> list[Removed]:
    """Least recently used phrases (oldest mtime) until the cache fits under tts.cache_mb."""
    folder = job.config.tts_cache_path
    cap = job.config.tts.cache_mb * 2**20
    phrases = []
    for entry in _entries(folder):
        if PHRASE.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            phrases.append((st.st_mtime_ns, entry.name, st.st_size, entry))
    total = sum(size for _, _, size, _ in phrases)
    count = freed = 0
    for _, _, size, entry in sorted(phrases):
        if total <= cap:
            break
        if not job.dry_run:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
        total -= size
        count += 1
        freed += size
    return [Removed(f"phrase cache {folder}", "phrases beyond the size cap", count, freed)]


def debug_audio(job: Job) -> list[Removed]:
    folder = state_dir() / DEBUG_AUDIO
    cutoff = job.now - job.config.cleanup.debug_audio_days * 86400
    count, freed = _remove_old(job, _entries(folder), cutoff)
    return [Removed(str(folder), "debug audio files", count, freed)]


# -- the spool -------------------------------------------------------------------------------


def spool_forwarded(job: Job) -> list[Removed]:
    """Rows PostgreSQL already holds, older than cleanup.forwarded_days (refused rows stay)."""
    days = job.config.cleanup.forwarded_days
    path = job.config.spool_path
    if days == 0 or not path.exists():
        return []
    cutoff = job.now - days * 86400
    db = SpoolDB(path, job.config.shop_id)
    try:
        before = _free_bytes(db)
        counts = {}
        for table in ("turns", "events"):
            where = f"ts < ? AND forwarded_at IS NOT NULL AND forwarded_at != {REFUSED}"
            if job.dry_run:
                sql = f"SELECT count(*) FROM {table} WHERE {where}"
                counts[table] = int(db.conn.execute(sql, (cutoff,)).fetchone()[0])
                continue
            counts[table] = 0
            sql = f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} LIMIT ?)"
            while True:  # short transactions: the gateway's writes never wait long
                db.conn.execute("BEGIN IMMEDIATE")
                try:
                    removed = db.conn.execute(sql, (cutoff, 2000)).rowcount
                    db.conn.execute("COMMIT")
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
                counts[table] += removed
                if removed < 2000:
                    break
        freed = _free_bytes(db) - before
    finally:
        db.close()
    where_ = f"spool {path}"
    # SQLite reuses the freed pages for new rows; the file itself does not shrink.
    return [
        Removed(where_, "turns already forwarded to PostgreSQL", counts["turns"], max(0, freed)),
        Removed(where_, "events already forwarded to PostgreSQL", counts["events"]),
    ]


def _free_bytes(db: SpoolDB) -> int:
    pages = db.conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(size)


def spool_retention(job: Job) -> list[Removed]:
    cutoff = job.retention_cutoff
    path = job.config.spool_path
    if cutoff is None or not path.exists():
        return []
    db = SpoolDB(path, job.config.shop_id)
    try:
        counts = db.delete_before(cutoff, dry_run=job.dry_run)
    finally:
        db.close()
    where = f"spool {path}"
    return [
        Removed(where, "transcripts (turns)", counts["turns"]),
        Removed(where, "customer questions quoted in events", counts["event_texts"]),
    ]


def postgres_retention(job: Job) -> list[Removed]:
    """This shop's rows only: in a chain each shop keeps its own retention."""
    import psycopg

    from laundrybot.store import postgres

    cutoff = job.retention_cutoff
    target = postgres.target_from_config(job.config)
    if cutoff is None or target is None:
        return []
    params = {"cutoff": cutoff, "shop": target.shop}
    old = "ts < to_timestamp(%(cutoff)s) AND shop = %(shop)s"
    quoted = f"{old} AND detail ? 'question'"
    if job.dry_run:
        turns_sql = f"SELECT count(*) FROM turns WHERE {old}"
        events_sql = f"SELECT count(*) FROM events WHERE {quoted}"
    else:
        turns_sql = (
            f"WITH gone AS (DELETE FROM turns WHERE {old} RETURNING 1) SELECT count(*) FROM gone"
        )
        events_sql = (
            f"WITH gone AS (UPDATE events SET detail = detail - 'question' WHERE {quoted}"
            " RETURNING 1) SELECT count(*) FROM gone"
        )

    async def run() -> tuple[int, int]:
        async with postgres.connect(target) as conn, conn.transaction():
            turns = await (await conn.execute(turns_sql, params)).fetchone()
            events = await (await conn.execute(events_sql, params)).fetchone()
        return (turns[0] if turns else 0), (events[0] if events else 0)

    try:
        turns, events = asyncio.run(run())
    except psycopg.Error as exc:
        raise postgres.DatabaseError(f"{target.shown}: {target.scrub(exc)}") from None
    where = f"PostgreSQL {target.shown}"
    return [
        Removed(where, "transcripts (turns)", turns),
        Removed(where, "customer questions quoted in events", events),
    ]


TASKS: list[tuple[str, Task]] = [
    ("temporary files", temp_files),
    ("phrase cache", phrase_cache),
    ("debug audio", debug_audio),
    ("forwarded spool rows", spool_forwarded),
    ("spool retention", spool_retention),
    ("PostgreSQL retention", postgres_retention),
]


def _size(n: int) -> str:
    if n < 2**20:
        return f"{n / 1024:.1f} KB"
    return f"{n / 2**20:.1f} MB"


def run_cleanup(config: Config, dry_run: bool = False, now: float | None = None) -> int:
    """Run every task; 0 when all succeeded, 1 when one failed (the timer tries again)."""
    job = Job(config, time.time() if now is None else now, dry_run)
    verb = "would remove" if dry_run else "removed"

    def say(text: str, *args: object) -> None:
        # A dry run is asked for by a person: its list is the output, plain lines on stdout.
        if dry_run:
            print(text % args)
        else:
            log.info(text, *args)

    cutoff = job.retention_cutoff
    if cutoff is None:
        say("transcripts are kept forever (store.retention_days is 0)")
    else:
        when = datetime.datetime.fromtimestamp(cutoff).strftime("%Y-%m-%d %H:%M")
        say("transcripts older than %d days (before %s) go", config.store.retention_days, when)
    failed = 0
    items = freed = 0
    for name, task in TASKS:
        try:
            removed = task(job)
        except Exception as exc:
            failed += 1
            log.error("%s failed: %s", name, exc)
            continue
        for item in removed:
            space = f" ({_size(item.bytes)})" if item.bytes else ""
            say("%s: %s %d %s%s", item.where, verb, item.count, item.what, space)
            items += item.count
            freed += item.bytes
    say(
        "cleanup %s: %s %d items, %s %s%s",
        "dry run" if dry_run else "done",
        verb,
        items,
        "would free" if dry_run else "freed",
        _size(freed),
        f"; {failed} task(s) failed" if failed else "",
    )
    return 1 if failed else 0


def cleanup_command(config: Config, dry_run: bool) -> int:
    """`laundrybot cleanup`: log to stderr (journald under the timer) and run the tasks."""
    if not logging.getLogger().handlers:
        from laundrybot.runner import setup_logging

        setup_logging(config.log_level)
    return run_cleanup(config, dry_run)
