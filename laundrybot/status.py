"""`laundrybot status`: a short, readable summary from /readyz and /metrics."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from laundrybot.config import Config

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


# Written by the running gateway's process: where `status` finds it when the file on disk is
# broken (the running service still has the configuration it loaded).
URL_FILE = "gateway.url"


def http_base(address: str) -> str:
    """``HOST:PORT`` as the gateway listens -> the http:// base a client on this PC uses."""
    host, _, port = address.rpartition(":")
    if host in ("0.0.0.0", "[::]", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def remember_url(address: str, runtime: Path) -> None:
    """Record where the running gateway listens (best effort: status can also be told), in
    the instance's runtime folder (Config.runtime_path)."""
    path = runtime / URL_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(http_base(address) + "\n")
        tmp.replace(path)
    except OSError:
        pass


def known_url(runtime: Path) -> str | None:
    """The running (or last running) gateway's http:// base, if it recorded one."""
    try:
        text = (runtime / URL_FILE).read_text().strip()
    except OSError:
        return None
    return text if text.startswith("http://") else None


def status_token(config: Config) -> str | None:
    """A kiosk token from the configuration, for a gateway whose HTTP figures need one."""
    tokens = config.gateway.tokens
    values = list(tokens.values()) if isinstance(tokens, dict) else list(tokens)
    for path in config.gateway.token_files.values():
        with contextlib.suppress(OSError, UnicodeDecodeError):
            values.append(Path(path).read_text(encoding="utf-8").strip())
    return next((v for v in values if v), None)


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=5
        ) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:  # 503 from /readyz still carries the JSON
        return exc.code, exc.read().decode()


# Exit codes of `laundrybot status` (and of every command that cannot reach its service).
READY, NOT_READY, UNREACHABLE = 0, 1, 3
PROCESS_SAMPLES = {
    "laundrybot_process_resident_memory_bytes": "memory_bytes",
    "laundrybot_process_open_fds": "open_fds",
    "laundrybot_process_threads": "threads",
    "laundrybot_process_start_time_seconds": "started",
}


def show_status(
    base: str, config_problem: str | None = None, as_json: bool = False, token: str | None = None
) -> int:
    """Print the summary; exit 0 when ready, 1 when not, 3 when unreachable.

    ``config_problem``: why the configuration on disk could not be read, shown as one line
    (the running service still has the configuration it loaded before).
    """
    base = base.rstrip("/")
    data: dict[str, Any] = {"url": base, "reachable": False, "config_problem": config_problem}
    code = 0
    try:
        code, ready_text = _get(base + "/readyz", token)
        _, metrics_text = _get(base + "/metrics", token)
        ready = json.loads(ready_text)
        if not isinstance(ready, dict):
            raise ValueError("not a JSON object")
    except (OSError, urllib.error.URLError) as exc:
        data["error"] = f"NOT REACHABLE ({exc})"
    except ValueError:  # JSONDecodeError too
        data["error"] = f"unexpected answer from /readyz (HTTP {code})"
    else:
        data.update(collect(ready, metrics_text), reachable=True)
    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(format_status(data))
    if not data["reachable"]:
        return UNREACHABLE
    return READY if data["ready"] else NOT_READY


def collect(ready: dict[str, Any], metrics_text: str) -> dict[str, Any]:
    """The figures `status` shows, as plain data (what --json prints)."""
    values: dict[str, float] = {}
    turns_by_source: dict[str, float] = defaultdict(float)
    kiosks: dict[str, dict[str, float]] = defaultdict(dict)
    channels: dict[str, dict[str, float]] = defaultdict(dict)
    # One process per unit: the gateway's /metrics merges the others' under their unit label.
    units: dict[str, dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name in KIOSK_SAMPLES and "kiosk" in sample.labels:
                # Gateway peers each report the kiosks they served: added up, but the time
                # since last seen is the most recent peer's.
                figures = kiosks[sample.labels["kiosk"]]
                key = KIOSK_SAMPLES[sample.name]
                if key not in figures:
                    figures[key] = sample.value
                elif key == "seen":
                    figures[key] = min(figures[key], sample.value)
                else:
                    figures[key] += sample.value
            elif sample.name in ("laundrybot_notify_waiting", "laundrybot_notify_channel_up"):
                key = "waiting" if sample.name.endswith("waiting") else "up"
                channels[sample.labels.get("channel", "?")][key] = sample.value
            elif sample.name == "laundrybot_turns_total":
                turns_by_source[sample.labels.get("source", "?")] += sample.value
            elif sample.name in PROCESS_SAMPLES:
                unit = sample.labels.get("unit", "?")
                units[unit][PROCESS_SAMPLES[sample.name]] = sample.value
            elif sample.name in LATENCY_SUMS or sample.name == WATCHDOG_SKIPPED:
                # Summed: over typed and spoken turns, over every unit's watchdog.
                values[sample.name] = values.get(sample.name, 0.0) + sample.value
    count = values.get("laundrybot_turn_latency_seconds_count", 0)
    mean = values.get("laundrybot_turn_latency_seconds_sum", 0) / count * 1000 if count else None
    return {
        "ready": bool(ready.get("ready")),
        # ok, degraded (serving; "degraded" names what is down) or down; older gateways: ready.
        "state": ready.get("state") or ("ok" if ready.get("ready") else "down"),
        "degraded": [str(name) for name in ready.get("degraded") or []],
        "status": ready.get("status") or "",
        "dependencies": {
            name: {"ok": bool(dep.get("ok")), "detail": dep.get("detail") or ""}
            for name, dep in sorted(ready.get("dependencies", {}).items())
        },
        "turns": {"total": sum(turns_by_source.values()), "by_source": dict(turns_by_source)},
        "mean_turn_latency_ms": mean,
        "units": {name: dict(figures) for name, figures in sorted(units.items(), key=_unit_order)},
        "watchdog_skipped": values.get(WATCHDOG_SKIPPED, 0.0),
        "notifications": {name: dict(figures) for name, figures in sorted(channels.items())},
        "kiosks": {name: dict(figures) for name, figures in sorted(kiosks.items())},
    }


WATCHDOG_SKIPPED = "laundrybot_watchdog_skipped_total"


def _unit_order(item: tuple[str, dict[str, float]]) -> tuple[bool, str]:
    return (not item[0].startswith("gateway"), item[0])  # the gateway (or all-in-one) first


def format_status(data: dict[str, Any]) -> str:
    base = data["url"]
    problem = data.get("config_problem")
    config_line = [f"  configuration on disk: INVALID: {problem}"] if problem else []
    if not data["reachable"]:
        return "\n".join([f"laundrybot at {base}: {data['error']}", *config_line])
    headline = {"ok": "READY", "degraded": "DEGRADED (serving)"}.get(data["state"], "NOT READY")
    lines = [f"laundrybot at {base}: {headline}", *config_line]
    if data["degraded"]:
        lines.append("  degraded: " + ", ".join(data["degraded"]))
    if data["status"]:
        lines.append(f"  {data['status']}")
    for name, dep in data["dependencies"].items():
        state = "ok" if dep["ok"] else "DOWN"
        detail = f" ({dep['detail']})" if dep["detail"] else ""
        lines.append(f"  {name:<10} {state}{detail}")
    turns = data["turns"]
    by_source = ", ".join(f"{k} {v:.0f}" for k, v in sorted(turns["by_source"].items()))
    lines.append(
        f"  turns answered: {turns['total']:.0f}" + (f" ({by_source})" if by_source else "")
    )
    if data["mean_turn_latency_ms"] is not None:
        lines.append(f"  mean turn latency: {data['mean_turn_latency_ms']:.1f} ms")
    for unit, p in data["units"].items():
        if "memory_bytes" not in p:
            continue
        uptime = _duration(time.time() - p.get("started", time.time()))
        lines.append(
            f"  {unit}: memory {p['memory_bytes'] / 2**20:.0f} MB, open fds "
            f"{p.get('open_fds', 0):.0f}, threads {p.get('threads', 0):.0f}, up {uptime}"
        )
    skipped = data["watchdog_skipped"]
    if skipped:
        lines.append(f"  watchdog pings withheld: {skipped:.0f} (the process was unhealthy)")
    if data["notifications"]:
        parts = []
        for name, figures in data["notifications"].items():
            state = {1.0: "ok", 0.0: "FAILING"}.get(figures.get("up", -1.0), "not tried yet")
            parts.append(f"{name} {state} ({figures.get('waiting', 0):.0f} waiting)")
        lines.append("  notifications: " + ", ".join(parts))
    if data["kiosks"]:
        lines.append("  kiosks:")
        lines += [f"    {kiosk_line(name, k)}" for name, k in data["kiosks"].items()]
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
