"""The Prometheus alert rules and sample configs in conf/prometheus: promtool checks them and runs
their unit tests, and every laundrybot metric they use is one laundrybot really exports.

promtool comes with Debian's `prometheus` package (.ci/test installs it). Outside CI a machine
without it skips the promtool tests; in CI (CI=true) a missing promtool is a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "conf" / "prometheus"
RULES = RULES_DIR / "laundrybot-rules.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing: .ci/test installs Debian's prometheus package")
        pytest.skip("promtool not installed (apt install prometheus)")
    return found


def run(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [promtool(), *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120
    )
    print(result.stdout + result.stderr)
    return result


def test_promtool_checks_the_rules() -> None:
    result = run("check", "rules", RULES.name)
    assert result.returncode == 0
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass() -> None:
    result = run("test", "rules", "laundrybot-rules.test.yml")
    assert result.returncode == 0
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("config", ["prometheus-shop.yml", "prometheus-chain.yml"])
def test_the_sample_scrape_configs_are_valid(config: str) -> None:
    result = run("check", "config", config)
    assert result.returncode == 0


def test_every_alert_is_unit_tested() -> None:
    rules = yaml.safe_load(RULES.read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((RULES_DIR / "laundrybot-rules.test.yml").read_text())
    tested = {
        t["alertname"]
        for case in tests["tests"]
        for t in case.get("alert_rule_test", [])
        if t.get("exp_alerts")
    }
    assert alerts == tested


async def test_the_rules_use_metrics_laundrybot_exports(
    write_config: Any, start_units: Any, tmp_path: Path
) -> None:
    config = write_config({"notify": {"socket": str(tmp_path / "notify-unit.sock")}})
    units = await start_units(config, ["gateway", "recorder", "notify", "machines"])

    def scrape() -> str:
        with urllib.request.urlopen(units.http + "/metrics", timeout=5) as response:
            return str(response.read().decode())

    text = await asyncio.to_thread(scrape)
    assert await units.stop() == 0
    exported = set()
    for family in text_string_to_metric_families(text):
        exported.add(family.name)
        exported |= {s.name for s in family.samples}
        if family.type == "counter":
            exported.add(family.name + "_total")
        if family.type == "histogram":
            exported |= {family.name + s for s in ("_bucket", "_sum", "_count")}
    used = set(re.findall(r"\blaundrybot_[a-z_]+\b", RULES.read_text()))
    used -= {"laundrybot_status", "laundrybot_rules"}
    missing = sorted(used - exported)
    assert not missing, f"rules use metrics nobody exports: {missing}"
