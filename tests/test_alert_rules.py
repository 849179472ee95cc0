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


# -- laundrybot_memory_limit_bytes: the limit the memory alert divides by --------------------


def _cgroup(tmp_path: Path, proc: str, files: dict[str, str]) -> tuple[Path, Path]:
    proc_file = tmp_path / "proc-self-cgroup"
    proc_file.write_text(proc)
    root = tmp_path / "sys-fs-cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return proc_file, root


def test_memory_limit_from_cgroup_v2(tmp_path: Path) -> None:
    from laundrybot.metrics import cgroup_memory_limit

    unit = "system.slice/laundrybot-gateway.service"
    proc, root = _cgroup(
        tmp_path,
        f"0::/{unit}\n",
        {f"{unit}/memory.max": "536870912\n", "system.slice/memory.max": "max\n"},
    )
    assert cgroup_memory_limit(proc, root) == 512 * 2**20


def test_memory_limit_of_a_slice_applies_when_lower(tmp_path: Path) -> None:
    from laundrybot.metrics import cgroup_memory_limit

    unit = "laundrybot.slice/laundrybot-notify.service"
    proc, root = _cgroup(
        tmp_path,
        f"0::/{unit}\n",
        {f"{unit}/memory.max": "max\n", "laundrybot.slice/memory.max": "268435456\n"},
    )
    assert cgroup_memory_limit(proc, root) == 256 * 2**20


def test_memory_limit_from_cgroup_v1(tmp_path: Path) -> None:
    from laundrybot.metrics import cgroup_memory_limit

    unit = "system.slice/laundrybot-asr.service"
    proc, root = _cgroup(
        tmp_path,
        f"12:cpu,cpuacct:/{unit}\n4:memory:/{unit}\n1:name=systemd:/{unit}\n",
        {f"memory/{unit}/memory.limit_in_bytes": "536870912\n"},
    )
    assert cgroup_memory_limit(proc, root) == 512 * 2**20
    # v1's "no limit" is 2**63 rounded down to a page.
    (root / "memory" / unit / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert cgroup_memory_limit(proc, root) is None


def test_no_memory_limit_falls_back_to_health_max_rss(tmp_path: Path, monkeypatch: Any) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    import laundrybot.metrics as metrics

    proc, root = _cgroup(tmp_path, "0::/user.slice\n", {"user.slice/memory.max": "max\n"})
    assert metrics.cgroup_memory_limit(proc, root) is None
    assert metrics.cgroup_memory_limit(tmp_path / "absent", root) is None

    def limit_exported(limit: int | None) -> str:
        registry = CollectorRegistry()
        monkeypatch.setattr(metrics, "cgroup_memory_limit", lambda *a, **k: limit)
        registry.register(metrics.ProcessCollector("notify", lambda: 1536 * 2**20))
        text = generate_latest(registry).decode()
        return next(line for line in text.splitlines() if line.startswith("laundrybot_memory_"))

    assert limit_exported(None) == 'laundrybot_memory_limit_bytes{unit="notify"} 1.610612736e+09'
    assert limit_exported(2**28) == 'laundrybot_memory_limit_bytes{unit="notify"} 2.68435456e+08'
