"""Which topic is which machine, and what a payload says about it.

A feed (``machines.feeds`` in the configuration) is one topic with its machine number, or a
pattern such as ``tele/washer-{n}/SENSOR`` where ``{n}`` is the number. Patterns are
subscribed with MQTT's one-level wildcard (``tele/+/SENSOR``) and matched exactly here, so a
neighbour's ``tele/fridge/SENSOR`` on the same broker is counted as unmapped and ignored.

Payload kinds: ``power`` (watts: Tasmota's SENSOR JSON ``{"ENERGY": {"Power": 512}}``, a plain
number as ESPHome and Shelly publish, or JSON ``{"power": ...}`` / ``{"apower": ...}``),
``state`` (``ON``/``OFF``, ``free``/``busy``, ``error``) and ``json``
(``{"state": "busy", "minutes_left": 34}``). Anything else raises ``BadPayload``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from laundrybot.config import MachineFeed
from laundrybot.machines.power import PowerThresholds
from laundrybot.machines.state import MachineState

# Longest cycle a payload may announce, in minutes.
MAX_MINUTES = 24 * 60
# Highest machine number a topic may name.
MAX_NUMBER = 100_000

STATE_WORDS: dict[str, MachineState] = {
    "on": MachineState.BUSY,
    "busy": MachineState.BUSY,
    "running": MachineState.BUSY,
    "off": MachineState.FREE,
    "free": MachineState.FREE,
    "idle": MachineState.FREE,
    "done": MachineState.FREE,
    "error": MachineState.OUT_OF_ORDER,
    "fault": MachineState.OUT_OF_ORDER,
    "out-of-order": MachineState.OUT_OF_ORDER,
}


class BadPayload(ValueError):
    """A payload that does not say what its feed's kind promises; the text says why."""


@dataclass(frozen=True)
class Reading:
    """What one message says: a power reading, or a state (with the minutes left, if given)."""

    watts: float | None = None
    state: MachineState | None = None
    minutes_left: float | None = None


@dataclass(frozen=True)
class Match:
    feed: MachineFeed
    number: int


def subscription(topic: str) -> str:
    """The MQTT filter for a feed's topic: the level holding {n} becomes ``+``."""
    if "{n}" not in topic:
        return topic
    return "/".join("+" if "{n}" in level else level for level in topic.split("/"))


def thresholds(feed: MachineFeed) -> PowerThresholds:
    return PowerThresholds(
        feed.running_watts, feed.running_seconds, feed.done_watts, feed.done_seconds
    )


class TopicMap:
    """The configured feeds, compiled; ``match`` names the machine a topic is about."""

    def __init__(self, feeds: tuple[MachineFeed, ...]) -> None:
        self.feeds = feeds
        self._exact: dict[str, MachineFeed] = {}
        self._patterns: list[tuple[re.Pattern[str], MachineFeed]] = []
        for feed in feeds:
            if "{n}" in feed.topic:
                before, _, after = feed.topic.partition("{n}")
                regex = re.compile(re.escape(before) + r"(\d{1,6})" + re.escape(after))
                self._patterns.append((regex, feed))
            else:
                self._exact.setdefault(feed.topic, feed)

    def subscriptions(self) -> list[str]:
        return sorted({subscription(feed.topic) for feed in self.feeds})

    def match(self, topic: str) -> Match | None:
        feed = self._exact.get(topic)
        if feed is not None:
            return Match(feed, feed.machine)
        for regex, feed in self._patterns:
            found = regex.fullmatch(topic)
            if found:
                number = int(found.group(1)) + feed.offset
                if 1 <= number <= MAX_NUMBER:
                    return Match(feed, number)
        return None

    def feed_of(self, number: int) -> MachineFeed | None:
        """The feed a machine's state comes from, guessed from its number (after a restart)."""
        for feed in self.feeds:
            if feed.machine == number:
                return feed
        for feed in self.feeds:
            if "{n}" in feed.topic and number - feed.offset >= 0:
                return feed
        return None


def parse(kind: str, payload: bytes) -> Reading:
    """What ``payload`` says for a feed of ``kind`` (power, state, json)."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BadPayload("not UTF-8 text") from None
    if not text:
        raise BadPayload("empty")
    if kind == "power":
        return Reading(watts=_power(text))
    if kind == "state":
        return Reading(state=_state_word(text))
    return _json_state(text)


def _power(text: str) -> float:
    try:
        value: object = float(text)
    except ValueError:
        value = _json(text)
        if isinstance(value, dict):
            energy = value.get("ENERGY")
            if isinstance(energy, dict) and "Power" in energy:
                value = energy["Power"]
                if isinstance(value, list) and value and all(map(_number, value)):
                    value = sum(value)  # a plug with several channels: what they draw together
            elif "power" in value:
                value = value["power"]
            elif "apower" in value:
                value = value["apower"]
            else:
                raise BadPayload("no ENERGY.Power, power or apower in the JSON") from None
    if not _number(value):
        raise BadPayload(f"not a power reading: {str(value)[:40]!r}")
    watts = float(value)  # type: ignore[arg-type]
    if not math.isfinite(watts) or watts < 0 or watts > 1_000_000:
        raise BadPayload(f"not a power reading in watts: {watts!r}")
    return watts


def _state_word(text: str) -> MachineState:
    state = STATE_WORDS.get(text.lower())
    if state is None:
        raise BadPayload(f"not a machine state: {text[:40]!r}")
    return state


def _json_state(text: str) -> Reading:
    value = _json(text)
    if not isinstance(value, dict) or not isinstance(value.get("state"), str):
        raise BadPayload('not a JSON object with a "state"')
    state = _state_word(value["state"])
    minutes = value.get("minutes_left")
    if minutes is None:
        return Reading(state=state)
    if not isinstance(minutes, (int, float)) or isinstance(minutes, bool):
        raise BadPayload("minutes_left is not a number")
    if not 0 <= minutes <= MAX_MINUTES:
        raise BadPayload(f"minutes_left is not from 0 to {MAX_MINUTES}")
    return Reading(state=state, minutes_left=float(minutes))


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        raise BadPayload("neither a number nor JSON") from None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
