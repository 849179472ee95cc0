"""The connection to the MQTT broker: connect, subscribe, hand every message on; on any loss
wait (doubling from reconnect_min to reconnect_max, with jitter) and do it all again.

The session is persistent (clean_session false, a fixed client id, QoS 1): while the unit is
away the broker queues what the feeds publish, and after a broker restart the subscriptions
are made again anyway. Retained messages arrive first on every subscribe, so the unit knows
each machine's state at start without waiting for the next change. A message redelivered
(QoS 1 allows it) or retained again changes nothing: only a change of state is written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiomqtt

from laundrybot.config import Config, MachinesConfig

log = logging.getLogger(__name__)

# Messages read but not handled yet, at most: a flood beyond this is dropped by aiomqtt (and
# logged) rather than growing memory.
MAX_QUEUED = 20_000
CREDENTIAL = "mqtt-password"


# paho logs each failed socket read at ERROR; the unit logs its own explanation instead.
PAHO_LOG = logging.getLogger("laundrybot.machines.paho")
PAHO_LOG.setLevel(logging.CRITICAL)


class BrokerSetupError(Exception):
    """The broker cannot be tried as configured (an unreadable password file, a bad CA file)."""


@dataclass(frozen=True)
class BrokerTarget:
    """Everything a connection needs, read once per attempt (the password file may change)."""

    host: str
    port: int
    tls: bool
    ca_file: str
    username: str
    password: str | None
    client_id: str
    keepalive: int
    connect_timeout: float

    @property
    def shown(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def broker_target(config: Config) -> BrokerTarget | None:
    """The broker of ``config``, or None when none is configured. Raises BrokerSetupError."""
    mc: MachinesConfig = config.machines
    if not mc.broker:
        return None
    password: str | None = None
    if mc.password_file:
        password = _read_secret(Path(mc.password_file))
    elif mc.username:
        credentials = os.environ.get("CREDENTIALS_DIRECTORY", "")
        path = Path(credentials) / CREDENTIAL if credentials else None
        if path is not None and path.is_file():
            password = _read_secret(path)
    return BrokerTarget(
        host=mc.broker,
        port=mc.port,
        tls=mc.tls,
        ca_file=mc.ca_file,
        username=mc.username,
        password=password,
        client_id=mc.client_id or f"laundrybot-machines-{config.shop_id}",
        keepalive=mc.keepalive,
        connect_timeout=mc.connect_timeout,
    )


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerSetupError(f"cannot read the MQTT password file {path}: {exc}") from None


def tls_context(target: BrokerTarget) -> ssl.SSLContext | None:
    if not target.tls:
        return None
    try:
        return ssl.create_default_context(cafile=target.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise BrokerSetupError(f"cannot use the CA file {target.ca_file}: {exc}") from None


def explain(exc: BaseException) -> str:
    """A short, owner-readable reason for a failed connection (never a password)."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or "wrong version number" in lowered:
        return f"TLS failed ({text}); check machines.tls, machines.ca_file and the port"
    if "not authori" in lowered or "bad user name or password" in lowered:
        return f"the broker refused the login ({text}); check machines.username and the password"
    if "refused" in lowered:
        return f"connection refused ({text}); is the broker running on that port?"
    if "timed out" in lowered:
        return f"no answer from the broker ({text}); a TLS port without machines.tls?"
    return text


class BrokerLink:
    """Keeps one MQTT connection up and subscribed; runs until cancelled."""

    def __init__(
        self,
        config: Config,
        subscriptions: list[str],
        on_message: Callable[[str, bytes, bool], None],
        on_state: Callable[[bool, str], None],
    ) -> None:
        self.config = config
        self.subscriptions = subscriptions
        self.on_message = on_message
        self.on_state = on_state
        self.attempts = 0
        self.connects = 0

    async def run(self) -> None:
        failures = 0
        mc = self.config.machines
        while True:
            self.attempts += 1
            try:
                target = broker_target(self.config)
                if target is None:
                    return
                await self._session(target)
                failures = 0  # the broker closed a session that was up: retry at once
                reason = "the broker closed the connection"
            except asyncio.CancelledError:
                raise
            except BrokerSetupError as exc:
                reason = str(exc)
            except aiomqtt.MqttError as exc:
                reason = explain(exc)
            except (OSError, ssl.SSLError) as exc:
                reason = explain(exc)
            failures += 1
            delay = min(mc.reconnect_max, mc.reconnect_min * 2 ** min(failures - 1, 16))
            delay *= random.uniform(0.8, 1.2)
            self.on_state(False, f"{reason}; retrying in {delay:.2g} s")
            await asyncio.sleep(delay)

    async def _session(self, target: BrokerTarget) -> None:
        client = aiomqtt.Client(
            target.host,
            target.port,
            username=target.username or None,
            password=target.password,
            identifier=target.client_id,
            clean_session=False,
            keepalive=target.keepalive,
            timeout=target.connect_timeout,
            tls_context=tls_context(target),
            max_queued_incoming_messages=MAX_QUEUED,
            logger=PAHO_LOG,
        )
        async with client:
            for topic in self.subscriptions:
                await client.subscribe(topic, qos=1)
            self.connects += 1
            self.on_state(True, f"{target.shown}, {len(self.subscriptions)} subscriptions")
            async for message in client.messages:
                payload = message.payload
                if isinstance(payload, str):
                    data = payload.encode()
                elif isinstance(payload, (bytes, bytearray)):
                    data = bytes(payload)
                else:
                    data = b"" if payload is None else str(payload).encode()
                self.on_message(message.topic.value, data, bool(message.retain))
