"""What a service is to the runner: start, reload in two phases, stop, and a status line."""

from __future__ import annotations

import abc
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from laundrybot.config import Config
from laundrybot.health import Liveness, Readiness


@dataclass
class ServiceContext:
    """What the runner shares with the services it runs in one process."""

    config: Config
    readiness: Readiness
    liveness: Liveness
    registry: CollectorRegistry
    # Sockets passed by systemd socket activation, for the service that listens.
    listen_sockets: list[socket.socket] = field(default_factory=list)
    # Ask the runner to send a fresh STATUS= line soon.
    status_changed: Callable[[], None] = lambda: None
    # The unit name(s) this process runs, as named to `serve` ("gateway@2", "asr+tts").
    unit: str = ""


class Service(abc.ABC):
    """One unit's work. ``laundrybot serve NAME`` runs the service registered as NAME."""

    name: str = ""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @abc.abstractmethod
    async def start(self) -> None:
        """Return once the service can serve (the runner then sends READY=1)."""

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        """Validate ``config`` and build what it needs, without changing anything yet.

        Raise ConfigError to refuse it (the old one keeps serving). Return a function that
        switches to the new state; the runner calls it only once every service agreed.
        """

        def commit() -> None:
            self.ctx.config = config

        return commit

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop gracefully: finish or record work in progress within a bound."""

    def status(self) -> str:
        """A short, human part of the STATUS= line."""
        return ""
