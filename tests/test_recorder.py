"""The recorder: spool -> PostgreSQL, exactly once; its config, password handling and metrics."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest

from laundrybot.cli import main
from laundrybot.config import PostgresConfig, load_config
from laundrybot.errors import ConfigError
from laundrybot.recorder import NO_DATABASE
from laundrybot.store import postgres
from laundrybot.store.spool import REFUSED, Event, SpoolDB, Turn

from .conftest import kiosk
from .pg_fixtures import await_until, query, requires_pg, spool_pending


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def make_turn(n: int, ts: float | None = None, **extra: object) -> Turn:
    fields = dict(
        session="s1", kiosk="kiosk-1", question=f"question {n}", answer=f"answer {n}",
        intent="prices", source="knowledge", latency_ms=1.5,
    )  # fmt: skip
    fields |= extra
    if ts is not None:
        fields["ts"] = ts
    return Turn(**fields)  # type: ignore[arg-type]


def fill_spool(path, rows, shop: str = "shop") -> None:  # type: ignore[no-untyped-def]
    db = SpoolDB(path, shop)
    try:
        db.write(rows)
    finally:
        db.close()


# -- without PostgreSQL ---------------------------------------------------------------------


def test_dsn_and_password_are_never_shown():
    assert "s3cret" not in postgres.mask_dsn("postgresql://shop:s3cret@db.example/laundry")
    assert "db.example" in postgres.mask_dsn("postgresql://shop:s3cret@db.example/laundry")
    assert "s3cret" not in postgres.mask_dsn("host=db password=s3cret dbname=x")
    text = postgres.scrub('FATAL:  password "s3cret" rejected\n password=s3cret', "s3cret")
    assert "s3cret" not in text and "\n" not in text


def test_an_unparsable_dsn_is_a_config_error_that_does_not_echo_it(write_config):
    path = write_config({"store": {"postgres": {"dsn": "host=db password='s3cret"}}})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "store.postgres.dsn" in str(error.value)
    assert "s3cret" not in str(error.value)
    assert "s3cret" not in repr(load_config(write_config()).store)


def test_password_from_file_then_credentials_then_libpq(tmp_path, monkeypatch):
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert postgres.resolve_password(PostgresConfig(dsn="dbname=x")) is None
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "pgpassword").write_text("from-credential\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert postgres.resolve_password(PostgresConfig(dsn="dbname=x")) == "from-credential"
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    pg = PostgresConfig(dsn="dbname=x", password_file=str(secret))
    assert postgres.resolve_password(pg) == "from-file"
    secret.write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        postgres.resolve_password(pg)
    with pytest.raises(ConfigError, match="password_file"):
        postgres.resolve_password(PostgresConfig(dsn="x", password_file=str(tmp_path / "no")))


def test_max_size_below_min_size_is_refused(write_config):
    path = write_config({"store": {"postgres": {"dsn": "dbname=x", "min_size": 3, "max_size": 2}}})
    with pytest.raises(ConfigError, match="max_size"):
        postgres.target_from_config(load_config(path))


def test_spool_pending_and_marks(tmp_path):
    db = SpoolDB(tmp_path / "spool.sqlite", "shop-7")
    try:
        now = time.time()
        turns = [make_turn(n, ts=now - 100 + n) for n in range(5)]
        db.write([*turns, Event(kind="restart", ts=now - 200)])
        assert db.pending_count("turns") == 5
        assert db.oldest_pending_ts() == pytest.approx(now - 200)
        batch = db.pending("turns", 3)
        assert [r["id"] for r in batch] == [t.id for t in turns[:3]]
        assert batch[0]["shop"] == "shop-7"
        db.mark_forwarded("turns", [r["id"] for r in batch], now)
        db.mark_forwarded("events", [r["id"] for r in db.pending("events", 10)], REFUSED)
        assert [r["id"] for r in db.pending("turns", 10)] == [t.id for t in turns[3:]]
        assert db.pending_count("events") == 0
        assert db.oldest_pending_ts() == pytest.approx(now - 97)
        with pytest.raises(ValueError):
            db.pending_count("machines; DROP TABLE turns")
    finally:
        db.close()


async def test_without_a_database_the_recorder_idles_beside_the_gateway(write_config, start_units):
    units = await start_units(write_config(), ["gateway", "recorder"])
    assert units.service("recorder").status() == NO_DATABASE
    assert NO_DATABASE in units.runner.status_line()
    assert units.runner.readiness.get("database") is None
    assert "database" not in units.runner.readiness.degraded  # the recorder is no reason
    async with kiosk(units.gateway_url) as k:
        assert (await k.ask("how much is a wash?"))["intent"] == "prices"
    _, body = await asyncio.to_thread(http_get, units.http + "/metrics")
    assert "laundrybot_database_up -1.0" in body
    assert await units.stop() == 0


# -- with PostgreSQL --------------------------------------------------------------------------


@requires_pg
def test_db_migrate_creates_the_schema_once(pg_config, pg_dsn, capsys):
    config = str(pg_config())
    assert main(["db", "migrate", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "applied migration 001 initial" in out
    assert "applied migration 002 machine_source" in out
    assert "schema version 2" in out
    assert main(["db", "migrate", "--config", config]) == 0
    assert "applied" not in capsys.readouterr().out
    public = query(pg_dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    tables = {r[0] for r in public}
    assert {"turns", "events", "machines", "laundrybot_schema"} <= tables
    indexes = {r[0] for r in query(pg_dsn, "SELECT indexname FROM pg_indexes")}
    assert {"turns_unanswered", "events_open_escalations", "turns_shop_intent_ts"} <= indexes


@requires_pg
def test_db_migrate_with_a_wrong_password_says_so_without_it(pg_config, tmp_path, capsys):
    secret = tmp_path / "pgpassword"
    secret.write_text("not-the-password\n")
    assert main(["db", "migrate", "--config", str(pg_config({"password_file": str(secret)}))]) == 1
    out = capsys.readouterr().out
    assert "password authentication failed" in out
    assert "not-the-password" not in out


@requires_pg
async def test_turns_events_and_machines_reach_postgresql_once(
    pg_config, pg_dsn, start_units, tmp_path
):
    config = pg_config(shop_id="shop-42")
    units = await start_units(config, ["gateway", "recorder"])
    replies = []
    async with kiosk(units.gateway_url) as k:
        replies.append(await k.ask("how much is a wash?"))
        replies.append(await k.ask("dryer 12 took my money and did not start"))
        replies.append(await k.ask("what is the capital of peru"))
    set_machine = ["machines", "--config", str(config), "set", "4", "busy", "--minutes", "30"]
    assert await asyncio.to_thread(main, set_machine) == 0
    ids = [r["turn"] for r in replies]

    def forwarded():
        found = query(pg_dsn, "SELECT count(*) FROM turns WHERE id = ANY(%s::uuid[])", [ids])
        machines = query(pg_dsn, "SELECT shop, number, state FROM machines")
        return found[0][0] == len(ids) and machines

    machines = await await_until(forwarded, what="turns and machine 4 in PostgreSQL")
    assert machines == [("shop-42", 4, "busy")]
    rows = query(pg_dsn, "SELECT shop, intent, kiosk FROM turns ORDER BY ts")
    assert [r[0] for r in rows] == ["shop-42"] * 3
    assert rows[1][1] == "money-taken" and rows[2][1] == "fallback"
    kinds = dict(query(pg_dsn, "SELECT kind, count(*) FROM events GROUP BY kind"))
    assert kinds["escalation"] == 1 and kinds["machine-change"] == 1 and kinds["restart"] >= 1
    detail = query(pg_dsn, "SELECT detail FROM events WHERE kind = 'escalation'")[0][0]
    assert detail["turn"] == ids[1]
    spool = tmp_path / "spool.sqlite"
    await await_until(lambda: spool_pending(spool) == 0, what="spool marked")
    _, ready = await asyncio.to_thread(http_get, units.http + "/readyz")
    assert json.loads(ready)["dependencies"]["database"]["ok"] is True
    _, body = await asyncio.to_thread(http_get, units.http + "/metrics")
    assert 'laundrybot_recorder_rows_forwarded_total{table="turns"} 3.0' in body
    assert "laundrybot_database_up 1.0" in body
    assert "laundrybot_recorder_pool_size" in body
    assert "laundrybot_recorder_pool_requests_total" in body
    assert "laundrybot_spool_oldest_pending_age_seconds" in body
    assert "rows forwarded" in units.runner.status_line()
    assert await units.stop() == 0


@requires_pg
async def test_a_replay_after_commit_inserts_nothing_twice(
    pg_config, pg_dsn, start_units, tmp_path
):
    config = pg_config()
    turns = [make_turn(n) for n in range(50)]
    fill_spool(tmp_path / "spool.sqlite", turns)
    # A recorder that committed these and died before marking them in the spool:
    assert await asyncio.to_thread(main, ["db", "migrate", "--config", str(config)]) == 0
    target = postgres.target_from_config(load_config(config))
    assert target is not None
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    first = db.pending("turns", 30)
    db.close()
    async with postgres.connect(target) as conn:
        done = await postgres.forward(conn, first, [])
    assert done.turns == 30
    units = await start_units(config, ["recorder"])
    recorder = units.service("recorder")
    await await_until(lambda: recorder.waiting["turns"] == 0 and recorder.forwarded >= 50)
    assert query(pg_dsn, "SELECT count(*), count(DISTINCT id) FROM turns") == [(50, 50)]
    assert recorder.metrics.duplicates._value.get() == 30
    await units.stop()


@requires_pg
async def test_newest_machine_change_wins_and_escalations_resolve(pg_config, pg_dsn):
    config = load_config(pg_config())
    target = postgres.target_from_config(config)
    assert target is not None
    now = time.time()
    escalation = Event(kind="escalation", machine=3, detail={"reason": "machine-broken"})

    def row(event: Event) -> dict:
        return {
            "id": event.id, "ts": event.ts, "shop": "shop", "kind": event.kind, "kiosk": "",
            "session": "", "machine": event.machine, "detail": json.dumps(event.detail),
        }  # fmt: skip

    newer = Event(kind="machine-change", machine=3, ts=now, detail={"state": "free"})
    older = Event(kind="machine-change", machine=3, ts=now - 60, detail={"state": "busy"})
    resolved = Event(kind="escalation-resolved", detail={"escalation": escalation.id})
    async with postgres.connect(target) as conn:
        await postgres.migrate(conn)
        await postgres.forward(conn, [], [row(escalation), row(newer)])
        await postgres.forward(conn, [], [row(older)])  # arrives late: must not win
        assert query(pg_dsn, "SELECT state FROM machines WHERE number = 3") == [("free",)]
        await postgres.forward(conn, [], [row(resolved)])
    rows = query(pg_dsn, "SELECT resolved_at IS NOT NULL FROM events WHERE kind = 'escalation'")
    assert rows == [(True,)]


@requires_pg
async def test_a_row_postgresql_refuses_is_kept_and_does_not_block(
    pg_config, pg_dsn, start_units, tmp_path
):
    good = [make_turn(n) for n in range(20)]
    bad = make_turn(99, id="not-a-uuid")
    fill_spool(tmp_path / "spool.sqlite", [*good[:10], bad, *good[10:]])
    units = await start_units(pg_config(), ["recorder"])
    recorder = units.service("recorder")
    await await_until(lambda: recorder.forwarded >= 20, what="the good rows")
    # The bad row is the newest, so it is tried (and marked) after the good ones are counted.
    spool = tmp_path / "spool.sqlite"
    await await_until(lambda: spool_pending(spool) == 0, what="the refused row's mark")
    assert query(pg_dsn, "SELECT count(*) FROM turns") == [(20,)]
    db = SpoolDB(tmp_path / "spool.sqlite", "shop")
    try:
        marks = db.conn.execute("SELECT forwarded_at FROM turns WHERE id = 'not-a-uuid'")
        assert marks.fetchone()[0] == REFUSED
        assert db.pending_count("turns") == 0
    finally:
        db.close()
    assert recorder.metrics.refused._value.get() == 1
    await units.stop()


@requires_pg
async def test_a_database_added_by_reload_is_used(write_config, pg_dsn, start_units):
    config = write_config()
    units = await start_units(config, ["gateway", "recorder"])
    async with kiosk(units.gateway_url) as k:
        turn = (await k.ask("what are your hours"))["turn"]
    write_config({"store": {"postgres": {"dsn": pg_dsn, "forward_interval": 0.1}}})
    assert await units.runner.reload()
    found = await await_until(
        lambda: query(pg_dsn, "SELECT count(*) FROM turns WHERE id = %s", [turn])[0][0],
        what="the turn made before the database was configured",
    )
    assert found == 1
    assert units.runner.readiness.get("database").ok
    await units.stop()
