"""Delivery state in the spool (table ``deliveries``): one row per event and channel.

Called in the notify unit's spool thread only (SQLite connections belong to one thread).

- ``scan`` finds notifying events that a channel has no row for yet and adds one: ``pending``
  and due now; or, when a message about the same problem (group key) went out on that channel
  within ``repeat_window``, ``pending`` but held until the window ends; or, when a pending one
  for the same problem waits already, ``collapsed`` into it (it goes out as one message with a
  count). A channel only gets events from shortly before it was first configured on.
- ``due`` hands out pending rows whose time has come; ``delivered`` and ``failed`` record an
  attempt's result (``failed`` sets the next attempt, exponential backoff).
- ``expire`` gives up rows older than ``give_up_hours`` (counted, logged, in the summary).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from laundrybot.config import NotifyConfig
from laundrybot.notify.message import EVENT_KINDS, classify, group_key
from laundrybot.store.spool import SpoolDB

PENDING, DELIVERED, COLLAPSED, EXPIRED, IGNORED = (
    "pending",
    "delivered",
    "collapsed",
    "expired",
    "ignored",
)
# A channel also gets events from this many seconds before it was first configured.
ADDED_GRACE = 60.0
SCAN_LIMIT = 500


@contextlib.contextmanager
def transaction(db: SpoolDB) -> Iterator[None]:
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


@dataclass(frozen=True)
class Due:
    """A pending delivery whose time has come, with its event and what collapsed into it."""

    channel: str
    event: dict[str, Any]
    category: str
    kind: str
    attempts: int
    also: list[tuple[str, float]]  # (event id, ts) of the repeats it carries


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("id", "ts", "shop", "kind", "kiosk", "session", "machine", "detail")
    event = dict(zip(keys, row, strict=True))
    try:
        event["detail"] = json.loads(event["detail"])
    except (TypeError, ValueError):
        event["detail"] = {}
    if not isinstance(event["detail"], dict):
        event["detail"] = {}
    return event


EVENT_COLUMNS = "e.id, e.ts, e.shop, e.kind, e.kiosk, e.session, e.machine, e.detail"


def register_channels(db: SpoolDB, channels: list[str], now: float) -> dict[str, float]:
    """When each channel was first configured (recorded now for new ones)."""
    with transaction(db):
        db.conn.executemany(
            "INSERT OR IGNORE INTO notify_channels (channel, added) VALUES (?, ?)",
            [(c, now) for c in channels],
        )
    rows = db.conn.execute("SELECT channel, added FROM notify_channels").fetchall()
    return {c: a for c, a in rows if c in channels}


def scan(
    db: SpoolDB, added: Mapping[str, float], config: NotifyConfig, now: float
) -> list[tuple[str, str, str]]:
    """Add rows for new notifying events; return (event id, channel, state) of those added."""
    made: list[tuple[str, str, str]] = []
    oldest = now - config.give_up_hours * 3600
    marks = ",".join("?" * len(EVENT_KINDS))
    for channel, since in added.items():
        rows = db.conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM events e WHERE e.kind IN ({marks}) AND e.ts >= ?"
            " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id"
            " AND d.channel = ?) ORDER BY e.ts LIMIT ?",
            (*EVENT_KINDS, max(since - ADDED_GRACE, oldest), channel, SCAN_LIMIT),
        ).fetchall()
        if not rows:
            continue
        with transaction(db):
            for row in rows:
                event = _event(row)
                made.append((event["id"], channel, _add(db, channel, event, config, now)))
    return made


def _add(db: SpoolDB, channel: str, event: dict[str, Any], config: NotifyConfig, now: float) -> str:
    what = classify(event["kind"], event["detail"], config)
    if what is None:
        _insert(db, event["id"], channel, IGNORED, "", None, now, now)
        return IGNORED
    category, kind = what
    key = group_key(category, kind, event["machine"], event["kiosk"], event["detail"])
    window = config.repeat_window
    if key and window > 0:
        waiting = db.conn.execute(
            "SELECT event_id FROM deliveries WHERE channel = ? AND group_key = ?"
            " AND state = 'pending' ORDER BY created LIMIT 1",
            (channel, key),
        ).fetchone()
        if waiting is not None:
            _insert(db, event["id"], channel, COLLAPSED, key, waiting[0], now, now)
            return COLLAPSED
        last = db.conn.execute(
            "SELECT max(delivered_at) FROM deliveries WHERE channel = ? AND group_key = ?"
            " AND state = 'delivered' AND delivered_at > ?",
            (channel, key, now - window),
        ).fetchone()[0]
        if last is not None:
            _insert(db, event["id"], channel, PENDING, key, None, last + window, now)
            return "held"
    _insert(db, event["id"], channel, PENDING, key, None, now, now)
    return PENDING


def _insert(
    db: SpoolDB,
    event_id: str,
    channel: str,
    state: str,
    key: str,
    into: str | None,
    next_attempt: float,
    now: float,
) -> None:
    db.conn.execute(
        "INSERT OR IGNORE INTO deliveries (event_id, channel, state, group_key, into_id,"
        " next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (event_id, channel, state, key, into, next_attempt, now),
    )


def due(
    db: SpoolDB,
    channel: str,
    config: NotifyConfig,
    now: float,
    limit: int,
    busy: set[str],
) -> list[Due]:
    """Pending rows of ``channel`` due now, except those with an attempt in flight."""
    rows = db.conn.execute(
        f"SELECT {EVENT_COLUMNS}, d.attempts, d.next_attempt FROM deliveries d"
        " JOIN events e ON e.id = d.event_id WHERE d.channel = ? AND d.state = 'pending'"
        " AND d.next_attempt <= ? ORDER BY d.next_attempt LIMIT ?",
        (channel, now, limit + len(busy)),
    ).fetchall()
    out: list[Due] = []
    for row in rows:
        event = _event(row[:8])
        if event["id"] in busy:
            continue
        what = classify(event["kind"], event["detail"], config)
        if what is None:  # no longer wanted (the configuration changed): let it go
            with transaction(db):
                db.conn.execute(
                    "UPDATE deliveries SET state = 'ignored' WHERE event_id = ? AND channel = ?",
                    (event["id"], channel),
                )
            continue
        also = db.conn.execute(
            "SELECT e.id, e.ts FROM deliveries d JOIN events e ON e.id = d.event_id"
            " WHERE d.into_id = ? AND d.channel = ? AND d.delivered_at IS NULL"
            " AND d.state = 'collapsed' ORDER BY e.ts",
            (event["id"], channel),
        ).fetchall()
        out.append(Due(channel, event, what[0], what[1], row[8], [(i, t) for i, t in also]))
        if len(out) >= limit:
            break
    return out


def delivered(
    db: SpoolDB, channel: str, event_id: str, carried: list[str], now: float, window: float
) -> None:
    """The channel accepted the message of ``event_id`` (which carried ``carried``)."""
    with transaction(db):
        db.conn.execute(
            "UPDATE deliveries SET state = 'delivered', delivered_at = ?, attempts = attempts + 1,"
            " last_error = '' WHERE event_id = ? AND channel = ?",
            (now, event_id, channel),
        )
        db.conn.executemany(
            "UPDATE deliveries SET delivered_at = ? WHERE event_id = ? AND channel = ?",
            [(now, i, channel) for i in carried],
        )
        # Repeats that joined while the message was on its way were not in it: the first of
        # them leads a new message at the end of the window, the others join it.
        left = db.conn.execute(
            "SELECT event_id FROM deliveries WHERE into_id = ? AND channel = ?"
            " AND delivered_at IS NULL AND state = 'collapsed' ORDER BY created, event_id",
            (event_id, channel),
        ).fetchall()
        if left:
            leader = left[0][0]
            db.conn.execute(
                "UPDATE deliveries SET state = 'pending', into_id = NULL, next_attempt = ?"
                " WHERE event_id = ? AND channel = ?",
                (now + window, leader, channel),
            )
            db.conn.executemany(
                "UPDATE deliveries SET into_id = ? WHERE event_id = ? AND channel = ?",
                [(leader, i, channel) for (i,) in left[1:]],
            )


def failed(db: SpoolDB, channel: str, event_id: str, error: str, next_attempt: float) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, next_attempt = ?"
            " WHERE event_id = ? AND channel = ? AND state = 'pending'",
            (error[:500], next_attempt, event_id, channel),
        )


def expire(db: SpoolDB, give_up_hours: float, now: float) -> list[tuple[str, str, str]]:
    """Give up pending rows older than the limit; return (event id, channel, last error)."""
    cutoff = now - give_up_hours * 3600
    rows = db.conn.execute(
        "SELECT event_id, channel, last_error FROM deliveries"
        " WHERE state = 'pending' AND created < ?",
        (cutoff,),
    ).fetchall()
    if rows:
        with transaction(db):
            for event_id, channel, _ in rows:
                db.conn.execute(
                    "UPDATE deliveries SET state = 'expired' WHERE (event_id = ? OR into_id = ?)"
                    " AND channel = ? AND state IN ('pending', 'collapsed')"
                    " AND delivered_at IS NULL",
                    (event_id, event_id, channel),
                )
    return [tuple(r) for r in rows]


def outcome(db: SpoolDB, event_id: str, now: float) -> tuple[str, dict[str, str]]:
    """What happened to one event, over all channels, and per channel.

    ``accepted``: a channel took a message carrying it. ``already``: none yet, but a message
    about the same problem went out on a channel within the repeat window (it is held for the
    next one). ``pending``: still trying. ``expired``: given up. ``ignored``: not a
    notification. ``unknown``: no row (not scanned yet).
    """
    rows = db.conn.execute(
        "SELECT d.channel, d.state, d.delivered_at, d.attempts, d.next_attempt, c.state,"
        " c.attempts, c.next_attempt FROM deliveries d LEFT JOIN deliveries c"
        " ON c.event_id = d.into_id AND c.channel = d.channel WHERE d.event_id = ?",
        (event_id,),
    ).fetchall()
    per: dict[str, str] = {}
    for channel, state, delivered_at, attempts, next_at, c_state, c_attempts, c_next in rows:
        if delivered_at is not None:
            per[channel] = "accepted"
        elif state == IGNORED:
            per[channel] = "ignored"
        elif state == EXPIRED:
            per[channel] = "expired"
        elif (state == COLLAPSED and c_state == PENDING and c_attempts == 0 and c_next > now) or (
            state == PENDING and attempts == 0 and next_at > now
        ):
            # Held: a message about the same problem went out within the repeat window.
            per[channel] = "already"
        else:
            per[channel] = "pending"
    states = set(per.values())
    for result in ("accepted", "already", "pending", "expired"):
        if result in states:
            return result, per
    return ("ignored" if states else "unknown"), per


def backlog(db: SpoolDB, channels: list[str]) -> dict[str, tuple[int, float | None, str]]:
    """Per channel: pending rows, when the oldest was made, the last error seen."""
    out: dict[str, tuple[int, float | None, str]] = {c: (0, None, "") for c in channels}
    rows = db.conn.execute(
        "SELECT channel, count(*), min(created), max(last_error) FROM deliveries"
        " WHERE state = 'pending' GROUP BY channel"
    ).fetchall()
    for channel, count, oldest, error in rows:
        if channel in out:
            out[channel] = (count, oldest, error or "")
    return out


def summary_figures(db: SpoolDB, since: float) -> dict[str, Any]:
    """What the daily summary says about the time since ``since``."""
    turns = db.conn.execute("SELECT count(*) FROM turns WHERE ts >= ?", (since,)).fetchone()[0]
    escalations = dict(
        db.conn.execute(
            "SELECT json_extract(detail, '$.reason'), count(*) FROM events"
            " WHERE kind = 'escalation' AND ts >= ? GROUP BY 1",
            (since,),
        ).fetchall()
    )
    failures = db.conn.execute(
        "SELECT count(*) FROM events WHERE kind = 'unit-failure' AND ts >= ?", (since,)
    ).fetchone()[0]
    states = dict(
        db.conn.execute(
            "SELECT state, count(*) FROM deliveries WHERE created >= ? GROUP BY state", (since,)
        ).fetchall()
    )
    return {
        "turns": turns,
        "escalations": {str(k): v for k, v in escalations.items()},
        "unit_failures": failures,
        "notifications": {k: states.get(k, 0) for k in (DELIVERED, COLLAPSED, PENDING, EXPIRED)},
    }


def ensure_event(db: SpoolDB, event: Any) -> bool:
    """Write ``event`` unless its id is there already; True when written."""
    if db.conn.execute("SELECT 1 FROM events WHERE id = ?", (event.id,)).fetchone():
        return False
    db.write([event])
    return True
