"""Network quality per kiosk: round-trip times, bytes, reconnects and when it was last seen.

``LinkConnection`` is the gateway's WebSocket connection class (websockets'
``create_connection``): it counts the bytes that cross the socket and keeps the round-trip time
of each keepalive pong. ``LinkStats`` turns those into the per-kiosk metrics, a second or so
later and when a connection ends, and answers ``laundrybot_kiosk_last_seen_*`` at scrape time.

Kiosk names label the metrics; a shop has a few kiosks, but names come from outside, so at most
``MAX_KIOSK_LABELS`` distinct names are used and any further kiosk is counted as "other".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from websockets.asyncio.server import ServerConnection

from laundrybot.metrics import GatewayMetrics

MAX_KIOSK_LABELS = 50
OTHER = "other"


class LinkConnection(ServerConnection):
    """A ServerConnection that counts bytes in and out and keeps keepalive round-trip times."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bytes_in = 0
        self.bytes_out = 0
        self.rtts: list[float] = []  # since the last flush
        self.last_data = time.time()
        data_to_send = self.protocol.data_to_send

        def counting() -> list[bytes]:
            chunks = data_to_send()
            self.bytes_out += sum(len(c) for c in chunks)
            return chunks

        self.protocol.data_to_send = counting  # type: ignore[method-assign]

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self.last_data = time.time()
        super().data_received(data)

    def acknowledge_pings(self, data: bytes) -> None:
        solicited = data in self.pending_pings
        super().acknowledge_pings(data)
        if solicited and len(self.rtts) < 1000:
            self.rtts.append(self.latency)


class LinkStats(Collector):
    """Per-kiosk figures; registered on the gateway's registry for the last-seen gauges."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        self.labels: set[str] = set()
        self.last_seen: dict[str, float] = {}  # label -> epoch seconds
        self.connected: dict[str, int] = {}  # label -> open connections
        self.screen: dict[str, bool] = {}  # label -> its last hello said client "screen"
        self._flushed: dict[int, tuple[int, int]] = {}  # id(connection) -> bytes reported
        metrics.registry.register(self)

    def label(self, kiosk: str) -> str:
        if kiosk in self.labels:
            return kiosk
        if len(self.labels) < MAX_KIOSK_LABELS:
            self.labels.add(kiosk)
            return kiosk
        return OTHER

    def opened(self, kiosk: str) -> str:
        label = self.label(kiosk)
        self.connected[label] = self.connected.get(label, 0) + 1
        self.last_seen[label] = time.time()
        return label

    def client(self, label: str, client: str) -> None:
        """What the kiosk's hello said it is; the latest hello under a name wins."""
        self.screen[label] = client == "screen"

    def flush(self, label: str, ws: ServerConnection) -> None:
        """Move what a connection counted since the last flush into the metrics."""
        if not isinstance(ws, LinkConnection):
            return
        m = self.metrics
        rtts, ws.rtts = ws.rtts, []
        for rtt in rtts:
            m.kiosk_rtt.labels(label).observe(rtt)
        seen_in, seen_out = self._flushed.get(id(ws), (0, 0))
        if ws.bytes_in > seen_in:
            m.kiosk_received.labels(label).inc(ws.bytes_in - seen_in)
        if ws.bytes_out > seen_out:
            m.kiosk_sent.labels(label).inc(ws.bytes_out - seen_out)
        self._flushed[id(ws)] = (ws.bytes_in, ws.bytes_out)
        self.last_seen[label] = max(self.last_seen.get(label, 0.0), ws.last_data)

    def closed(self, label: str, ws: ServerConnection) -> None:
        self.flush(label, ws)
        self._flushed.pop(id(ws), None)
        self.connected[label] = max(0, self.connected.get(label, 0) - 1)
        self.last_seen[label] = time.time()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        age = GaugeMetricFamily(
            "laundrybot_kiosk_last_seen_seconds",
            "Seconds since the kiosk last sent anything (keepalive pongs included).",
            labels=["kiosk"],
        )
        stamp = GaugeMetricFamily(
            "laundrybot_kiosk_last_seen_timestamp_seconds",
            "When the kiosk last sent anything, epoch seconds.",
            labels=["kiosk"],
        )
        connected = GaugeMetricFamily(
            "laundrybot_kiosk_connected", "Open connections of the kiosk.", labels=["kiosk"]
        )
        screen = GaugeMetricFamily(
            "laundrybot_kiosk_screen",
            "1 for a kiosk screen, 0 for a terminal (laundrybot talk): its hello's client.",
            labels=["kiosk"],
        )
        for label, seen in sorted(self.last_seen.items()):
            age.add_metric([label], max(0.0, now - seen))
            stamp.add_metric([label], seen)
            connected.add_metric([label], self.connected.get(label, 0))
            screen.add_metric([label], 1 if self.screen.get(label, True) else 0)
        yield age
        yield stamp
        yield connected
        yield screen
