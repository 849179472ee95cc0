"""The gateway's side of notify.sock: "deliver this escalation now; was it accepted?"."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

from laundrybot.config import Config

# Results that mean the staff have a message about it (the customer may be told so).


def has_channels(config: Config) -> bool:
    return bool(config.notify.webhooks or config.notify.email.to)


async def deliver_now(path: Path, event_id: str, wait: float) -> str:
    """Ask the notify unit to deliver ``event_id`` now; its result, in at most ``wait`` s.

    ``accepted``, ``already`` (the staff were messaged about the same problem moments ago),
    ``pending`` (not accepted in time: it keeps trying), ``unreachable`` (the notify unit is
    not running), or what else the unit answered.
    """
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(wait):
            reader, writer = await asyncio.open_unix_connection(str(path))
            # Ask the unit to answer a little before our own deadline.
            request = {"deliver": event_id, "wait": max(0.0, wait - 0.3)}
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        result = json.loads(line).get("result") if line else None
        return str(result) if result else "unreachable"
    except TimeoutError:
        return "pending"
    except (OSError, ValueError, AttributeError):
        return "unreachable"
    finally:
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()
