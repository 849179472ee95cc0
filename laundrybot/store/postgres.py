"""PostgreSQL: the connection settings, the pool, the schema migrations and the forwarding SQL.

A chain of shops can point all its recorders at one database: every row carries its shop.
The password never reaches a log line, a status or an exception text of ours: DSNs are shown
through ``mask_dsn`` and database messages through ``scrub``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from laundrybot.config import Config, PostgresConfig
from laundrybot.errors import ConfigError

log = logging.getLogger(__name__)

APP_NAME = "laundrybot-recorder"
POOL_NAME = "laundrybot-recorder"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SCHEMA_TABLE = "laundrybot_schema"
# pg_advisory_xact_lock key: the recorders of a chain starting together migrate one at a time.
MIGRATION_LOCK = 0x4C41554E  # "LAUN"
CREDENTIAL_NAME = "pgpassword"


# -- connection settings -------------------------------------------------------------------


def mask_dsn(dsn: str) -> str:
    """The DSN as it may be shown: conninfo form, without the password."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "<unparsable dsn>"
    params.pop("password", None)
    return make_conninfo("", **params) if params else "(libpq defaults)"


def scrub(text: str, password: str | None) -> str:
    """One line of a database message, with the password cut out should it appear."""
    text = " ".join(str(text).split())
    if password:
        text = text.replace(password, "***")
    text = re.sub(r"(password\s*=\s*)\S+", r"\1***", text, flags=re.IGNORECASE)
    return text[:300]


def resolve_password(pg: PostgresConfig) -> str | None:
    """password_file, else the systemd credential, else None (libpq's PGPASSWORD, ~/.pgpass)."""
    candidates: list[tuple[Path, bool]] = []
    if pg.password_file:
        candidates.append((Path(pg.password_file), True))
    credentials = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if credentials:
        candidates.append((Path(credentials) / CREDENTIAL_NAME, False))
    for path, required in candidates:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if required:
                raise ConfigError(
                    str(path), "store.postgres.password_file", "a file holding the password"
                ) from None
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                str(path), "store.postgres.password_file", f"a readable UTF-8 file ({exc})"
            ) from None
        password = text.splitlines()[0] if text.strip() else ""
        if not password:
            raise ConfigError(str(path), "store.postgres.password_file", "a password (it is empty)")
        return password
    return None


@dataclass(frozen=True)
class Target:
    """Where and how to connect; a reload that changes any of it rebuilds the pool."""

    dsn: str = field(repr=False)
    password: str | None = field(repr=False)
    pg: PostgresConfig
    shop: str

    @property
    def shown(self) -> str:
        return mask_dsn(self.dsn)

    def scrub(self, text: object) -> str:
        return scrub(str(text), self.password)

    def connect_kwargs(self) -> dict[str, Any]:
        pg = self.pg
        kwargs: dict[str, Any] = {
            "autocommit": True,  # transactions are explicit (conn.transaction())
            "fallback_application_name": APP_NAME,
            "connect_timeout": max(1, round(pg.connect_timeout)),
            # A dropped link must not hang a batch until the kernel gives up (minutes).
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": int(max(pg.statement_timeout, pg.connect_timeout) * 1000),
        }
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs


def target_from_config(config: Config) -> Target | None:
    """The database target of ``config``, None without a dsn. Reads the password file."""
    pg = config.store.postgres
    if not pg.dsn:
        return None
    if pg.max_size < pg.min_size:
        source = config.sources[-1] if config.sources else None
        raise ConfigError(
            source, "store.postgres.max_size", f"at least min_size ({pg.min_size})", pg.max_size
        )
    return Target(pg.dsn, resolve_password(pg), pg, config.shop_id)


def build_pool(
    target: Target, reconnect_failed: Callable[[AsyncConnectionPool], None]
) -> AsyncConnectionPool:
    """A closed pool; the caller opens it with ``await pool.open(wait=True, timeout=...)``."""
    pg = target.pg
    statement_timeout = f"{int(pg.statement_timeout * 1000)}ms"

    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.execute("SELECT set_config('statement_timeout', %s, false)", [statement_timeout])

    return AsyncConnectionPool(
        target.dsn,
        kwargs=target.connect_kwargs(),
        min_size=pg.min_size,
        max_size=pg.max_size,
        open=False,
        configure=configure,
        check=AsyncConnectionPool.check_connection,
        name=POOL_NAME,
        timeout=pg.pool_timeout,
        max_lifetime=pg.max_lifetime,
        max_idle=pg.max_idle,
        reconnect_timeout=pg.reconnect_timeout,
        reconnect_failed=reconnect_failed,
    )


async def probe(target: Target) -> str:
    """Connect once outside the pool: '' when the database answers, else why it does not.

    The pool only says it timed out; this names the cause (refused, wrong password, ...).
    """
    try:
        conn = await psycopg.AsyncConnection.connect(target.dsn, **target.connect_kwargs())
    except psycopg.Error as exc:
        return target.scrub(exc) or type(exc).__name__
    with contextlib.suppress(psycopg.Error):
        await conn.close()
    return ""


@contextlib.asynccontextmanager
async def connect(target: Target) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """One connection for the CLI (migrate, report, cleanup); errors are scrubbed."""
    try:
        conn = await psycopg.AsyncConnection.connect(target.dsn, **target.connect_kwargs())
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to {target.shown}: {target.scrub(exc)}") from None
    try:
        yield conn
    finally:
        await conn.close()


class DatabaseError(Exception):
    """A database problem, already worded for the owner (and without the password)."""


# -- migrations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """migrations/NNN_name.sql in version order; each moves the schema from NNN-1 to NNN."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(int(number), name, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations in {MIGRATIONS_DIR} are not numbered 1..N: {versions}")
    return found


async def migrate(conn: psycopg.AsyncConnection[Any]) -> list[Migration]:
    """Bring the schema up to date; return the migrations applied (none when it was).

    One transaction under an advisory lock: a chain's recorders starting together take turns,
    and a failed migration leaves nothing half done.
    """
    applied: list[Migration] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}")
        row = await cur.fetchone()
        current = int(row[0]) if row else 0
        known = migrations()
        if current > len(known):
            # A newer laundrybot in the chain migrated already; its changes are additive.
            log.warning(
                "database schema version %d is newer than this laundrybot's (%d)",
                current,
                len(known),
            )
        for migration in known[current:]:
            await conn.execute(migration.sql.encode())
            await conn.execute(
                f"INSERT INTO {SCHEMA_TABLE} (version, name) VALUES (%s, %s)",
                [migration.version, migration.name],
            )
            applied.append(migration)
    return applied


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    cur = await conn.execute("SELECT to_regclass(%s) IS NOT NULL", [SCHEMA_TABLE])
    row = await cur.fetchone()
    if not row or not row[0]:
        return 0
    cur = await conn.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def migrate_command(config: Config) -> int:
    """`laundrybot db migrate`."""
    target = target_from_config(config)
    if target is None:
        print("laundrybot: no database configured (store.postgres.dsn): the spool is the store")
        return 1

    async def run() -> tuple[list[Migration], int]:
        async with connect(target) as conn:
            applied = await migrate(conn)
            return applied, await schema_version(conn)

    try:
        applied, version = asyncio.run(run())
    except DatabaseError as exc:
        print(f"laundrybot: {exc}")
        return 1
    except psycopg.Error as exc:
        print(f"laundrybot: migration failed on {target.shown}: {target.scrub(exc)}")
        return 1
    for migration in applied:
        print(f"applied migration {migration.version:03d} {migration.name}")
    print(f"database {target.shown}: schema version {version}, up to date")
    return 0


# -- forwarding --------------------------------------------------------------------------------

INSERT_TURNS = (
    "INSERT INTO turns (id, ts, shop, kiosk, session, lang, question, answer, intent, source,"
    " latency_ms) VALUES (%(id)s, to_timestamp(%(ts)s), %(shop)s, %(kiosk)s, %(session)s,"
    " %(lang)s, %(question)s, %(answer)s, %(intent)s, %(source)s, %(latency_ms)s)"
    " ON CONFLICT (id) DO NOTHING"
)
INSERT_EVENTS = (
    "INSERT INTO events (id, ts, shop, kind, kiosk, session, machine, detail)"
    " VALUES (%(id)s, to_timestamp(%(ts)s), %(shop)s, %(kind)s, %(kiosk)s, %(session)s,"
    " %(machine)s, %(detail)s::jsonb) ON CONFLICT (id) DO NOTHING"
)
# The newest change wins, whatever order the shops' events arrive in.
UPSERT_MACHINE = (
    "INSERT INTO machines (shop, number, state, until, updated, source) VALUES (%(shop)s,"
    " %(number)s, %(state)s, to_timestamp(%(until)s::float8), to_timestamp(%(updated)s),"
    " %(source)s) ON CONFLICT (shop, number) DO UPDATE SET state = excluded.state,"
    " until = excluded.until, updated = excluded.updated, source = excluded.source"
    " WHERE machines.updated < excluded.updated"
)
RESOLVE_ESCALATION = (
    "UPDATE events SET resolved_at = to_timestamp(%(ts)s) WHERE id = %(escalation)s"
    " AND kind = 'escalation' AND resolved_at IS NULL"
)
MACHINE_STATES = ("free", "busy", "out-of-order", "unknown")
MACHINE_SOURCES = ("mqtt", "api", "staff")


@dataclass
class Forwarded:
    """What one batch did: rows new to PostgreSQL, and rows it already had (replays)."""

    turns: int = 0
    events: int = 0
    duplicates: int = 0


def machine_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        if event["kind"] != "machine-change" or event["machine"] is None:
            continue
        detail = _detail(event)
        if detail.get("state") not in MACHINE_STATES:
            continue
        until = detail.get("until")
        source = detail.get("source")
        rows.append(
            {
                "shop": event["shop"],
                "number": event["machine"],
                "state": detail["state"],
                "until": until if isinstance(until, (int, float)) else None,
                "updated": event["ts"],
                "source": source if source in MACHINE_SOURCES else "staff",
            }
        )
    return rows


def resolution_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for event in events:
        if event["kind"] != "escalation-resolved":
            continue
        escalation = _detail(event).get("escalation")
        try:
            uuid.UUID(str(escalation))
        except ValueError:
            continue
        rows.append({"ts": event["ts"], "escalation": str(escalation)})
    return rows


def _detail(event: dict[str, Any]) -> dict[str, Any]:
    try:
        detail = json.loads(event["detail"])
    except (TypeError, ValueError):
        return {}
    return detail if isinstance(detail, dict) else {}


async def forward(
    conn: psycopg.AsyncConnection[Any], turns: list[dict[str, Any]], events: list[dict[str, Any]]
) -> Forwarded:
    """Insert spool rows in one transaction; replays are no-ops (ON CONFLICT (id) DO NOTHING).

    Returns after COMMIT: only then may the caller mark the rows forwarded in the spool.
    """
    result = Forwarded()
    async with conn.transaction(), conn.cursor() as cur:
        if turns:
            await cur.executemany(INSERT_TURNS, turns)
            result.turns = max(cur.rowcount, 0)
        if events:
            await cur.executemany(INSERT_EVENTS, events)
            result.events = max(cur.rowcount, 0)
            machines = machine_rows(events)
            if machines:
                await cur.executemany(UPSERT_MACHINE, machines)
            resolutions = resolution_rows(events)
            if resolutions:
                await cur.executemany(RESOLVE_ESCALATION, resolutions)
    result.duplicates = len(turns) + len(events) - result.turns - result.events
    return result
