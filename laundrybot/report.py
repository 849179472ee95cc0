"""`laundrybot report`: what customers asked, what went unanswered, when staff were needed.

Read from PostgreSQL when one is configured (this shop, or every shop of the chain), else from
the spool, which is then the store. Both give the same ``Report``; ``format_report`` words it.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from laundrybot.config import Config
from laundrybot.store.spool import SpoolDB

TOP = 10
DEFAULT_SINCE = "7d"
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """'30m', '24h', '7d', '2w', a date ('2024-05-01', local midnight) or a local date and
    time ('2024-05-01 08:00') -> epoch seconds."""
    now = time.time() if now is None else now
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*", text)
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        when = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since: expected a duration such as 24h, 7d or 2w, or a date such as "
            f"2024-05-01 or '2024-05-01 08:00', got {text!r}"
        ) from None
    return when.timestamp()  # a naive datetime is local time


@dataclass(frozen=True)
class OpenEscalation:
    ts: float
    shop: str
    kiosk: str
    machine: int | None
    reason: str
    question: str


@dataclass
class Report:
    source: str
    shop: str | None  # None: every shop in the database
    since: float
    until: float
    turns: int = 0
    # Turns per epoch hour (hour start, epoch seconds).
    hourly: dict[int, int] = field(default_factory=dict)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    unanswered_total: int = 0
    unanswered: list[tuple[str, int]] = field(default_factory=list)
    escalations: list[tuple[str, int]] = field(default_factory=list)
    open_escalations: list[OpenEscalation] = field(default_factory=list)
    open_total: int = 0
    restarts: int = 0
    # Crashes, hangs and give-ups systemd recorded (record-failure): one per failure.
    unit_failures: int = 0
    errors: int = 0
    machine_changes: int = 0
    shops: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def escalations_total(self) -> int:
        return sum(n for _, n in self.escalations)

    def busiest_hours(self, limit: int = 5) -> list[tuple[int, int]]:
        """(local hour of day, turns), busiest first."""
        by_hour: Counter[int] = Counter()
        for start, count in self.hourly.items():
            by_hour[datetime.datetime.fromtimestamp(start).hour] += count
        return sorted(by_hour.items(), key=lambda item: (-item[1], item[0]))[:limit]


# -- from the spool ------------------------------------------------------------------------


def from_spool(db: SpoolDB, since: float, until: float) -> Report:
    report = Report(f"the spool ({db.path})", db.shop, since, until)
    span = (since, until)
    q = db.conn.execute
    turns = "FROM turns WHERE ts >= ? AND ts < ?"
    report.turns = q(f"SELECT count(*) {turns}", span).fetchone()[0]
    report.hourly = dict(
        q(f"SELECT CAST(ts / 3600 AS INTEGER) * 3600, count(*) {turns} GROUP BY 1", span).fetchall()
    )
    report.top_intents = q(
        f"SELECT intent, count(*) AS n {turns} GROUP BY intent ORDER BY n DESC, intent LIMIT ?",
        (*span, TOP),
    ).fetchall()
    report.unanswered_total = q(
        f"SELECT count(*) {turns} AND intent = 'fallback'", span
    ).fetchone()[0]
    report.unanswered = q(
        f"SELECT lower(trim(question)) AS text, count(*) AS n {turns} AND intent = 'fallback'"
        " GROUP BY text ORDER BY n DESC, max(ts) DESC LIMIT ?",
        (*span, TOP),
    ).fetchall()
    events = "FROM events WHERE ts >= ? AND ts < ?"
    report.escalations = q(
        "SELECT coalesce(json_extract(detail, '$.reason'), '?') AS reason, count(*) AS n"
        f" {events} AND kind = 'escalation' GROUP BY reason ORDER BY n DESC, reason",
        span,
    ).fetchall()
    resolved = (
        "id NOT IN (SELECT json_extract(detail, '$.escalation') FROM events"
        " WHERE kind = 'escalation-resolved' AND json_extract(detail, '$.escalation') IS NOT NULL)"
    )
    report.open_total = q(
        f"SELECT count(*) {events} AND kind = 'escalation' AND {resolved}", span
    ).fetchone()[0]
    rows = q(
        "SELECT ts, shop, kiosk, machine, coalesce(json_extract(detail, '$.reason'), ''),"
        f" coalesce(json_extract(detail, '$.question'), '') {events} AND kind = 'escalation'"
        f" AND {resolved} ORDER BY ts DESC LIMIT ?",
        (*span, TOP),
    ).fetchall()
    report.open_escalations = [OpenEscalation(*row) for row in rows]
    counts = dict(q(f"SELECT kind, count(*) {events} GROUP BY kind", span).fetchall())
    report.restarts = counts.get("restart", 0)
    report.unit_failures = counts.get("unit-failure", 0)
    report.errors = counts.get("error", 0)
    report.machine_changes = counts.get("machine-change", 0)
    return report


# -- from PostgreSQL ------------------------------------------------------------------------


async def from_postgres(conn: Any, shop: str | None, since: float, until: float) -> Report:
    """``conn`` is a psycopg AsyncConnection; ``shop`` None reports on every shop."""
    from laundrybot.store.postgres import mask_dsn

    info = conn.info
    shown = mask_dsn(f"host={info.host} port={info.port} dbname={info.dbname} user={info.user}")
    report = Report(f"PostgreSQL ({shown})", shop, since, until)
    where = "ts >= to_timestamp(%(since)s) AND ts < to_timestamp(%(until)s)"
    if shop is not None:
        where += " AND shop = %(shop)s"
    params = {"since": since, "until": until, "shop": shop, "top": TOP}

    async def rows(sql: str) -> list[tuple[Any, ...]]:
        cur = await conn.execute(sql, params)
        return list(await cur.fetchall())

    async def one(sql: str) -> Any:
        return (await rows(sql))[0][0]

    report.turns = await one(f"SELECT count(*) FROM turns WHERE {where}")
    hourly = await rows(
        "SELECT floor(extract(epoch FROM ts) / 3600)::bigint * 3600, count(*)"
        f" FROM turns WHERE {where} GROUP BY 1"
    )
    report.hourly = {int(h): n for h, n in hourly}
    report.top_intents = await rows(
        f"SELECT intent, count(*) AS n FROM turns WHERE {where}"
        " GROUP BY intent ORDER BY n DESC, intent LIMIT %(top)s"
    )
    unanswered = f"FROM turns WHERE {where} AND intent = 'fallback'"
    report.unanswered_total = await one(f"SELECT count(*) {unanswered}")
    report.unanswered = await rows(
        f"SELECT lower(trim(question)) AS text, count(*) AS n {unanswered}"
        " GROUP BY text ORDER BY n DESC, max(ts) DESC LIMIT %(top)s"
    )
    escalations = f"FROM events WHERE {where} AND kind = 'escalation'"
    report.escalations = await rows(
        f"SELECT coalesce(detail->>'reason', '?') AS reason, count(*) AS n {escalations}"
        " GROUP BY reason ORDER BY n DESC, reason"
    )
    report.open_total = await one(f"SELECT count(*) {escalations} AND resolved_at IS NULL")
    open_rows = await rows(
        "SELECT extract(epoch FROM ts)::float8, shop, kiosk, machine,"
        " coalesce(detail->>'reason', ''), coalesce(detail->>'question', '')"
        f" {escalations} AND resolved_at IS NULL ORDER BY ts DESC LIMIT %(top)s"
    )
    report.open_escalations = [OpenEscalation(*row) for row in open_rows]
    counts = dict(await rows(f"SELECT kind, count(*) FROM events WHERE {where} GROUP BY kind"))
    report.restarts = counts.get("restart", 0)
    report.unit_failures = counts.get("unit-failure", 0)
    report.errors = counts.get("error", 0)
    report.machine_changes = counts.get("machine-change", 0)
    if shop is None:
        report.shops = await rows(
            f"SELECT shop, count(*) AS n FROM turns WHERE {where} GROUP BY shop ORDER BY n DESC"
        )
    return report


# -- words ----------------------------------------------------------------------------------


def _when(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def format_report(report: Report) -> str:
    who = "every shop" if report.shop is None else f"shop {report.shop!r}"
    lines = [
        f"laundrybot report for {who}, {_when(report.since)} to {_when(report.until)}",
        f"from {report.source}",
        "",
    ]
    days = max((report.until - report.since) / 86400, 1 / 24)
    lines.append(f"turns: {report.turns} ({report.turns / days:.0f} a day)")
    if report.shops:
        lines.append("  by shop: " + ", ".join(f"{s} {n}" for s, n in report.shops))
    busiest = report.busiest_hours()
    if busiest:
        lines.append("busiest hours: " + ", ".join(f"{h:02d}:00 {n}" for h, n in busiest))
    if report.top_intents:
        lines.append("top intents:")
        lines += [f"  {n:>6}  {intent}" for intent, n in report.top_intents]
    share = f" ({report.unanswered_total / report.turns:.0%})" if report.turns else ""
    lines.append(f"unanswered questions: {report.unanswered_total}{share}")
    lines += [f"  {n:>6}  {text}" for text, n in report.unanswered]
    reasons = ", ".join(f"{r} {n}" for r, n in report.escalations)
    lines.append(
        f"escalations: {report.escalations_total}"
        + (f" ({reasons})" if reasons else "")
        + f"; open: {report.open_total}"
    )
    for e in report.open_escalations:
        machine = f"machine {e.machine}" if e.machine is not None else "no machine"
        shop = f"{e.shop}  " if report.shop is None else ""
        question = f'  "{e.question}"' if e.question else ""
        lines.append(f"  {_when(e.ts)}  {shop}{e.kiosk}  {machine}  {e.reason}{question}")
    lines.append(
        f"restarts: {report.restarts}   unit failures: {report.unit_failures}   "
        f"errors: {report.errors}   machine changes: {report.machine_changes}"
    )
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)


# -- the command ----------------------------------------------------------------------------


def build_report(config: Config, since: float, all_shops: bool = False) -> Report:
    """From PostgreSQL when configured and reachable, else from the spool (with a note)."""
    import psycopg

    from laundrybot.store import postgres

    until = time.time()
    target = postgres.target_from_config(config)
    problem = ""
    if target is not None:

        async def run() -> Report:
            async with postgres.connect(target) as conn:
                return await from_postgres(
                    conn, None if all_shops else config.shop_id, since, until
                )

        try:
            report = asyncio.run(run())
        except postgres.DatabaseError as exc:
            problem = str(exc)
        except psycopg.Error as exc:
            problem = f"{target.shown}: {target.scrub(exc)}"
        else:
            waiting = _spool_waiting(config)
            if waiting:
                report.notes.append(f"{waiting} rows in the spool are not in PostgreSQL yet")
            return report
    path = config.spool_path
    if not path.exists():
        report = Report(
            f"the spool ({path}, which does not exist yet)", config.shop_id, since, until
        )
    else:
        db = SpoolDB(path, config.shop_id)
        try:
            report = from_spool(db, since, until)
        finally:
            db.close()
    if problem:
        report.notes.append(f"PostgreSQL unavailable, this shop's spool was used: {problem}")
    elif all_shops:
        report.notes.append("no database configured: this shop's spool only")
    return report


def _spool_waiting(config: Config) -> int:
    path = config.spool_path
    if not path.exists():
        return 0
    db = SpoolDB(path, config.shop_id)
    try:
        return db.pending_count("turns") + db.pending_count("events")
    finally:
        db.close()


def report_command(config: Config, since_text: str, all_shops: bool = False) -> int:
    try:
        since = parse_since(since_text)
    except ValueError as exc:
        print(f"laundrybot: {exc}")
        return 2
    print(format_report(build_report(config, since, all_shops)))
    return 0
