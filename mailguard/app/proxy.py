"""Wiring of the SMTP proxy: relay, handler, listener and deferral worker from the configuration.

Kept out of :mod:`mailguard.app.daemon` so the daemon gains three lines: build, start,
close (first, on shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable

import structlog

from mailguard.config import Config
from mailguard.config.settings import dry_run_of
from mailguard.engine.service import Deferral, Engine
from mailguard.smtp.deferred import DeferredWorker
from mailguard.smtp.handler import HandoverText, ProxyHandler, ProxySettings
from mailguard.smtp.journal import RelayJournal
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.smtp.server import ProxyServer
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.proxy")

SWITCH_INTERVAL = 0.001

Spawn = Callable[[str, Callable[[], Awaitable[None]]], "asyncio.Task[None]"]
"""Starts a named long-lived task (the daemon's :class:`~mailguard.ops.liveness.Supervisor`)."""


def spawn_plain(name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    async def run() -> None:
        await work()

    return asyncio.create_task(run(), name=name)


class ProxyService:
    """The proxy's listener and its relay pool, started and closed together."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        store: SqlStore,
        on_actions: Callable[[], None] = lambda: None,
        *,
        relay: Relay | None = None,
        spawn: Spawn = spawn_plain,
    ) -> None:
        proxy = config.proxy
        settings = proxy_settings(config)
        # The daemon's one relay (its token's health shows in /readyz and /status), closed
        # by the daemon; or, without one, a pool of its own, closed here.
        self._own_relay = relay is None
        self.relay = relay or Relay(config.relay, local_hostname=proxy.hostname)
        self._spawn = spawn
        journal = RelayJournal(config.data_dir)
        self.receipts = Receipts(store, self.relay, proxy.hostname, journal=journal)
        self.handler = ProxyHandler(
            engine, self.relay, store, settings, on_actions=on_actions, receipts=self.receipts
        )
        self.server = ProxyServer(proxy, self.handler)
        # Runs even with defer_unseen: 0, so replies deferred before that change are decided.
        self.deferred = DeferredWorker(
            engine, store, self.handler.dispatcher, on_actions=on_actions
        )
        self._stop = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._dsns: asyncio.Task[None] | None = None
        self._config = config

    async def start(self) -> int:
        """Listen and start the deferral worker; return the port."""
        # The upstream's 250 must reach the relay journal fast (mailguard.smtp.receipts): a
        # thread holding the GIL (the SQLite store's, deciding another message) would keep
        # the event loop from reading it for up to the switch interval, 5 ms by default.
        # Measured with bench/proxy_kill.py on SQLite, 4 connections, load average ~5:
        # 5 duplicates in 15 kills at 5 ms; 1 in 16 at 0.5 ms; 0 in 44 at 1 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        await self.receipts.recover()
        port = await self.server.start()
        self._worker = self._spawn("deferral", lambda: self.deferred.run(self._stop))
        self._dsns = self._spawn("relay_receipts", lambda: self.receipts.run(self._stop))
        relay = self._config.relay
        log.info(
            "smtp_proxy_started",
            listen=f"{self._config.proxy.listen_host}:{port}",
            relay=f"{relay.host}:{relay.port}",
            relay_tls=relay.tls,
            escalated=self._config.proxy.escalated,
            defer_unseen_s=self._config.proxy.defer_unseen.total_seconds(),
            dry_run=dry_run_of(self._config).describe(),
        )
        return port

    async def close(self, grace: float) -> None:
        """Stop accepting, finish messages in flight and the deferral worker's current reply
        within ``grace``, close the relay pool. Deferred replies stay stored for the next run."""
        self._stop.set()
        await self.server.close(grace)
        for task in (self._worker, self._dsns):
            if task is not None:
                await finish(task, grace)
        self._worker = self._dsns = None
        await self.receipts.drain(grace)
        if self._own_relay:
            await self.relay.close()


async def finish(task: asyncio.Task[None], grace: float) -> None:
    """Wait for a worker that was told to stop; cancel it after ``grace`` seconds."""
    try:
        async with asyncio.timeout(grace):
            await task
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def proxy_settings(config: Config) -> ProxySettings:
    """What decides an outbound message besides the engine: the proxy's and the milter's."""
    proxy = config.proxy
    rewrite = proxy.rewrite
    handover = HandoverText(
        subject_prefix=rewrite.subject_prefix,
        sentences={"en": rewrite.handover.en, "de": rewrite.handover.de},
        default_language=rewrite.default_language,
    )
    return ProxySettings(
        handover,
        agents=config.notify.agents,
        trace_header=proxy.trace_header,
        hostname=proxy.hostname,
        dry_run=dry_run_of(config),
        deferral=deferral_of(config),
    )


def deferral_of(config: Config) -> Deferral | None:
    """The proxy's deferral: None with ``defer_unseen: 0``; only mailboxes with a watcher."""
    within = config.proxy.defer_unseen
    watched = frozenset(m.name for m in config.mailboxes if m.imap is not None)
    if within.total_seconds() <= 0 or not watched:
        return None
    return Deferral(within, watched)
