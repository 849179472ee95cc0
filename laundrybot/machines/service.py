"""`laundrybot serve machines`: machine status from the shop floor, over MQTT.

Sensors (smart plugs that measure power, or a controller that says free/busy) publish to a
broker; this unit subscribes to the topics of ``machines.feeds``, turns each message into a
state (``mapping``, ``power``) and writes every change to the spool: the machines table
(``upsert_machine``) and a ``machine-change`` event with ``source: mqtt``, the same event the
CLI writes, so the gateway answers with it and the recorder takes it to PostgreSQL.

A machine whose feed has said nothing for its ``stale_after`` is "unknown": better than a
"free" that is an hour old. A payload that does not parse is counted, logged at most once a
minute per topic, and changes nothing. Without a broker configured the unit idles and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from laundrybot.config import Config, MachineFeed, MachinesConfig
from laundrybot.machines.mapping import BadPayload, TopicMap, parse, thresholds
from laundrybot.machines.mqtt import BrokerLink, BrokerSetupError, broker_target
from laundrybot.machines.power import PowerTracker
from laundrybot.machines.state import MachineSource, MachineState, MachineStatus
from laundrybot.service import Service, ServiceContext
from laundrybot.store.spool import Event, Spool, SpoolUnavailable

log = logging.getLogger(__name__)

IDLE = "no MQTT broker configured (machines.broker): machine status comes from staff"
# Seconds between two log lines about the same topic's bad payloads.
LOG_EVERY = 60.0
# Topics remembered for that; beyond it the memory starts again (a flood of odd topics).
MAX_LOGGED_TOPICS = 10_000
# A new end of cycle closer than this (seconds) to the one written is no change.
UNTIL_SLACK = 60.0
# Seconds between looks at hold times and silent feeds, at most and at least.
TICK_MAX = 1.0
TICK_MIN = 0.05


class MachinesMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.messages = Counter(
            "laundrybot_machines_messages",
            "MQTT messages received, by result: applied, unmapped (no feed for the topic),"
            " malformed (the payload does not parse or is too big).",
            ["result"],
            registry=r,
        )
        self.changes = Counter(
            "laundrybot_machines_state_changes",
            "Machine state changes written to the spool, by new state.",
            ["state"],
            registry=r,
        )
        self.broker_up = Gauge(
            "laundrybot_machines_broker_up",
            "1 while connected and subscribed to the MQTT broker, 0 when not, -1 when none is"
            " configured.",
            registry=r,
        )
        self.connects = Counter(
            "laundrybot_machines_broker_connects",
            "Connections made to the MQTT broker (the first and every reconnection).",
            registry=r,
        )
        self.machines = Gauge(
            "laundrybot_machines_tracked", "Machines with a feed heard from.", registry=r
        )
        self.unknown = Gauge(
            "laundrybot_machines_unknown",
            "Machines whose feed has been silent longer than its stale_after.",
            registry=r,
        )
        self.write_failures = Counter(
            "laundrybot_machines_spool_write_failures",
            "State changes the spool could not take at once (kept in its memory backlog).",
            registry=r,
        )
        for result in ("applied", "unmapped", "malformed"):
            self.messages.labels(result)


@dataclass
class Track:
    """One machine as this unit follows it."""

    number: int
    feed: MachineFeed
    power: PowerTracker | None
    state: MachineState | None  # the state last written (None: nothing yet)
    until: float | None
    last_seen: float  # monotonic time of the last good message (or of the unit's start)


class MachinesService(Service):
    name = "machines"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.metrics = MachinesMetrics(ctx.registry)
        self.topics = TopicMap(ctx.config.machines.feeds)
        self.tracks: dict[int, Track] = {}
        self.spool: Spool | None = None
        self.connected = False
        self.problem = ""
        self.target_shown = ""
        self.received = 0
        self.malformed = 0
        self.written = 0
        self._link: BrokerLink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._writes: asyncio.Queue[tuple[MachineStatus, Event]] = asyncio.Queue()
        self._logged: dict[str, float] = {}
        self._last_problem_log = ("", 0.0)
        # Called after each change is committed (the gateway push hooks in here).
        self.on_change: Callable[[MachineStatus], None] = lambda status: None

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.ctx.config.machines.broker:
            self.metrics.broker_up.set(-1)
            log.info("machines: %s", IDLE)
            return
        await self._start_link()

    async def _start_link(self) -> None:
        config = self.ctx.config
        if self.spool is None:
            self.spool = Spool(config.spool_path, config.shop_id, on_state=self._spool_state)
            self.ctx.liveness.watch(self.spool.watch)
            await self.spool.start()
            await self._load_known()
        try:
            target = broker_target(config)
            self.target_shown = target.shown if target else ""
        except BrokerSetupError as exc:
            self.target_shown = config.machines.broker
            self._broker_state(False, str(exc))
        self.metrics.broker_up.set(0)
        if not self.problem:
            self.ctx.readiness.set("broker", False, f"connecting to {self.target_shown}")
        self._link = BrokerLink(
            config, self.topics.subscriptions(), self._message, self._broker_state
        )
        self._tasks = [
            asyncio.create_task(self._link.run(), name="machines-mqtt"),
            asyncio.create_task(self._write_loop(), name="machines-writer"),
            asyncio.create_task(self._tick_loop(), name="machines-tick"),
        ]

    async def _stop_link(self) -> None:
        link_tasks = [t for t in self._tasks if t.get_name() != "machines-writer"]
        for task in link_tasks:
            task.cancel()
        await asyncio.gather(*link_tasks, return_exceptions=True)
        # Let the writer finish what is queued, briefly; then stop it too.
        writer = [t for t in self._tasks if t.get_name() == "machines-writer"]
        if writer and not self._writes.empty():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained(), 5)
        for task in writer:
            task.cancel()
        await asyncio.gather(*writer, return_exceptions=True)
        self._tasks = []
        self._link = None
        self.connected = False

    async def _drained(self) -> None:
        while not self._writes.empty():
            await asyncio.sleep(0.02)

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        topics = TopicMap(config.machines.feeds)
        old = self.ctx.config.machines

        def commit() -> None:
            self.ctx.config = config
            self.topics = topics
            for track in self.tracks.values():
                feed = topics.feed_of(track.number)
                if feed is not None and feed != track.feed:
                    track.feed = feed
                    track.power = _tracker(feed)
            if _link_settings(config.machines) != _link_settings(old):
                task = asyncio.get_running_loop().create_task(self._relink())
                self._tasks.append(task)

        return commit

    async def _relink(self) -> None:
        current = asyncio.current_task()
        self._tasks = [t for t in self._tasks if t is not current]
        await self._stop_link()
        if self.ctx.config.machines.broker:
            log.info("machines: broker settings changed, connecting again")
            await self._start_link()
        else:
            log.info("machines: broker removed from the configuration; %s", IDLE)
            self.metrics.broker_up.set(-1)
            self.problem = ""
            self.ctx.readiness.set("broker", True, "not configured")
            self.ctx.status_changed()

    async def stop(self) -> None:
        await self._stop_link()
        if self.spool is not None:
            await self.spool.stop()
            self.ctx.liveness.unwatch(self.spool.watch)

    def status(self) -> str:
        if not self.ctx.config.machines.broker:
            return IDLE
        unknown = sum(1 for t in self.tracks.values() if t.state is MachineState.UNKNOWN)
        where = f"broker {self.target_shown}"
        state = "connected" if self.connected else (self.problem or "connecting")
        return (
            f"{where} {state}; {len(self.tracks)} machines ({unknown} unknown),"
            f" {self.received} messages, {self.malformed} malformed, {self.written} changes"
        )

    # -- messages --------------------------------------------------------------------------

    def _message(self, topic: str, payload: bytes, retained: bool) -> None:
        self.received += 1
        limit = self.ctx.config.machines.max_payload_bytes
        if len(payload) > limit:
            self._bad(topic, f"payload of {len(payload)} bytes (limit {limit})")
            return
        match = self.topics.match(topic)
        if match is None:
            self.metrics.messages.labels("unmapped").inc()
            return
        feed = match.feed
        try:
            reading = parse(feed.payload, payload)
        except BadPayload as exc:
            self._bad(topic, str(exc))
            return
        self.metrics.messages.labels("applied").inc()
        now = time.monotonic()
        track = self.tracks.get(match.number)
        if track is None or track.feed is not feed:
            power = _tracker(feed)
            state = track.state if track is not None else None
            until = track.until if track is not None else None
            track = Track(match.number, feed, power, state, until, now)
            self.tracks[match.number] = track
            self.metrics.machines.set(len(self.tracks))
        track.last_seen = now
        if reading.watts is not None:
            if track.power is None:
                track.power = PowerTracker(thresholds(feed))
            track.power.reading(reading.watts, now)
            if track.power.state is not None:
                self._set(track, track.power.state, None)
        elif reading.state is not None:
            until = None
            if reading.state is MachineState.BUSY and reading.minutes_left is not None:
                until = time.time() + reading.minutes_left * 60
            self._set(track, reading.state, until)

    def _bad(self, topic: str, reason: str) -> None:
        self.malformed += 1
        self.metrics.messages.labels("malformed").inc()
        now = time.monotonic()
        if now - self._logged.get(topic, -LOG_EVERY) < LOG_EVERY:
            return
        if len(self._logged) >= MAX_LOGGED_TOPICS:
            self._logged.clear()
        self._logged[topic] = now
        log.warning("machines: ignored a message on %s: %s", topic[:200], reason)

    def _set(self, track: Track, state: MachineState, until: float | None) -> None:
        """Write ``state`` if it is a change (the same state again is no news)."""
        if state is track.state:
            same_until = (until is None and track.until is None) or (
                until is not None
                and track.until is not None
                and abs(until - track.until) < UNTIL_SLACK
            )
            if same_until:
                return
        previous = track.state
        track.state, track.until = state, until
        now = time.time()
        status = MachineStatus(track.number, state, until, now, MachineSource.MQTT.value)
        detail: dict[str, object] = {
            "state": state.value,
            "until": until,
            "source": MachineSource.MQTT.value,
            "by": "mqtt",
            "previous": previous.value if previous is not None else None,
        }
        event = Event(kind="machine-change", machine=track.number, detail=detail, ts=now)
        self.metrics.changes.labels(state.value).inc()
        self._writes.put_nowait((status, event))
        if state is MachineState.UNKNOWN:
            log.warning(
                "machines: machine %d is unknown: its feed %s has been silent for over %g s",
                track.number,
                track.feed.topic,
                track.feed.stale_after,
            )
        else:
            log.info("machines: machine %d is %s", track.number, state.value)

    # -- background ------------------------------------------------------------------------

    async def _write_loop(self) -> None:
        assert self.spool is not None
        while True:
            first = await self._writes.get()
            batch = [first]
            while not self._writes.empty() and len(batch) < 200:
                batch.append(self._writes.get_nowait())
            rows = [row for pair in batch for row in pair]
            try:
                await self.spool.record(*rows)
            except SpoolUnavailable as exc:
                # The spool keeps the rows in memory and writes them once it can.
                self.metrics.write_failures.inc(len(batch))
                log.error("machines: spool: %s", exc)
                continue
            self.written += len(batch)
            for status, _ in batch:
                self.on_change(status)
            self.ctx.status_changed()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_interval())
            self.tick(time.monotonic())

    def _tick_interval(self) -> float:
        holds = [TICK_MAX]
        for feed in self.ctx.config.machines.feeds:
            holds += [feed.running_seconds / 5, feed.done_seconds / 5]
            if feed.stale_after:
                holds.append(feed.stale_after / 5)
        return max(TICK_MIN, min(holds))

    def tick(self, now: float) -> None:
        """Hold times met since the last reading, and feeds gone silent."""
        for track in self.tracks.values():
            limit = track.feed.stale_after
            if limit and now - track.last_seen > limit:
                if track.state is not MachineState.UNKNOWN:
                    self._set(track, MachineState.UNKNOWN, None)
                continue
            if track.power is not None and track.power.tick(now) is not None:
                assert track.power.state is not None
                self._set(track, track.power.state, None)
        self.metrics.unknown.set(
            sum(1 for t in self.tracks.values() if t.state is MachineState.UNKNOWN)
        )

    async def _load_known(self) -> None:
        """Machines this unit set before a restart: silent from now on, they become unknown."""
        assert self.spool is not None
        try:
            known = await self.spool.read(lambda db: db.machines())
        except SpoolUnavailable as exc:
            log.error("machines: cannot read the spool: %s", exc)
            return
        now = time.monotonic()
        for number, status in known.items():
            if status.source != MachineSource.MQTT.value:
                continue
            feed = self.topics.feed_of(number)
            if feed is None:
                continue
            power = _tracker(feed)
            if power is not None and status.state in (MachineState.FREE, MachineState.BUSY):
                power.state = status.state
            self.tracks[number] = Track(number, feed, power, status.state, status.until, now)
        self.metrics.machines.set(len(self.tracks))

    def _broker_state(self, ok: bool, detail: str) -> None:
        was = self.connected
        self.connected = ok
        self.metrics.broker_up.set(1 if ok else 0)
        if ok:
            self.problem = ""
            self.metrics.connects.inc()
            self.ctx.readiness.set("broker", True, "")
            log.info("machines: connected and subscribed: %s", detail)
        else:
            reason = detail.rpartition("; retrying")[0] or detail
            self.problem = detail
            self.ctx.readiness.set("broker", False, f"{self.target_shown}: {reason}")
            last_reason, last_time = self._last_problem_log
            if was or reason != last_reason or time.monotonic() - last_time > LOG_EVERY:
                log.error("machines: broker %s: %s", self.target_shown, detail)
                self._last_problem_log = (reason, time.monotonic())
        self.ctx.status_changed()

    def _spool_state(self, ok: bool, detail: str) -> None:
        self.ctx.readiness.set("spool", ok, detail)


def _link_settings(settings: MachinesConfig) -> MachinesConfig:
    """The settings this unit's broker link depends on (the gateway's API ones left out)."""
    return dataclasses.replace(settings, api_token_file="", api_rate=1.0, api_burst=1)


def _tracker(feed: MachineFeed) -> PowerTracker | None:
    return PowerTracker(thresholds(feed)) if feed.payload == "power" else None
