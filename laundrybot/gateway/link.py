"""Network quality per kiosk: round-trip times, bytes, reconnects and when it was last seen.

``LinkConnection`` is the gateway's WebSocket connection class (websockets'
``create_connection``): it counts the bytes that cross the socket and keeps the round-trip time
of each keepalive pong. ``LinkStats`` turns those into the per-kiosk metrics, a second or so
later and when a connection ends, and answers ``laundrybot_kiosk_last_seen_*`` at scrape time.

Kiosk names label the metrics; a shop has a few kiosks, but names come from outside, so at most
``MAX_KIOSK_LABELS`` distinct names are used and any further kiosk is counted as "other".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from websockets.asyncio.server import ServerConnection
from websockets.frames import CloseCode, Frame
from websockets.protocol import State

from laundrybot.gateway.admission import Admission
from laundrybot.metrics import GatewayMetrics

MAX_KIOSK_LABELS = 50
# Bytes a connection may leave unsent (the transport's write buffer) before it is dropped.
DEFAULT_MAX_UNSENT = 1 << 20
OTHER = "other"


class LinkConnection(ServerConnection):
    """A ServerConnection that counts bytes in and out and keeps keepalive round-trip times.

    It is also where the gateway's protections sit that must act below the handler: it is
    "waiting" in ``admission`` from the moment it is accepted until it said hello.
    """

    def __init__(
        self,
        *args: Any,
        admission: Admission | None = None,
        max_unsent: int = DEFAULT_MAX_UNSENT,
        on_overflow: Callable[[], None] = lambda: None,
        max_frames: int = 0,
        max_bytes: int = 0,
        on_flood: Callable[[], None] = lambda: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.admission = admission
        self.max_unsent = max_unsent
        self.on_overflow = on_overflow
        # Frames (pings included) and bytes a second past which the peer is closed (0: off).
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self.on_flood = on_flood
        self._window = 0.0
        self._window_frames = 0
        self._window_bytes = 0
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

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self.admission is not None:
            peer = transport.get_extra_info("peername")
            address = str(peer[0]) if isinstance(peer, tuple) else ""
            self.admission.arrived(self, address)

    def connection_lost(self, exc: Exception | None) -> None:
        self.settled()
        super().connection_lost(exc)

    def settled(self) -> None:
        """Not waiting any more: it said hello, or was refused, or left."""
        if self.admission is not None:
            self.admission.settled(self)

    def drop(self) -> None:
        """Close the socket now, nothing more sent (it frees the fd at once)."""
        self.transport.abort()

    def send_data(self) -> None:
        """Write what the protocol has to send; drop a peer that lets it pile up unread.

        ``send()`` waits for the write buffer (``write_limit``), but websockets answers pings
        and writes broadcasts without waiting: a peer that pings and never reads would grow
        the buffer by what it sends. Past ``max_unsent`` bytes it is dropped at once (a close
        frame could not reach a peer that does not read).
        """
        super().send_data()
        transport = self.transport
        if transport.get_write_buffer_size() > self.max_unsent and not transport.is_closing():
            self.logger.info("dropping a peer that does not read (%d bytes unsent)",
                             transport.get_write_buffer_size())  # fmt: skip
            self.on_overflow()
            transport.abort()

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self.last_data = time.time()
        self._count(bytes_in=len(data))
        super().data_received(data)

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame) and self.protocol.state is State.OPEN:
            self._count(frames=1)
            if (self.max_frames and self._window_frames > self.max_frames) or (
                self.max_bytes and self._window_bytes > self.max_bytes
            ):
                self._close_flood()
                return
        super().process_event(event)

    def acknowledge_pings(self, data: bytes) -> None:
        solicited = data in self.pending_pings
        super().acknowledge_pings(data)
        if solicited and len(self.rtts) < 1000:
            self.rtts.append(self.latency)

    def _count(self, frames: int = 0, bytes_in: int = 0) -> None:
        """Frames and bytes in a fixed one-second window: an addition and a clock read."""
        now = time.monotonic()
        if now - self._window >= 1.0:
            self._window = now
            self._window_frames = 0
            self._window_bytes = 0
        self._window_frames += frames
        self._window_bytes += bytes_in

    def _close_flood(self) -> None:
        """1008, then the socket goes without waiting for the peer's answer (nor reading on)."""
        self.on_flood()
        self.protocol.fail(CloseCode.POLICY_VIOLATION, "too many messages")
        self.send_data()
        transport = self.transport
        transport.close()  # what is buffered (the close frame) is sent, nothing more is read
        self.loop.call_later(2.0, transport.abort)  # a peer that does not read it either


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
