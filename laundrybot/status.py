"""`laundrybot status`: a short, readable summary from /readyz and /metrics."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

LATENCY_SUMS = ("laundrybot_turn_latency_seconds_count", "laundrybot_turn_latency_seconds_sum")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:  # 503 from /readyz still carries the JSON
        return exc.code, exc.read().decode()


def show_status(base: str) -> int:
    """Print the summary; exit 0 when ready, 1 when not, 2 when unreachable."""
    base = base.rstrip("/")
    try:
        code, ready_text = _get(base + "/readyz")
        _, metrics_text = _get(base + "/metrics")
    except (OSError, urllib.error.URLError) as exc:
        print(f"laundrybot at {base}: NOT REACHABLE ({exc})")
        return 2
    try:
        ready = json.loads(ready_text)
    except json.JSONDecodeError:
        print(f"laundrybot at {base}: unexpected answer from /readyz (HTTP {code})")
        return 2
    print(summarize(base, ready, metrics_text))
    return 0 if ready.get("ready") else 1


def summarize(base: str, ready: dict, metrics_text: str) -> str:  # type: ignore[type-arg]
    values: dict[str, float] = {}
    turns_by_source: dict[str, float] = defaultdict(float)
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "laundrybot_turns_total":
                turns_by_source[sample.labels.get("source", "?")] += sample.value
            elif sample.name in LATENCY_SUMS:  # summed over typed and spoken turns
                values[sample.name] = values.get(sample.name, 0.0) + sample.value
            elif not sample.labels or set(sample.labels) == {"unit"}:
                values[sample.name] = sample.value
    lines = [f"laundrybot at {base}: {'READY' if ready.get('ready') else 'NOT READY'}"]
    if ready.get("status"):
        lines.append(f"  {ready['status']}")
    for name, dep in sorted(ready.get("dependencies", {}).items()):
        state = "ok" if dep.get("ok") else "DOWN"
        detail = f" ({dep['detail']})" if dep.get("detail") else ""
        lines.append(f"  {name:<10} {state}{detail}")
    total = sum(turns_by_source.values())
    by_source = ", ".join(f"{k} {v:.0f}" for k, v in sorted(turns_by_source.items()))
    lines.append(f"  turns answered: {total:.0f}" + (f" ({by_source})" if by_source else ""))
    count = values.get("laundrybot_turn_latency_seconds_count", 0)
    if count:
        mean = values.get("laundrybot_turn_latency_seconds_sum", 0) / count * 1000
        lines.append(f"  mean turn latency: {mean:.1f} ms")
    rss = values.get("laundrybot_process_resident_memory_bytes")
    if rss is not None:
        started = values.get("laundrybot_process_start_time_seconds", time.time())
        fds = values.get("laundrybot_process_open_fds", 0)
        threads = values.get("laundrybot_process_threads", 0)
        uptime = _duration(time.time() - started)
        lines.append(
            f"  memory {rss / 2**20:.0f} MB, open fds {fds:.0f}, threads {threads:.0f}, up {uptime}"
        )
    skipped = values.get("laundrybot_watchdog_skipped_total", 0)
    if skipped:
        lines.append(f"  watchdog pings withheld: {skipped:.0f} (the process was unhealthy)")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds % 60}s"
