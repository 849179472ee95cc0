"""The few facts of the knowledge file that notifications need: names and the time zone."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from laundrybot.config import Config
from laundrybot.dialog.knowledge import load_knowledge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShopFacts:
    name: str
    tz: datetime.tzinfo | None = None
    # Machine number -> "washer 4", as a person reads it in a message.
    machine_names: Mapping[int, str] = field(default_factory=dict)
    # The main knowledge file's language: the owner's messages are written in it.
    language: str = "en"


async def load_shop(config: Config, before: ShopFacts) -> ShopFacts:
    """The shop's facts from the knowledge file; an unreadable file degrades, never fails."""
    try:
        knowledge = await asyncio.to_thread(load_knowledge, config.knowledge_path)
        tz = ZoneInfo(knowledge.timezone)
    except Exception as exc:
        log.warning("notify: knowledge file unreadable (%s); using shop_id and local time", exc)
        # The machine names known before stay: a broken file does not forget them.
        local = datetime.datetime.now().astimezone().tzinfo
        return ShopFacts(config.shop_id, local, before.machine_names, before.language)
    machines = {m.number: f"{m.kind} {m.number}" for m in knowledge.machines}
    return ShopFacts(knowledge.shop_name, tz, machines, knowledge.language)
