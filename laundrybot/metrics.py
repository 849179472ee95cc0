"""Prometheus metrics: one registry per process, with a psutil process collector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

# Turn latency buckets in seconds: text turns take milliseconds, voice turns up to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Kiosk round-trip times (WebSocket keepalive) in seconds: LAN ~1 ms, Wi-Fi ~10 ms, bad links more.
RTT_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


# cgroup v1 writes "no limit" as a page-rounded 2**63 - 1.
_V1_UNLIMITED = 2**60


def cgroup_memory_limit(
    proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> int | None:
    """The memory limit systemd put on this process (MemoryMax=), in bytes; None when none.

    cgroup v2: ``memory.max`` of our cgroup and its ancestors (a slice can limit too);
    cgroup v1: ``memory.limit_in_bytes`` in the memory hierarchy. The lowest one applies.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    candidates: list[tuple[Path, str]] = []
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":  # v2 unified hierarchy: "0::/system.slice/x.service"
            candidates.append((root, path))
            candidates.append((root / "unified", path))  # hybrid systems
        elif "memory" in controllers.split(","):
            candidates.append((root / "memory", path))
    limits: list[int] = []
    for base, path in candidates:
        name = "memory.limit_in_bytes" if base.name == "memory" else "memory.max"
        folder = base / path.strip("/")
        while True:
            limit = _read_limit(folder / name)
            if limit is not None:
                limits.append(limit)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return min(limits) if limits else None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None  # "max": no limit here
    value = int(text)
    return value if 0 < value < _V1_UNLIMITED else None


class ProcessCollector(Collector):
    """RSS, CPU seconds, open fds and threads of this process, read by psutil at scrape time;
    and the memory limit that applies to it: its cgroup's, else ``fallback_limit()``."""

    def __init__(self, unit: str, fallback_limit: Callable[[], float] | None = None) -> None:
        self.unit = unit
        self._process = psutil.Process()
        self._fallback = fallback_limit

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        p = self._process
        with p.oneshot():
            rss = p.memory_info().rss
            cpu = p.cpu_times()
            fds = p.num_fds()
            threads = p.num_threads()
            started = p.create_time()
        labels = ["unit"]
        for name, doc, value, family in (
            ("laundrybot_process_resident_memory_bytes", "Resident memory.", rss, "gauge"),
            (
                "laundrybot_process_cpu_seconds",
                "CPU time, user+system.",
                cpu.user + cpu.system,
                "counter",
            ),
            ("laundrybot_process_open_fds", "Open file descriptors.", fds, "gauge"),
            ("laundrybot_process_threads", "Threads.", threads, "gauge"),
            (
                "laundrybot_process_start_time_seconds",
                "Start time, epoch seconds.",
                started,
                "gauge",
            ),
        ):
            cls = CounterMetricFamily if family == "counter" else GaugeMetricFamily
            metric = cls(name, doc, labels=labels)
            metric.add_metric([self.unit], value)
            yield metric
        # Read at each scrape: cheap, and `systemctl set-property` can change it at run time.
        limit = cgroup_memory_limit()
        if limit is None and self._fallback is not None:
            limit = int(self._fallback())
        if limit is not None:
            metric = GaugeMetricFamily(
                "laundrybot_memory_limit_bytes",
                "Memory this unit may use: its cgroup's limit (systemd MemoryMax=), else "
                "health.max_rss_mb.",
                labels=labels,
            )
            metric.add_metric([self.unit], limit)
            yield metric


class RunnerMetrics:
    """What every process reports: itself, its readiness, its watchdog and reloads."""

    def __init__(
        self,
        unit: str,
        registry: CollectorRegistry | None = None,
        fallback_limit: Callable[[], float] | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        r.register(ProcessCollector(unit, fallback_limit))
        self.ready = Gauge("laundrybot_ready", "1 when every dependency is ready.", registry=r)
        self.dependency_up = Gauge(
            "laundrybot_dependency_up", "1 per dependency that is ok.", ["dependency"], registry=r
        )
        self.loop_lag = Gauge(
            "laundrybot_event_loop_lag_seconds", "Last measured event-loop lag.", registry=r
        )
        self.watchdog_skipped = Counter(
            "laundrybot_watchdog_skipped",
            "Watchdog pings withheld because the process was unhealthy.",
            registry=r,
        )
        self.reloads = Counter(
            "laundrybot_reloads", "Configuration reloads, by result.", ["result"], registry=r
        )


class GatewayMetrics:
    """Everything the gateway counts, on the process registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        self.connections = Gauge(
            "laundrybot_gateway_connections", "Open kiosk connections.", registry=r
        )
        self.connections_total = Counter(
            "laundrybot_gateway_connections_accepted", "Kiosk connections accepted.", registry=r
        )
        self.sessions = Gauge(
            "laundrybot_gateway_sessions", "Sessions kept for resuming.", registry=r
        )
        self.session_bytes = Gauge(
            "laundrybot_gateway_session_bytes",
            "Memory the kept sessions' conversations take, as counted against "
            "gateway.limits.session_memory_mb.",
            registry=r,
        )
        self.session_memory = Gauge(
            "laundrybot_gateway_session_memory_bytes",
            "The sessions' memory bound (from gateway.memory_budget_mb).",
            registry=r,
        )
        self.connections_dropped = Counter(
            "laundrybot_gateway_connections_dropped",
            "Connections dropped by a protection: waiting (too many without hello), unsent "
            "(not reading what it is sent), flood (too many frames or bytes a second).",
            ["reason"],
            registry=r,
        )
        self.connections_refused = Counter(
            "laundrybot_gateway_connections_refused",
            "Kiosk connections closed at once because of the connection limit.",
            registry=r,
        )
        self.sessions_resumed = Counter(
            "laundrybot_gateway_sessions_resumed", "Sessions resumed after a reconnect.", registry=r
        )
        self.turns = Counter(
            "laundrybot_turns",
            "Customer turns answered, by intent and answer source.",
            ["intent", "source"],
            registry=r,
        )
        self.turn_latency = Histogram(
            "laundrybot_turn_latency_seconds",
            "From the question (typed: arrival; spoken: end of speech) to the reply being sent.",
            ["mode"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.first_audio = Histogram(
            "laundrybot_first_audio_seconds",
            "From the question (typed: arrival; spoken: end of speech) to the first reply audio.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.voice_turns = Counter(
            "laundrybot_voice_turns",
            "Spoken questions, by the transcript chosen (grammar-biased or free recognition).",
            ["transcript"],
            registry=r,
        )
        self.errors = Counter(
            "laundrybot_gateway_errors",
            "Error replies sent to kiosks, by code.",
            ["code"],
            registry=r,
        )
        self.escalations = Counter(
            "laundrybot_escalations", "Escalations recorded, by kind.", ["kind"], registry=r
        )
        self.spool_rows = Gauge(
            "laundrybot_spool_rows", "Rows in the spool, by table.", ["table"], registry=r
        )
        self.spool_pending = Gauge(
            "laundrybot_spool_pending_rows",
            "Rows in the spool not yet forwarded to PostgreSQL, by table.",
            ["table"],
            registry=r,
        )
        self.spool_backlog = Gauge(
            "laundrybot_spool_memory_backlog_rows",
            "Rows held in memory because the spool could not be written.",
            registry=r,
        )
        self.spool_up = Gauge("laundrybot_spool_up", "1 when the spool can be written.", registry=r)
        self.spool_dropped = Counter(
            "laundrybot_spool_dropped_rows",
            "Rows lost: the spool could not be written and the backlog was full.",
            registry=r,
        )
        self.spool_refused = Counter(
            "laundrybot_spool_refused_rows",
            "Rows SQLite refused for themselves (never writable), dropped.",
            registry=r,
        )
        self.spool_fallback_up = Gauge(
            "laundrybot_spool_fallback_up",
            "0 while rows the spool could not take are in memory only (the fallback journal "
            "cannot be written either): a crash would lose them.",
            registry=r,
        )
        self.escalation_answers = Counter(
            "laundrybot_escalation_answers",
            "What customers were told about their escalation, by the notify unit's result: "
            "accepted or already (staff messaged), else pending, unreachable, no-channels.",
            ["result"],
            registry=r,
        )
        self.unit_failures = Gauge(
            "laundrybot_unit_failures_recent",
            "unit-failure events (systemd OnFailure=) in the spool during the last hour, by "
            "unit and result (watchdog, signal, exit-code, start-limit-hit, ...).",
            ["unit", "result"],
            registry=r,
        )
        self.disk_free = Gauge(
            "laundrybot_disk_free_bytes",
            "Free bytes (for laundrybot's user) on the disk that holds the spool.",
            registry=r,
        )
        self.disk_size = Gauge(
            "laundrybot_disk_size_bytes", "Size of the disk that holds the spool.", registry=r
        )
        self.max_rss = Gauge(
            "laundrybot_health_max_rss_bytes",
            "health.max_rss_mb: above it the watchdog is withheld (the unit is restarted).",
            registry=r,
        )
        self.max_fds = Gauge(
            "laundrybot_health_max_open_fds",
            "health.max_open_fds: above it the watchdog is withheld (the unit is restarted).",
            registry=r,
        )
        self.database_configured = Gauge(
            "laundrybot_database_configured",
            "1 when store.postgres.dsn is set (the spool is then forwarded), else 0.",
            registry=r,
        )
        # Network quality, per kiosk (label values bounded: see gateway/link.py).
        self.kiosk_rtt = Histogram(
            "laundrybot_kiosk_rtt_seconds",
            "Round-trip time of the WebSocket keepalive ping, per kiosk.",
            ["kiosk"],
            buckets=RTT_BUCKETS,
            registry=r,
        )
        self.kiosk_reconnects = Counter(
            "laundrybot_kiosk_reconnects",
            "Kiosks coming back after a lost connection (a hello with resume), per kiosk.",
            ["kiosk"],
            registry=r,
        )
        self.kiosk_resumed = Counter(
            "laundrybot_kiosk_sessions_resumed",
            "Reconnects that got their conversation back, per kiosk.",
            ["kiosk"],
            registry=r,
        )
        self.kiosk_offline = Counter(
            "laundrybot_kiosk_offline_seconds",
            "Time kiosks report they were disconnected (hello offline_ms), per kiosk.",
            ["kiosk"],
            registry=r,
        )
        self.kiosk_received = Counter(
            "laundrybot_kiosk_received_bytes",
            "Bytes received from the kiosk on its connections (WebSocket frames and all).",
            ["kiosk"],
            registry=r,
        )
        self.kiosk_sent = Counter(
            "laundrybot_kiosk_sent_bytes",
            "Bytes sent to the kiosk on its connections.",
            ["kiosk"],
            registry=r,
        )
