"""`laundrybot notify test`: a test message through every channel, each result reported."""

from __future__ import annotations

import asyncio
import time
import uuid

from laundrybot.config import Config
from laundrybot.notify.base import Channel, ChannelError
from laundrybot.notify.channels import build_channels
from laundrybot.notify.message import Notification


async def send_test(channels: list[Channel], n: Notification, timeout: float) -> list[str | None]:
    """Send ``n`` through every channel at once; None for success, else the error."""

    async def one(channel: Channel) -> str | None:
        try:
            async with asyncio.timeout(timeout):
                await channel.send(n)
        except TimeoutError:
            return f"no answer within {timeout:g} s"
        except (ChannelError, OSError) as exc:
            return str(exc)
        return None

    try:
        return list(await asyncio.gather(*(one(c) for c in channels)))
    finally:
        for channel in channels:
            await channel.close()


def test_command(config: Config) -> int:
    """Print one line per channel; exit 0 when every channel accepted the message."""
    channels = build_channels(config)
    if not channels:
        print("laundrybot: no notification channels configured (notify.webhooks, notify.email.to)")
        return 1
    shop_name = config.shop_id
    try:
        from laundrybot.dialog.knowledge import load_knowledge

        shop_name = load_knowledge(config.knowledge_path).shop_name
    except Exception:
        pass
    n = Notification(
        id=str(uuid.uuid4()),
        category="test",
        kind="test",
        shop=config.shop_id,
        shop_name=shop_name,
        ts=time.time(),
        message="a test from `laundrybot notify test`: if you read this, this channel works.",
    )
    started = time.monotonic()
    results = asyncio.run(send_test(channels, n, config.notify.attempt_timeout))
    took = time.monotonic() - started
    for channel, error in zip(channels, results, strict=True):
        print(f"{channel.describe()}: {'ok' if error is None else 'FAILED: ' + error}")
    failed = sum(1 for e in results if e is not None)
    print(f"{len(channels) - failed} of {len(channels)} channels accepted {n.id} ({took:.1f} s)")
    return 0 if not failed else 1
