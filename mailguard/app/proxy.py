"""Wiring of the SMTP proxy: relay, handler and listener from the configuration.

Kept out of :mod:`mailguard.app.daemon` so the daemon gains three lines: build, start,
close (first, on shutdown).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from mailguard.config import Config
from mailguard.engine.service import Engine
from mailguard.smtp.handler import HandoverText, ProxyHandler, ProxySettings
from mailguard.smtp.relay import Relay
from mailguard.smtp.server import ProxyServer
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.proxy")


class ProxyService:
    """The proxy's listener and its relay pool, started and closed together."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        store: SqlStore,
        on_actions: Callable[[], None] = lambda: None,
    ) -> None:
        proxy = config.proxy
        rewrite = proxy.rewrite
        handover = HandoverText(
            subject_prefix=rewrite.subject_prefix,
            sentences={"en": rewrite.handover.en, "de": rewrite.handover.de},
            default_language=rewrite.default_language,
        )
        settings = ProxySettings(
            handover,
            agents=config.notify.agents,
            trace_header=proxy.trace_header,
            hostname=proxy.hostname,
            dry_run=config.dry_run,
        )
        self.relay = Relay(config.relay, local_hostname=proxy.hostname)
        self.handler = ProxyHandler(engine, self.relay, store, settings, on_actions=on_actions)
        self.server = ProxyServer(proxy, self.handler)
        self._config = config

    async def start(self) -> int:
        """Listen; return the port."""
        port = await self.server.start()
        relay = self._config.relay
        log.info(
            "smtp_proxy_started",
            listen=f"{self._config.proxy.listen_host}:{port}",
            relay=f"{relay.host}:{relay.port}",
            relay_tls=relay.tls,
            escalated=self._config.proxy.escalated,
            dry_run=self._config.dry_run,
        )
        return port

    async def close(self, grace: float) -> None:
        """Stop accepting, finish messages in flight within ``grace``, close the relay pool."""
        await self.server.close(grace)
        await self.relay.close()
