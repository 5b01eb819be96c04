"""Wiring of the milter: handler and listener from the configuration, beside the proxy.

The milter decides with the proxy's settings and :class:`~mailguard.smtp.dispatch.Dispatcher`
and sends nothing itself: what it holds or defers is released, or relayed after its
deferral, through the one relay (``relay:``), by the deferral worker and ``mailguard held
release``. With the proxy running, its relay and deferral worker serve both; without it, the
milter runs a deferral worker of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from mailguard.app.proxy import ProxyService, Spawn, finish, proxy_settings, spawn_plain
from mailguard.config import Config
from mailguard.config.milter import MilterConfig
from mailguard.config.settings import dry_run_of
from mailguard.engine.service import Engine
from mailguard.milter.handler import MilterHandler
from mailguard.milter.server import MilterServer
from mailguard.smtp.deferred import DeferredWorker
from mailguard.smtp.dispatch import Dispatcher
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.milter")


def guarded_addresses(config: Config) -> dict[str, str]:
    """Each guarded mailbox's addresses (lower case) -> the mailbox's name."""
    return {a.lower(): m.name for m in config.mailboxes for a in m.addresses}


class MilterService:
    """The milter's listener, started and closed with the daemon."""

    def __init__(
        self,
        config: Config,
        milter: MilterConfig,
        engine: Engine,
        store: SqlStore,
        proxy: ProxyService | None = None,
        on_actions: Callable[[], None] = lambda: None,
        *,
        relay: Relay | None = None,
        spawn: Spawn = spawn_plain,
    ) -> None:
        self._config = config
        self._own_relay: Relay | None = None
        self._spawn = spawn
        if proxy is not None:
            dispatcher = proxy.handler.dispatcher
            self.deferred: DeferredWorker | None = None
        else:
            if relay is None:
                relay = self._own_relay = Relay(config.relay, local_hostname=config.proxy.hostname)
            receipts = Receipts(store, relay, config.proxy.hostname)
            dispatcher = Dispatcher(relay, store, proxy_settings(config), receipts=receipts)
            self.deferred = DeferredWorker(engine, store, dispatcher, on_actions=on_actions)
        self.handler = MilterHandler(
            engine, dispatcher, store, guarded_addresses(config), on_actions=on_actions
        )
        self.server = MilterServer(milter, self.handler)
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None

    async def start(self, port: int | None = None) -> str:
        """Listen (and run the deferral worker when the proxy does not); return where."""
        where = await self.server.start(port)
        if self.deferred is not None:
            deferred = self.deferred
            self._worker = self._spawn("milter_deferral", lambda: deferred.run(self._stop))
        relay = self._config.relay
        log.info(
            "milter_started",
            listen=where,
            relay=f"{relay.host}:{relay.port}",
            escalated=self._config.proxy.escalated,
            defer_unseen_s=self._config.proxy.defer_unseen.total_seconds(),
            dry_run=dry_run_of(self._config).describe(),
        )
        return where

    async def close(self, grace: float) -> None:
        """Stop accepting and finish decisions in flight within ``grace``; deferred replies
        stay stored for the next run."""
        self._stop.set()
        await self.server.close(grace)
        if self._worker is not None:
            await finish(self._worker, grace)
            self._worker = None
        if self._own_relay is not None:
            await self._own_relay.close()
