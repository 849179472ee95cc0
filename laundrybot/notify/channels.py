"""Channels: where notifications go. Built from ``notify:`` in the configuration."""

from __future__ import annotations

import abc
import os
from pathlib import Path

from laundrybot.config import Config
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


def build_channels(config: Config) -> list[Channel]:
    """Every configured channel; ConfigError names a setting that cannot work."""
    from laundrybot.notify.email import EmailChannel
    from laundrybot.notify.webhook import WebhookChannel

    notify = config.notify
    channels: list[Channel] = []
    where = config.sources[-1] if config.sources else None
    for setting in ("webhook_format", "webhook_token_file"):
        for name in getattr(notify, setting):
            if name not in notify.webhooks:
                key = f"notify.{setting}.{name}"
                raise ConfigError(where, key, "a channel name from notify.webhooks")
    if notify.email.to and not notify.email.host:
        raise ConfigError(where, "notify.email.host", "an SMTP server when notify.email.to is set")
    for name, url in notify.webhooks.items():
        token_file = notify.webhook_token_file.get(name, "")
        if token_file:
            token = read_secret(Path(token_file), f"notify.webhook_token_file.{name}", True)
        else:
            cred = credential(f"notify-{name}")
            token = read_secret(cred, "notify.webhook_token_file", False) if cred else None
        channels.append(
            WebhookChannel(name, url, notify.webhook_format.get(name, "laundrybot"), token)
        )
    if notify.email.to:
        channels.append(EmailChannel.from_config(config))
    return channels
