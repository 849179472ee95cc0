"""What every channel is: the Channel interface, its error, and reading its secrets.

The channels (webhook, email) import this module; ``channels`` imports them to build the list,
so nothing imports in a circle.
"""

from __future__ import annotations

import abc
import os
from pathlib import Path

from laundrybot.errors import ConfigError
from laundrybot.notify.message import Notification


class ChannelError(Exception):
    """A delivery attempt failed; ``retry_after`` is the peer's wish (seconds), if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(abc.ABC):
    kind = ""

    def __init__(self, name: str) -> None:
        self.name = name

    @abc.abstractmethod
    async def send(self, notification: Notification) -> None:
        """Return once the peer accepted it; raise ChannelError (or OSError) otherwise."""

    @abc.abstractmethod
    def describe(self) -> str:
        """What it is, with no secret in it (for logs and `laundrybot notify test`)."""

    async def close(self) -> None:
        return None


def read_secret(path: Path, setting: str, required: bool) -> str | None:
    """The first line of a secret file; None if it is optional and missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(str(path), setting, "a readable file holding the secret") from None
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"a readable file ({exc.__class__.__name__})"
        raise ConfigError(str(path), setting, problem) from None
    lines = text.splitlines()
    secret = lines[0].strip() if lines else ""
    if not secret:
        raise ConfigError(str(path), setting, "a file holding the secret (it is empty)")
    return secret


def credential(name: str) -> Path | None:
    """$CREDENTIALS_DIRECTORY/NAME (systemd LoadCredential=), if systemd passes credentials."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY", "")
    return Path(folder) / name if folder else None
