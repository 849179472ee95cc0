"""`laundrybot report`: what customers asked, what went unanswered, when staff were needed.

Read from PostgreSQL when one is configured (this shop, or every shop of the chain), else from
the spool, which is then the store. Both give the same ``Report``; ``format_report`` words it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from laundrybot.config import Config
from laundrybot.store.spool import SpoolDB

TOP = 10
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None, tz: datetime.tzinfo | None = None) -> float:
    """'30m', '24h', '7d', '2w', a date ('2024-05-01', midnight) or a date and time
    ('2024-05-01 08:00') in ``tz`` (the shop's; None: this host's) -> epoch seconds."""
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
    if when.tzinfo is None and tz is not None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()  # a naive datetime is the host's local time


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
    # Crashes and hangs systemd restarted the unit after (record-failure from ExecStopPost=):
    # a unit's normal start is not one.
    restarts: int = 0
    # Every failure systemd recorded, those restarts and the units that gave up (OnFailure=).
    unit_failures: int = 0
    gave_up: int = 0
    errors: int = 0
    machine_changes: int = 0
    shops: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def escalations_total(self) -> int:
        return sum(n for _, n in self.escalations)

    def busiest_hours(
        self, limit: int = 5, tz: datetime.tzinfo | None = None
    ) -> list[tuple[int, int]]:
        """(hour of day in ``tz``, turns), busiest first."""
        by_hour: Counter[int] = Counter()
        for start, count in self.hourly.items():
            by_hour[datetime.datetime.fromtimestamp(start, tz).hour] += count
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
    failures = dict(
        q(
            "SELECT coalesce(json_extract(detail, '$.via'), '') = 'OnFailure', count(*)"
            f" {events} AND kind = 'unit-failure'"
            " AND coalesce(json_extract(detail, '$.result'), '') != 'success' GROUP BY 1",
            span,
        ).fetchall()
    )
    report.restarts, report.gave_up = failures.get(0, 0), failures.get(1, 0)
    report.unit_failures = report.restarts + report.gave_up
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
    failures = dict(
        await rows(
            "SELECT coalesce(detail->>'via', '') = 'OnFailure', count(*) FROM events"
            f" WHERE {where} AND kind = 'unit-failure'"
            " AND coalesce(detail->>'result', '') != 'success' GROUP BY 1"
        )
    )
    report.restarts, report.gave_up = failures.get(False, 0), failures.get(True, 0)
    report.unit_failures = report.restarts + report.gave_up
    report.errors = counts.get("error", 0)
    report.machine_changes = counts.get("machine-change", 0)
    if shop is None:
        report.shops = await rows(
            f"SELECT shop, count(*) AS n FROM turns WHERE {where} GROUP BY shop ORDER BY n DESC"
        )
    return report


# -- words ----------------------------------------------------------------------------------


def _when(ts: float, tz: datetime.tzinfo | None = None) -> str:
    return datetime.datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def _zone(tz: datetime.tzinfo | None) -> str:
    return str(tz) if tz is not None else "this computer's time"


def format_report(report: Report, tz: datetime.tzinfo | None = None) -> str:
    """The report in words; times in ``tz`` (the shop's, as notifications show them)."""
    who = "every shop" if report.shop is None else f"shop {report.shop!r}"
    lines = [
        f"laundrybot report for {who}, {_when(report.since, tz)} to {_when(report.until, tz)}"
        f" ({_zone(tz)})",
        f"from {report.source}",
        "",
    ]
    days = (report.until - report.since) / 86400
    # A rate from less than a day of turns says nothing about a day.
    rate = f" ({report.turns / days:.0f} a day)" if days >= 1 else ""
    lines.append(f"turns: {report.turns}{rate}")
    if report.shops:
        lines.append("  by shop: " + ", ".join(f"{s} {n}" for s, n in report.shops))
    busiest = report.busiest_hours(tz=tz)
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
        lines.append(f"  {_when(e.ts, tz)}  {shop}{e.kiosk}  {machine}  {e.reason}{question}")
    lines.append(
        f"restarts after a failure: {report.restarts}   units that gave up: {report.gave_up}   "
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


def shop_timezone(config: Config) -> tuple[datetime.tzinfo | None, str]:
    """The knowledge file's shop.timezone (what notifications use), else None and why not."""
    from zoneinfo import ZoneInfo

    from laundrybot.dialog.knowledge import load_knowledge

    try:
        return ZoneInfo(load_knowledge(config.knowledge_path).timezone), ""
    except Exception as exc:  # the report still helps without it
        return None, f"shop.timezone unknown ({exc}): times are this computer's"


def report_json(report: Report, tz: datetime.tzinfo | None) -> str:
    data = dataclasses.asdict(report)
    data["timezone"] = str(tz) if tz is not None else None
    data["since_local"] = _when(report.since, tz)
    data["until_local"] = _when(report.until, tz)
    data["escalations_total"] = report.escalations_total
    return json.dumps(data, indent=2, sort_keys=True, default=str)


def report_command(
    config: Config, since_text: str, all_shops: bool = False, as_json: bool = False
) -> int:
    tz, problem = shop_timezone(config)
    try:
        since = parse_since(since_text, tz=tz)
    except ValueError as exc:
        print(f"laundrybot: {exc}", file=sys.stderr)
        return 2
    report = build_report(config, since, all_shops)
    if problem:
        report.notes.append(problem)
    print(report_json(report, tz) if as_json else format_report(report, tz))
    return 0
