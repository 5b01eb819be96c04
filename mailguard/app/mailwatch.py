"""Wiring of the mailbox side: one watcher per IMAP mailbox, and the outbox executor.

The executor performs the mailbox actions and the agent notifications (through the
daemon's one relay, which the proxy shares; or a pool of its own when none is given).
The same relay sends the held replies agents release from their mail client
(:mod:`mailguard.app.held_commands`), with relay receipts journalled as the proxy's are.

:func:`MailWatch.run` is what ``mailguard run`` starts beside its other parts; ``health`` and
``report`` feed /status with one entry per watched mailbox, the executor and the token
providers (none of them decides liveness or readiness: docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from prometheus_client import Gauge

from mailguard.app.held_commands import HeldSettler, busy_window
from mailguard.config import Config
from mailguard.config.settings import dry_run_of
from mailguard.engine.service import Engine
from mailguard.executor.executor import Executor, record_circuit_break
from mailguard.executor.mailbox_handlers import MailboxHandlers
from mailguard.executor.notify import Notifier
from mailguard.imap.actions import ImapMailboxActions
from mailguard.imap.capabilities import MailboxCapabilities
from mailguard.imap.held_folders import HeldCommands
from mailguard.imap.retry import reason
from mailguard.imap.watcher import MailboxWatcher
from mailguard.oauth.providers import token_source
from mailguard.oauth.tokens import TokenSource
from mailguard.smtp.journal import RelayJournal
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.store.lease import Lease
from mailguard.store.mailqueries import EscalationInfo, HeldCopy, MailQueries, ThreadMessage
from mailguard.store.records import Checkpoint, PendingAction
from mailguard.store.repository import SqlStore

LEASE_CHECK = 5.0

EXECUTOR_FAILING = Gauge(
    "mailguard_executor_failing", "1 while the outbox executor's last round failed"
)


class StoreBridge:
    """The store as the watcher (``imap.ports.SyncStore``) and executor
    (``executor.ports.OutboxStore``) see it."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._queries = MailQueries(store.engine)

    async def load_checkpoint(self, mailbox: str, folder: str) -> Checkpoint | None:
        return await self._store.load_checkpoint(mailbox, folder)

    async def save_checkpoint(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        last_uid: int,
        highestmodseq: int | None,
        now: datetime,
    ) -> None:
        await self._store.save_checkpoint(
            Checkpoint(mailbox, folder, uidvalidity, last_uid, highestmodseq, now)
        )

    def lease(self, name: str) -> AbstractAsyncContextManager[Lease]:
        return self._store.lease(name)

    async def save_limits(self, mailbox: str, limits: dict[str, str], now: datetime) -> None:
        await self._store.save_limits(mailbox, limits, now)

    async def pending_of_kinds(self, kinds: Sequence[str], limit: int) -> list[PendingAction]:
        return await self._queries.pending_of_kinds(kinds, limit)

    async def count_pending(self) -> dict[str, int]:
        return await self._queries.count_pending()

    async def finish_action(
        self, action_id: int, now: datetime, *, error: str | None = None, give_up: bool = False
    ) -> None:
        await self._store.finish_action(action_id, now, error=error, give_up=give_up)

    async def thread_messages(
        self, mailbox: str, customer: str, thread_root: str
    ) -> list[ThreadMessage]:
        return await self._queries.thread_messages(mailbox, customer, thread_root)

    async def escalation(
        self, mailbox: str, customer: str, thread_root: str | None
    ) -> EscalationInfo | None:
        return await self._queries.escalation(mailbox, customer, thread_root)

    async def escalation_context(
        self, mailbox: str, customer: str
    ) -> tuple[str | None, str | None]:
        return await self._queries.escalation_context(mailbox, customer)

    async def held_copy(self, mailbox: str, message_id: str) -> HeldCopy | None:
        return await self._queries.held_copy(mailbox, message_id)

    async def supersede_held(
        self, mailbox: str, customer: str, before: datetime, reason: str, now: datetime
    ) -> list[str]:
        return await self._store.supersede_held(mailbox, customer, before, reason, now)


class MailWatch:
    """The watchers of every IMAP mailbox and the outbox executor, run together."""

    def __init__(
        self,
        config: Config,
        store: SqlStore,
        engine: Engine,
        clock: Callable[[], datetime],
        *,
        executor_interval: float = 5.0,
        relay: Relay | None = None,
    ) -> None:
        bridge = StoreBridge(store)
        self._clock = clock
        self._bridge = bridge
        imap_boxes = [m for m in config.mailboxes if m.imap is not None]
        # Per mailbox one token source (its connections share the token) and one record
        # of what its server can do (the watcher's and the executor's connections learn it).
        self.tokens: dict[str, TokenSource] = {
            m.name: token_source(f"imap:{m.name}", m.imap.oauth2, m.imap.user)
            for m in imap_boxes
            if m.imap is not None and m.imap.oauth2 is not None
        }
        self.capabilities = {m.name: MailboxCapabilities(m.name) for m in imap_boxes}
        self._handlers = MailboxHandlers(
            config,
            bridge,
            {
                m.name: ImapMailboxActions(
                    m, token=self.tokens.get(m.name), capabilities=self.capabilities[m.name]
                )
                for m in imap_boxes
            },
        )
        # Notifications go through the top-level relay, so an IMAP-only deployment (no
        # proxy) can send them; the pool opens a connection only when one is sent. The
        # daemon passes its one relay (shared with the proxy) and closes it itself.
        self._own_relay = relay is None
        self.relay = relay or Relay(config.relay, local_hostname=config.proxy.hostname)
        self.notifier = Notifier(config, bridge, self.relay)
        dry_run = dry_run_of(config)
        self.receipts = Receipts(
            store, self.relay, config.proxy.hostname, clock, RelayJournal(config.data_dir)
        )
        settler = HeldSettler(
            store,
            self.relay,
            clock,
            receipts=self.receipts,
            busy_for=busy_window(config.relay.timeout),
        )
        self.executor = Executor(
            bridge,
            {
                **self._handlers.handlers(),
                **self.notifier.handlers(),
                "circuit_break": record_circuit_break,
            },
            clock=clock,
            dry_run=dry_run,
            interval=executor_interval,
        )
        EXECUTOR_FAILING.set_function(lambda: float(self.executor.status != "ok"))
        self.watchers = [
            MailboxWatcher(
                m,
                engine,
                bridge,
                clock=clock,
                dry_run=dry_run(m.name),
                on_actions=self.executor.wake,
                token=self.tokens.get(m.name),
                capabilities=self.capabilities[m.name],
                held=HeldCommands(m, settler),
            )
            for m in imap_boxes
        ]

    def health(self) -> dict[str, str]:
        """One /status check per watched mailbox, the executor's and each token provider's.

        Without IMAP mailboxes the executor's entry appears only when it fails (its only
        trouble then is the database, which the storage check reports as well).
        """
        checks = {f"imap:{w.name}": w.status for w in self.watchers}
        if self.watchers or self.executor.status != "ok":
            checks["executor"] = self.executor.status
        # Token providers: a token endpoint that is down shows here by name (the
        # connections that need it are retried with backoff meanwhile).
        for source in self.tokens.values():
            checks[f"oauth2:{source.name}"] = source.status
        if self.relay.token is not None:
            checks["oauth2:relay"] = self.relay.token.status
        return checks

    def report(self) -> dict[str, Any]:
        """Each watched mailbox's entry in /status: connections, login, folder syncs."""
        now = self._clock()
        mailboxes: dict[str, Any] = {}
        for watcher in self.watchers:
            entry = watcher.report.as_dict(now)
            token = self.tokens.get(watcher.name)
            if token is not None:
                entry["oauth2"] = token.status
            mailboxes[watcher.name] = entry
        return mailboxes

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop``; each part stops after its current item."""
        if self.watchers:
            # Receipts a killed process left only in its journal (held replies it released).
            await self.receipts.recover()
        tasks = [asyncio.create_task(w.run(stop)) for w in self.watchers]
        tasks.append(asyncio.create_task(self._run_executor(stop)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._handlers.close()
            await self.receipts.drain(2.0)
            if self._own_relay:
                await self.relay.close()

    async def _run_executor(self, stop: asyncio.Event) -> None:
        """Run the executor while this replica holds the executor lease.

        Two executors working one outbox at once could both find a note missing and both
        file one; the lease keeps it to one replica (the others stand by).
        """
        while not stop.is_set():
            try:
                async with self._bridge.lease("executor") as lease:
                    if lease.held:
                        await self._execute_while_held(stop, lease.check)
                        continue
            except Exception as exc:
                # The lease lives in the database: while it is down, report and retry.
                self.executor.status = f"failing: {reason(exc)}"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LEASE_CHECK):
                    await stop.wait()

    async def _execute_while_held(
        self, stop: asyncio.Event, check: Callable[[], Awaitable[bool]]
    ) -> None:
        local = asyncio.Event()
        runner = asyncio.create_task(self.executor.run(local))
        try:
            while not stop.is_set() and await check():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LEASE_CHECK):
                        await stop.wait()
        finally:
            local.set()
            await runner
