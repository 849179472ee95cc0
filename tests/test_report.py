"""`laundrybot report`, from the spool and from PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from pathlib import Path

import pytest

from laundrybot.cli import main
from laundrybot.config import load_config
from laundrybot.report import parse_since
from laundrybot.store import postgres
from laundrybot.store.spool import Event, SpoolDB

from .pg_fixtures import query, requires_pg
from .test_recorder import fill_spool, make_turn


def test_since_takes_durations_and_dates():
    now = 1_700_000_000.0
    assert parse_since("24h", now) == now - 86400
    assert parse_since("7d", now) == now - 7 * 86400
    assert parse_since("2w", now) == now - 14 * 86400
    assert parse_since("30m", now) == now - 1800
    assert parse_since("2024-05-01") == datetime.datetime(2024, 5, 1).timestamp()
    assert parse_since("2024-05-01 08:30") == datetime.datetime(2024, 5, 1, 8, 30).timestamp()
    with pytest.raises(ValueError, match="--since"):
        parse_since("last tuesday")


def sample_rows(now: float) -> list:  # type: ignore[type-arg]
    escalation = Event(
        kind="escalation",
        kiosk="kiosk-2",
        machine=12,
        ts=now - 600,
        detail={"reason": "money-taken", "question": "dryer 12 took my money"},
    )
    handled = Event(kind="escalation", machine=3, ts=now - 500, detail={"reason": "machine-broken"})
    return [
        *[make_turn(n, ts=now - 3600 + n) for n in range(6)],
        *[make_turn(n, ts=now - 1800 + n, intent="hours") for n in range(3)],
        make_turn(1, ts=now - 100, intent="fallback", question="Can my parrot sing?"),
        make_turn(2, ts=now - 90, intent="fallback", question="can my parrot sing?"),
        make_turn(3, ts=now - 80, intent="fallback", question="what is the capital of peru"),
        make_turn(4, ts=now - 10 * 86400, intent="fallback", question="too old to count"),
        escalation,
        handled,
        Event(kind="escalation-resolved", ts=now - 400, detail={"escalation": handled.id}),
        Event(kind="restart", ts=now - 300, detail={"unit": "gateway"}),
        Event(kind="unit-failure", ts=now - 250, detail={"unit": "laundrybot-asr.service"}),
        Event(kind="unit-failure", ts=now - 240, detail={"unit": "laundrybot-asr.service"}),
        # A clean stop is not a failure; a unit that gave up is not restarted.
        Event(kind="unit-failure", ts=now - 230, detail={"unit": "x.service", "result": "success"}),
        Event(
            kind="unit-failure",
            ts=now - 220,
            detail={"unit": "laundrybot-tts.service", "result": "exit-code", "via": "OnFailure"},
        ),
        Event(kind="error", ts=now - 200, detail={"code": "internal"}),
        Event(kind="machine-change", machine=4, ts=now - 100, detail={"state": "busy"}),
    ]


def check_sample_report(out: str) -> None:
    assert "turns: 12 " in out
    assert "top intents:" in out
    assert "6  prices" in out and "3  hours" in out and "3  fallback" in out
    assert "unanswered questions: 3 (25%)" in out
    assert "2  can my parrot sing?" in out
    assert "too old" not in out
    assert "escalations: 2 (machine-broken 1, money-taken 1); open: 1" in out
    assert 'kiosk-2  machine 12  money-taken  "dryer 12 took my money"' in out
    # The "restart" event is a normal start: not counted.
    assert (
        "restarts after a failure: 2   units that gave up: 1   errors: 1   machine changes: 1"
        in out
    )
    assert "busiest hours:" in out


def test_report_from_the_spool(write_config, tmp_path, capsys):
    fill_spool(tmp_path / "spool.sqlite", sample_rows(time.time()))
    assert main(["report", "--since", "1d", "--config", str(write_config())]) == 0
    out = capsys.readouterr().out
    assert "from the spool" in out
    check_sample_report(out)


def test_report_with_a_bad_since_is_refused(write_config, capsys):
    assert main(["report", "--since", "yesterday-ish", "--config", str(write_config())]) == 2
    assert "--since" in capsys.readouterr().err


def test_report_falls_back_to_the_spool_when_postgresql_is_down(write_config, tmp_path, capsys):
    fill_spool(tmp_path / "spool.sqlite", sample_rows(time.time()))
    config = write_config(
        {"store": {"postgres": {"dsn": "host=127.0.0.1 port=1 dbname=x password=s3cret"}}}
    )
    assert main(["report", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "from the spool" in out
    assert "PostgreSQL unavailable" in out and "port=1" in out
    assert "s3cret" not in out
    check_sample_report(out)


def _rows_for_pg(path, shop: str) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    db = SpoolDB(path, shop)
    try:
        return db.pending("turns", 1000), db.pending("events", 1000)
    finally:
        db.close()


@requires_pg
def test_report_from_postgresql_for_one_shop_or_all(pg_config, tmp_path, capsys):
    config = pg_config(shop_id="north")
    spool = tmp_path / "spool.sqlite"
    now = time.time()
    fill_spool(spool, sample_rows(now), shop="north")
    other = tmp_path / "other.sqlite"
    fill_spool(other, [make_turn(n, ts=now - 60) for n in range(4)], shop="south")
    target = postgres.target_from_config(load_config(config))
    assert target is not None

    async def load() -> None:
        async with postgres.connect(target) as conn:
            await postgres.migrate(conn)
            for path, shop in ((spool, "north"), (other, "south")):
                await postgres.forward(conn, *_rows_for_pg(path, shop))

    asyncio.run(load())
    assert main(["report", "--since", "1d", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "from PostgreSQL" in out and "shop 'north'" in out
    # Nothing was marked forwarded in this spool, so the report says so.
    assert "rows in the spool are not in PostgreSQL yet" in out
    check_sample_report(out)
    assert main(["report", "--since", "1d", "--all-shops", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "every shop" in out
    assert "turns: 16 " in out
    assert "by shop: north 12, south 4" in out


DASHBOARD = (
    Path(__file__).resolve().parent.parent / "conf" / "grafana" / "laundrybot-dashboard.json"
)


def _dashboard_sql() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "rawSql" in target:
                found.append((panel["title"], target["rawSql"]))
    return found


def test_the_grafana_dashboard_has_the_owners_panels():
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {p["title"] for p in dashboard["panels"]}
    for title in ("Turns per hour", "Top intents", "Unanswered questions", "Open escalations"):
        assert title in titles
    for title in ("Turn latency", "Memory (RSS)", "Open file descriptors", "Restarts"):
        assert title in titles
    exprs = " ".join(t.get("expr", "") for p in dashboard["panels"] for t in p.get("targets", []))
    assert "laundrybot_turn_latency_seconds_bucket" in exprs
    assert "laundrybot_database_up" in exprs


@requires_pg
def test_the_dashboards_sql_runs_on_the_schema(pg_config, pg_dsn):
    assert main(["db", "migrate", "--config", str(pg_config())]) == 0
    for title, sql in _dashboard_sql():
        # Grafana's macros, expanded the way its PostgreSQL data source does.
        sql = sql.replace("$__timeGroupAlias(ts, 1h)", "date_trunc('hour', ts) AS time")
        sql = sql.replace("$__timeFilter(ts)", "ts BETWEEN now() - interval '7 days' AND now()")
        sql = sql.replace("${shop:sqlstring}", "'shop'")
        assert "$" not in sql, title
        query(pg_dsn, sql)


def test_report_speaks_shop_time_and_no_daily_rate_from_an_hour(write_config, tmp_path, capsys):
    from zoneinfo import ZoneInfo

    now = time.time()
    fill_spool(tmp_path / "spool.sqlite", sample_rows(now))
    config = str(write_config())  # conf/knowledge.yaml: shop.timezone America/Chicago
    assert main(["report", "--since", "2h", "--config", config]) == 0
    out = capsys.readouterr().out
    shop = ZoneInfo("America/Chicago")
    start = datetime.datetime.fromtimestamp(now - 7200, shop).strftime("%Y-%m-%d %H:%M")
    assert f", {start} to " in out.splitlines()[0]
    assert "(America/Chicago)" in out.splitlines()[0]
    assert "a day)" not in out
    hour = datetime.datetime.fromtimestamp(now - 3600, shop).hour
    assert f"{hour:02d}:00 " in out  # busiest hours, in shop time
    assert main(["report", "--since", "2d", "--config", config]) == 0
    assert "(6 a day)" in capsys.readouterr().out


def test_report_json(write_config, tmp_path, capsys):
    fill_spool(tmp_path / "spool.sqlite", sample_rows(time.time()))
    assert main(["report", "--json", "--since", "1d", "--config", str(write_config())]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["turns"] == 12 and data["restarts"] == 2 and data["gave_up"] == 1
    assert data["timezone"] == "America/Chicago"
    assert data["top_intents"][0] == ["prices", 6]
