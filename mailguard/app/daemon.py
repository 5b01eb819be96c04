"""Wiring: build the daemon's parts from the config and run them on one event loop.

Start-up order: schema upgrade (when configured) -> store and engine -> health/metrics
endpoint (on a thread of its own, with the loop's watchdog) -> listeners -> workers (under
a :class:`~mailguard.ops.liveness.Supervisor`). Shutdown on SIGTERM/SIGINT: close listeners,
let workers finish their current item within a grace period, then cancel what is left
(uvicorn's shutdown sequence). SIGHUP reloads the certificate and the log level.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Counter

from mailguard.app.gauges import gauge_loop
from mailguard.app.mailwatch import MailWatch
from mailguard.app.milter import MilterService
from mailguard.app.proxy import ProxyService, finish
from mailguard.app.readiness import Readiness
from mailguard.app.reload import Reloader
from mailguard.app.retention import Retention
from mailguard.app.status import StatusReport
from mailguard.config import Config, redact_url
from mailguard.config.settings import dry_run_of, engine_settings_of, retention_of
from mailguard.domain.policy import Policy
from mailguard.domain.retention import RetentionPolicy
from mailguard.engine.factory import build_engine
from mailguard.engine.service import Engine
from mailguard.ops.http import HttpThread
from mailguard.ops.liveness import LoopWatchdog, Supervisor
from mailguard.ops.logsetup import set_level
from mailguard.smtp.relay import Relay
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade

log = structlog.get_logger("mailguard.app.daemon")

SHUTDOWN_GRACE = 10.0
_REASON_MAX = 300

SLA_EVALUATIONS = Counter(
    "mailguard_sla_evaluations", "Customers re-evaluated because an SLA deadline was due"
)
PURGED_ROWS = Counter("mailguard_retention_purged_rows", "Rows removed by the retention purge")
MAINTENANCE_ERRORS = Counter(
    "mailguard_maintenance_errors", "Maintenance rounds that failed (database trouble)"
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock in UTC; the one place the daemon reads it."""
    return datetime.now(UTC)


class Maintenance:
    """Time-driven work: SLA re-evaluation of due escalations, and retention
    (:mod:`mailguard.app.retention`: stale escalations, notices, expiry, the history purge)."""

    def __init__(
        self,
        engine: Engine,
        store: SqlStore,
        bounds: RetentionPolicy,
        clock: Clock = utc_now,
        *,
        policy: Policy,
    ) -> None:
        self._engine = engine
        self._retention = Retention(store, policy, bounds)
        self._clock = clock
        # Why the last round failed (exception type and first line), None after a good one.
        self.problem: str | None = None

    @property
    def healthy(self) -> bool:
        """False while the last maintenance round failed."""
        return self.problem is None

    def health(self) -> dict[str, str]:
        """The storage entry of ``/status``: "ok", or "failing: <reason>"."""
        return {"storage": "ok" if self.problem is None else f"failing: {self.problem}"}

    async def run_once(self) -> int:
        """One round; returns how many customers were re-evaluated."""
        now = self._clock()
        evaluated = 0
        # A tick handles at most a bounded number of customers; loop until none is due so a
        # backlog after downtime is worked off in one round.
        while batch := await self._engine.tick(now):
            evaluated += batch
        if evaluated:
            SLA_EVALUATIONS.inc(evaluated)
            log.info("sla_evaluated", customers=evaluated)
        purged = (await self._retention.run_once(now)).purged
        total = sum(purged.values())
        if total:
            PURGED_ROWS.inc(total)
            log.info("retention_purged", **purged)
        return evaluated

    async def loop(self, interval: timedelta, stop: asyncio.Event) -> None:
        """Run a round every ``interval`` until ``stop``; database trouble is logged, not fatal."""
        while not stop.is_set():
            try:
                await self.run_once()
                self.problem = None
            except Exception as exc:
                # The database may come back (a restart, a failover): keep the daemon up,
                # report unhealthy, and try again next round. Not only SQLAlchemy's errors:
                # a driver error raised outside SQLAlchemy's wrapping (asyncpg's "connection
                # is closed" when the database is dropped mid-round) must not end the loop
                # and leave the storage check saying "ok" for ever.
                self.problem = _reason(exc)
                MAINTENANCE_ERRORS.inc()
                log.error("maintenance_failed", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval.total_seconds()):
                    await stop.wait()


def _reason(exc: BaseException) -> str:
    """A short reason for /healthz: the exception type and the first line of its message.

    SQLAlchemy appends the statement and a documentation link on further lines; a probe
    needs neither. Driver messages name the host and database, never the password.
    """
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"[:_REASON_MAX]


async def run_daemon(
    config: Config, stop: asyncio.Event | None = None, *, config_path: str | None = None
) -> int:
    """Run until ``stop`` is set (or SIGTERM/SIGINT arrives); returns the exit code.

    SIGHUP reloads ``config_path`` (:mod:`mailguard.app.reload`).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    _on_signals(loop, (signal.SIGTERM, signal.SIGINT), stop.set)

    if config.storage.auto_upgrade:
        await upgrade(config.storage_url)
        log.info("storage_upgraded", url=redact_url(config.storage_url))
    store = SqlStore.from_url(config.storage_url)
    settings = engine_settings_of(config)
    engine = build_engine(store, settings)
    supervisor = Supervisor(stop)
    maintenance = Maintenance(engine, store, retention_of(config), policy=settings.policy)
    # One relay for everything this process sends (the proxy's mail, the milter's deferred
    # and released mail, the agents' notifications): one pool, one token, one health.
    relay = Relay(config.relay, local_hostname=config.proxy.hostname)
    mail = MailWatch(config, store, engine, utc_now, relay=relay)
    wake = mail.executor.wake
    proxy = None
    if config.proxy.enabled:
        proxy = ProxyService(config, engine, store, wake, relay=relay, spawn=supervisor.spawn)
    milter = None
    if config.milter is not None:
        milter = MilterService(
            config, config.milter, engine, store, proxy, wake, relay=relay, spawn=supervisor.spawn
        )
    smtp_side = proxy is not None or milter is not None
    ready = Readiness(store, config.relay if smtp_side else None, relay.token)
    watchdog = LoopWatchdog(loop)

    def liveness() -> dict[str, str]:
        return {"event_loop": watchdog.check(), "tasks": supervisor.check()}

    reloader = Reloader(config_path, config, proxy.server if proxy else None, set_level)
    status = StatusReport(
        liveness=liveness,
        ready=ready.checks,
        storage=lambda: maintenance.health()["storage"],
        mail=mail,
        relay=relay if smtp_side else None,
        certificate=lambda: proxy.server.certificate if proxy else None,
        reloader=reloader,
        clock=utc_now,
    )
    http = HttpThread(loop, liveness, ready.checks, status)
    reloads: set[asyncio.Task[bool]] = set()

    def reload() -> None:
        task = asyncio.create_task(reloader.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    _on_signals(loop, (signal.SIGHUP,), reload)
    port = None
    watchdog.start()
    try:
        if config.http.enabled:
            port = await http.start(config.http.listen_host, config.http.listen_port)
        smtp_port = await proxy.start() if proxy is not None else None
        milter_listen = await milter.start() if milter is not None else None
        log.info(
            "daemon_started",
            mailboxes=[m.name for m in config.mailboxes],
            http_port=port,
            smtp_port=smtp_port,
            milter=milter_listen,
            dry_run=dry_run_of(config).describe(),
        )
        # What start-up built (compiled rules, SQLAlchemy's tables and statements, the
        # servers) lives as long as the process. Frozen, the collector stops walking it:
        # measured on the proxy's path, a full collection otherwise stalled one message
        # for ~50 ms every thousand or so.
        gc.collect()
        gc.freeze()
        interval = config.maintenance_interval
        workers = [
            supervisor.spawn("maintenance", lambda: maintenance.loop(interval, stop)),
            supervisor.spawn("mail", lambda: mail.run(stop)),
            supervisor.spawn("gauges", lambda: gauge_loop(store, stop, interval, utc_now)),
        ]
        await stop.wait()
        log.info("daemon_stopping")
        # Listeners first: no new mail while the rest winds down.
        if milter is not None:
            await milter.close(SHUTDOWN_GRACE)
        if proxy is not None:
            await proxy.close(SHUTDOWN_GRACE)
        for worker in workers:
            await finish(worker, SHUTDOWN_GRACE)
        await http.close()
    finally:
        watchdog.stop()
        if milter is not None:
            await milter.close(0)
        if proxy is not None:
            await proxy.close(0)
        await http.close()
        await relay.close()
        await store.close()
    log.info("daemon_stopped")
    return 0


def _on_signals(
    loop: asyncio.AbstractEventLoop, signums: tuple[int, ...], handler: Callable[[], None]
) -> None:
    for signum in signums:
        # Loops without Unix signal support raise NotImplementedError, and a loop outside
        # the main thread (an embedding test harness) raises RuntimeError; there the
        # caller stops the daemon through ``stop`` instead.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, handler)
