"""Channels: where notifications go. Built from ``notify:`` in the configuration."""

from __future__ import annotations

from pathlib import Path

from laundrybot.config import Config
from laundrybot.errors import ConfigError
from laundrybot.notify.base import Channel, credential, read_secret
from laundrybot.notify.email import EmailChannel
from laundrybot.notify.webhook import WebhookChannel


def build_channels(config: Config) -> list[Channel]:
    """Every configured channel; ConfigError names a setting that cannot work."""
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
