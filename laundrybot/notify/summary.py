"""The daily summary: once a day at ``notify.daily_summary`` (shop time), a note of the last 24 h.

It is a ``daily-summary`` event in the spool, delivered like any other. Its id comes from the
shop and the date, so a restart never writes a second one for the same day.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import sqlite3
import uuid
from collections.abc import Callable
from typing import Any

from laundrybot import lang
from laundrybot.notify import store
from laundrybot.notify.shop import ShopFacts
from laundrybot.service import ServiceContext
from laundrybot.store.spool import Event, SpoolDB
from laundrybot.store.worker import SpoolWorker

log = logging.getLogger(__name__)

# The daily summary's event id is derived from the shop and the date: one per day, ever.
SUMMARY_NAMESPACE = uuid.UUID("5a0e4c55-2b47-4d0b-9a55-6c61756e6472")


class DailySummary:
    def __init__(
        self, ctx: ServiceContext, spool: SpoolWorker, shop: Callable[[], ShopFacts]
    ) -> None:
        self.ctx = ctx
        self.spool = spool
        self.shop = shop
        self._written: datetime.date | None = None  # the last day done, by this process

    async def tick(self) -> None:
        """Write today's summary if its time has come and it is not written yet."""
        at = self.ctx.config.notify.daily_summary
        if not at:
            return
        hour, minute = (int(x) for x in at.split(":"))
        tz = self.shop().tz
        now = datetime.datetime.now(tz).astimezone(tz)
        target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if now < target or self._written == now.date():
            return
        day = now.date()
        key = f"{self.ctx.config.shop_id}/{day.isoformat()}"
        event_id = str(uuid.uuid5(SUMMARY_NAMESPACE, key))
        since = target.timestamp() - 86400

        def write(db: SpoolDB) -> bool:
            figures = store.summary_figures(db, since)
            message = summary_text(figures, self.shop().language)
            detail = {"date": day.isoformat(), **figures, "message": message}
            return store.ensure_event(db, Event(kind="daily-summary", detail=detail, id=event_id))

        with contextlib.suppress(OSError, sqlite3.Error):
            if await self.spool.run(write):
                log.info("notify: daily summary for %s written", day.isoformat())
            self._written = day


def summary_text(figures: dict[str, Any], language: str) -> str:
    """The summary in the shop's language (the main knowledge file's), English if unknown."""
    unit = lang.find(language) or lang.get("en")
    return unit.summary(figures)
