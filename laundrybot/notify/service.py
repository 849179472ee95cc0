"""`laundrybot serve notify`: staff notifications and alerts, from the spool to the owner.

The service wires the parts and runs their life cycle (start, reload, stop, status):

- ``delivery``: the loop from the spool's notifying events to the channels, with retries;
- ``nowsocket``: ``notify.sock``, where the gateway asks for an escalation to go out now;
- ``alerts``: the unit's own checks (disk, spool), every ``CHECK_INTERVAL`` seconds;
- ``summary``: the daily summary, on the same clock;
- ``shop``: the shop's name, machine names and time zone from the knowledge file.

SQLite runs in one worker thread (``store.worker``), never on the event loop, and the watchdog
watches that thread; e-mail runs in threads of its own; webhooks are asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable

from laundrybot.config import Config
from laundrybot.errors import ConfigError
from laundrybot.notify.alerts import UnitAlerts
from laundrybot.notify.channels import build_channels
from laundrybot.notify.delivery import Delivery
from laundrybot.notify.nowsocket import DeliverNowServer
from laundrybot.notify.shop import ShopFacts, load_shop
from laundrybot.notify.summary import DailySummary
from laundrybot.service import Service, ServiceContext
from laundrybot.store.worker import SpoolWorker

log = logging.getLogger(__name__)

# Seconds between the unit's own checks (disk, spool) and the daily summary's clock.
CHECK_INTERVAL = 30.0


class NotifyService(Service):
    name = "notify"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        config = ctx.config
        self.spool = SpoolWorker(config.spool_path, config.shop_id, "notify")
        self.shop = ShopFacts(config.shop_id)
        self.delivery = Delivery(ctx, self.spool, lambda: self.shop)
        self.now_socket = DeliverNowServer(ctx, config.notify_socket_path, self.delivery)
        self.alerts = UnitAlerts(ctx, self.spool, self.name, config.spool_path.parent)
        self.summary = DailySummary(ctx, self.spool, lambda: self.shop)
        self._last_check = 0.0
        self._background: set[asyncio.Task[None]] = set()

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        delivery = self.delivery
        self.ctx.liveness.watch(self.spool.watch)
        try:
            delivery.channels = await asyncio.to_thread(build_channels, self.ctx.config)
        except ConfigError as exc:
            # Degrade, don't die: the rest of laundrybot runs; the owner sees why in
            # /readyz, STATUS= and the log, and a reload with a fixed file brings it back.
            delivery.problem = str(exc)
            log.error("notify: %s", exc)
        self.shop = await load_shop(self.ctx.config, self.shop)
        delivery.reset_states()
        try:
            await self.spool.run(lambda db: None)
        except (OSError, sqlite3.Error) as exc:
            delivery.spool_problem = f"cannot open {self.spool.path}: {exc}"
            log.error("notify: %s", delivery.spool_problem)
        await self.now_socket.start()
        for channel in delivery.channels:
            log.info("notify: channel %s", channel.describe())
        if not delivery.channels and not delivery.problem:
            log.info("notify: no channels configured (notify.webhooks, notify.email.to)")
        delivery.update_readiness()
        delivery.start(self._housekeeping)

    async def prepare_reload(self, config: Config) -> Callable[[], None]:
        channels = await asyncio.to_thread(build_channels, config)  # ConfigError refuses it
        if config.notify_socket_path != self.ctx.config.notify_socket_path:
            log.warning("notify.socket changed: it takes effect at the next restart")

        def commit() -> None:
            self.ctx.config = config
            self.delivery.replace_channels(channels)
            # The knowledge file (shop name, machines, time zone) may have changed too.
            task = asyncio.get_running_loop().create_task(self._reload_shop(config))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

        return commit

    async def stop(self) -> None:
        self.delivery.begin_stop()
        self.now_socket.close()
        await self.delivery.stop()
        if self._background:
            # A knowledge reload in progress: its result is of no use any more.
            await asyncio.wait(list(self._background), timeout=2)
            for task in list(self._background):
                task.cancel()
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.now_socket.wait_closed()
        await self.spool.close()
        self.ctx.liveness.unwatch(self.spool.watch)

    def status(self) -> str:
        return self.delivery.status()

    # -- helpers -----------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """The unit's own alerts and the daily summary, at the start of a delivery cycle."""
        if time.monotonic() - self._last_check < CHECK_INTERVAL:
            return
        self._last_check = time.monotonic()
        await self.alerts.check()
        await self.summary.tick()

    async def _reload_shop(self, config: Config) -> None:
        self.shop = await load_shop(config, self.shop)
