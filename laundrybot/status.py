"""`laundrybot status`: a short, readable summary from /readyz and /metrics."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

LATENCY_SUMS = ("laundrybot_turn_latency_seconds_count", "laundrybot_turn_latency_seconds_sum")
# Per-kiosk network figures: sample name -> short key.
KIOSK_SAMPLES = {
    "laundrybot_kiosk_rtt_seconds_sum": "rtt_sum",
    "laundrybot_kiosk_rtt_seconds_count": "rtt_count",
    "laundrybot_kiosk_reconnects_total": "reconnects",
    "laundrybot_kiosk_sessions_resumed_total": "resumed",
    "laundrybot_kiosk_offline_seconds_total": "offline",
    "laundrybot_kiosk_received_bytes_total": "in",
    "laundrybot_kiosk_sent_bytes_total": "out",
    "laundrybot_kiosk_last_seen_seconds": "seen",
    "laundrybot_kiosk_connected": "connected",
}


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
    kiosks: dict[str, dict[str, float]] = defaultdict(dict)
    channels: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name in KIOSK_SAMPLES and "kiosk" in sample.labels:
                kiosks[sample.labels["kiosk"]][KIOSK_SAMPLES[sample.name]] = sample.value
            elif sample.name in ("laundrybot_notify_waiting", "laundrybot_notify_channel_up"):
                key = "waiting" if sample.name.endswith("waiting") else "up"
                channels[sample.labels.get("channel", "?")][key] = sample.value
            elif sample.name == "laundrybot_turns_total":
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
    if channels:
        parts = []
        for name, figures in sorted(channels.items()):
            state = {1.0: "ok", 0.0: "FAILING"}.get(figures.get("up", -1.0), "not tried yet")
            parts.append(f"{name} {state} ({figures.get('waiting', 0):.0f} waiting)")
        lines.append("  notifications: " + ", ".join(parts))
    if kiosks:
        lines.append("  kiosks:")
        lines += [f"    {kiosk_line(name, k)}" for name, k in sorted(kiosks.items())]
    return "\n".join(lines)


def kiosk_line(name: str, k: dict[str, float]) -> str:
    """One kiosk's network quality: connected or when last seen, RTT, reconnects, bytes."""
    if k.get("connected", 0) > 0:
        parts = ["connected"]
    else:
        parts = [f"last seen {_short(k.get('seen', 0))} ago"]
    if k.get("rtt_count"):
        mean = k.get("rtt_sum", 0) / k["rtt_count"] * 1000
        parts.append(f"rtt {mean:.0f} ms (mean of {k['rtt_count']:.0f})")
    reconnects = k.get("reconnects", 0)
    if reconnects:
        parts.append(
            f"reconnects {reconnects:.0f} (resumed {k.get('resumed', 0):.0f}, "
            f"offline {_short(k.get('offline', 0))})"
        )
    parts.append(f"in {_bytes(k.get('in', 0))}, out {_bytes(k.get('out', 0))}")
    return f"{name:<12} " + ", ".join(parts)


def _short(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else _duration(seconds)


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


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
