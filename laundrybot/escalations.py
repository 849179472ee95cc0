"""`laundrybot escalations list|resolve`: the customers' reports, open until staff close them.

An ``escalation`` event (the gateway, when a customer reports a problem) is open until an
``escalation-resolved`` event names it (detail ``{escalation, note, who}``); an
``escalation-updated`` event (detail ``{escalation, machine}``) adds the machine a customer
named after the report. All three live in the spool, so the recorder forwards them to
PostgreSQL like every other event, and the notify unit tells the staff of an update.

``resolve`` checks and writes in one transaction: two owners resolving the same report at once
get one resolution, and the second hears it was resolved already.
"""

from __future__ import annotations

import datetime
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from laundrybot.config import Config
from laundrybot.store.spool import Event, SpoolDB

ESCALATION = "escalation"
RESOLVED = "escalation-resolved"
UPDATED = "escalation-updated"
# The shortest id prefix `resolve` accepts: the first block of a UUID is 8 hex digits, and
# fewer than 4 would match half the list in a busy week.
MIN_PREFIX = 4
_PREFIX = re.compile(r"[0-9a-f-]+")


@dataclass(frozen=True)
class Escalation:
    id: str
    ts: float
    kiosk: str
    machine: int | None  # the report's, or the last one a follow-up named
    reason: str
    question: str
    resolved_at: float | None = None
    resolved_by: str = ""
    note: str = ""

    @property
    def state(self) -> str:
        return "open" if self.resolved_at is None else "resolved"

    def open_for(self, now: float) -> float:
        """Seconds it has been open (until now, or until it was resolved)."""
        end = now if self.resolved_at is None else self.resolved_at
        return max(0.0, end - self.ts)


class NotFound(Exception):
    """No escalation has that id (the message says which)."""


class Ambiguous(Exception):
    """The id prefix names several escalations, or is no id at all (a usage error)."""


class AlreadyResolved(Exception):
    def __init__(self, escalation: Escalation) -> None:
        super().__init__(escalation.id)
        self.escalation = escalation


def _detail(text: str) -> dict[str, Any]:
    try:
        detail = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return detail if isinstance(detail, dict) else {}


def escalations(db: SpoolDB, open_only: bool = False) -> list[Escalation]:
    """Every escalation in the spool, oldest first, with its resolution and named machine."""
    resolutions: dict[str, tuple[float, str, str]] = {}
    machines: dict[str, int] = {}
    rows = db.conn.execute(
        "SELECT kind, ts, machine, detail FROM events WHERE kind IN (?, ?) ORDER BY ts",
        (RESOLVED, UPDATED),
    )
    for kind, ts, machine, text in rows:
        detail = _detail(text)
        target = str(detail.get("escalation", ""))
        if kind == RESOLVED:
            # The first resolution counts; resolve() never writes a second one.
            resolutions.setdefault(
                target, (ts, str(detail.get("who", "")), str(detail.get("note", "")))
            )
        else:
            named = detail.get("machine", machine)
            if isinstance(named, int) and not isinstance(named, bool):
                machines[target] = named
    found = []
    rows = db.conn.execute(
        "SELECT id, ts, kiosk, machine, detail FROM events WHERE kind = ? ORDER BY ts, id",
        (ESCALATION,),
    )
    for event_id, ts, kiosk, machine, text in rows:
        detail = _detail(text)
        resolved_at, who, note = resolutions.get(event_id, (None, "", ""))
        if open_only and resolved_at is not None:
            continue
        found.append(
            Escalation(
                id=event_id,
                ts=ts,
                kiosk=kiosk,
                machine=machines.get(event_id, machine),
                reason=str(detail.get("reason", "")),
                question=str(detail.get("question", "")),
                resolved_at=resolved_at,
                resolved_by=who,
                note=note,
            )
        )
    return found


def find(db: SpoolDB, prefix: str) -> Escalation:
    """The one escalation whose id starts with ``prefix`` (case and spaces do not matter)."""
    wanted = prefix.strip().lower()
    if not _PREFIX.fullmatch(wanted) or len(wanted.replace("-", "")) < MIN_PREFIX:
        raise Ambiguous(
            f"{prefix!r} is not an escalation id: give at least {MIN_PREFIX} of its first"
            " characters, as `laundrybot escalations list` shows them"
        )
    matches = [e for e in escalations(db) if e.id.lower().startswith(wanted)]
    if not matches:
        raise NotFound(f"no escalation has an id starting with {prefix.strip()!r}")
    if len(matches) > 1:
        ids = ", ".join(e.id for e in matches[:5])
        raise Ambiguous(
            f"{prefix.strip()!r} starts {len(matches)} escalation ids ({ids}): give more of it"
        )
    return matches[0]


def who() -> str:
    """Who resolves: the person behind sudo, else the login name."""
    name = os.environ.get("SUDO_USER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def resolve(db: SpoolDB, prefix: str, note: str, by: str) -> tuple[Escalation, Event]:
    """Write the ``escalation-resolved`` event of the escalation ``prefix`` names.

    Raises NotFound, Ambiguous or AlreadyResolved; the check and the write are one
    transaction, so a resolution racing this one is seen, never doubled.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        escalation = find(db, prefix)
        if escalation.resolved_at is not None:
            raise AlreadyResolved(escalation)
        event = Event(
            kind=RESOLVED,
            kiosk=escalation.kiosk,
            machine=escalation.machine,
            detail={"escalation": escalation.id, "note": note, "who": by},
        )
        db.insert_event(event)
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    return escalation, event


# -- words ------------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """'40 s', '12 min', '3 h 05 min', '2 d 4 h'."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _when(ts: float, tz: datetime.tzinfo | None) -> str:
    return datetime.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def machine_name(machine: int | None, names: Mapping[int, str]) -> str:
    if machine is None:
        return "-"
    return names.get(machine, f"machine {machine}")


def format_list(
    found: list[Escalation],
    now: float,
    tz: datetime.tzinfo | None,
    names: Mapping[int, str],
) -> str:
    if not found:
        return "no escalations"
    rows = [("id", "when", "kiosk", "machine", "reason", "state", "open for")]
    for e in found:
        rows.append(
            (
                e.id[:8],
                _when(e.ts, tz),
                e.kiosk or "-",
                machine_name(e.machine, names),
                e.reason or "?",
                e.state,
                duration(e.open_for(now)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def list_json(
    found: list[Escalation], now: float, tz: datetime.tzinfo | None, names: Mapping[int, str]
) -> str:
    out = []
    for e in found:
        item = asdict(e)
        item["state"] = e.state
        item["time"] = datetime.datetime.fromtimestamp(e.ts, tz).isoformat(timespec="seconds")
        item["machine_name"] = machine_name(e.machine, names) if e.machine is not None else None
        item["open_seconds"] = round(e.open_for(now), 1)
        out.append(item)
    return json.dumps(out, indent=2)


# -- the commands -----------------------------------------------------------------------------


def _shop(config: Config) -> tuple[datetime.tzinfo | None, dict[int, str], str]:
    """The shop's time zone and machine names from the knowledge file; a problem, if any."""
    from zoneinfo import ZoneInfo

    from laundrybot.dialog.knowledge import load_knowledge

    try:
        knowledge = load_knowledge(config.knowledge_path)
        tz: datetime.tzinfo | None = ZoneInfo(knowledge.timezone)
    except Exception as exc:  # the list still helps without it
        return None, {}, f"shop.timezone unknown ({exc}): times are this computer's"
    return tz, {m.number: f"{m.kind} {m.number}" for m in knowledge.machines}, ""


def list_command(config: Config, open_only: bool = False, as_json: bool = False) -> int:
    path = config.spool_path
    found: list[Escalation] = []
    if path.exists():
        db = SpoolDB(path, config.shop_id)
        try:
            found = escalations(db, open_only)
        finally:
            db.close()
    tz, names, problem = _shop(config)
    now = time.time()
    if as_json:
        print(list_json(found, now, tz, names))
        return 0
    if problem:
        print(f"note: {problem}", file=sys.stderr)
    if not found and open_only:
        print("no open escalations")
        return 0
    print(format_list(found, now, tz, names))
    return 0


def resolve_command(config: Config, prefix: str, note: str) -> int:
    path = config.spool_path
    if not path.exists():
        print(f"laundrybot: no escalations yet ({path} does not exist)", file=sys.stderr)
        return 1
    db = SpoolDB(path, config.shop_id)
    try:
        escalation, _ = resolve(db, prefix, note, who())
    except Ambiguous as exc:
        print(f"laundrybot: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"laundrybot: {exc}", file=sys.stderr)
        return 1
    except AlreadyResolved as exc:
        done = exc.escalation
        by = f" by {done.resolved_by}" if done.resolved_by else ""
        tz, _, _ = _shop(config)
        when = _when(done.resolved_at or 0.0, tz)
        print(
            f"laundrybot: escalation {done.id} was resolved already{by} at {when}",
            file=sys.stderr,
        )
        return 1
    finally:
        db.close()
    tz, names, _ = _shop(config)
    opened = duration(time.time() - escalation.ts)
    print(
        f"resolved escalation {escalation.id} ({escalation.reason or '?'}, kiosk "
        f"{escalation.kiosk or '-'}, {machine_name(escalation.machine, names)}, reported "
        f"{_when(escalation.ts, tz)}, open {opened})"
    )
    return 0
