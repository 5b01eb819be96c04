"""The watcher of one guarded mailbox: every new message through the engine, agent feedback.

Two connections per mailbox, each owned by one task (aioimaplib runs one command at a time):

- *inbox*: reads INBOX from its checkpoint, then IDLEs (RFC 2177), renewed before the 29
  minutes after which servers may drop an idle client; servers without IDLE are polled.
  Inbound mail judged automated gets the automated keyword.
- *folders*: polls Sent (company replies sent outside the proxy: a human reply there
  resolves), the handled folder and the handled keyword (agent feedback), and the agents'
  release and drop commands on held copies (:mod:`mailguard.imap.held_folders`).

Every message goes through the engine (``Engine.process_many``: a run of a FETCH batch in
one transaction, decided as one at a time) with source, mailbox and direction, exactly as
the audit's do: the adapter neither classifies nor decides. While INBOX and Sent catch up
from their checkpoints, their messages go to the engine in date order across both folders
(:mod:`mailguard.imap.merge`), as the policy needs them. Each connection reconnects on
its own with bounded exponential backoff and jitter; a failing mailbox is retried and
reported (status for /healthz, metrics) while the other mailboxes go on. One replica
watches a mailbox at a time (a lease).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from mailguard.config.model import MailboxConfig
from mailguard.domain.facts import message_date
from mailguard.domain.model import Direction, Source
from mailguard.engine.service import Engine, Incoming, ProcessResult, Status
from mailguard.imap import metrics
from mailguard.imap.capabilities import MailboxCapabilities
from mailguard.imap.connection import ConnectParams, ImapCommandError, ImapConnection
from mailguard.imap.feedback import Feedback
from mailguard.imap.held_folders import HeldCommands
from mailguard.imap.merge import DateMerge
from mailguard.imap.ports import SyncStore
from mailguard.imap.report import MailboxReport
from mailguard.imap.retry import backoff, reason, sleep_until, unless_stopped
from mailguard.imap.session import (
    SessionRenewal,
    check_renewal,
    find_sent,
    note_server,
    wait_bound,
)
from mailguard.imap.sync import FolderReader, Handled, Start
from mailguard.oauth.tokens import TokenSource
from mailguard.ops.metrics import observe_message

log = structlog.get_logger("mailguard.imap.watcher")

Connect = Callable[[ConnectParams], Awaitable[ImapConnection]]
STABLE_AFTER = 30.0
"""Seconds a connection must have worked before its failure restarts the backoff."""
AWAY_GRACE = 10.0
"""Seconds a catch-up waits for the other folder's lost connection before going on alone."""
ROLES = ("inbox", "folders")


@dataclass(frozen=True, slots=True)
class _Pending:
    """A fetched message waiting in the merge, and whom to tell once it is decided."""

    raw: bytes
    direction: Direction
    decided: Callable[[ProcessResult], None]


class MailboxWatcher:
    """Watches one mailbox until ``stop``; ``status`` says how it is doing."""

    def __init__(
        self,
        mailbox: MailboxConfig,
        engine: Engine,
        store: SyncStore,
        *,
        clock: Callable[[], datetime],
        dry_run: bool = False,
        on_actions: Callable[[], None] = lambda: None,
        connect: Connect = ImapConnection.open,
        token: TokenSource | None = None,
        capabilities: MailboxCapabilities | None = None,
        held: HeldCommands | None = None,
    ) -> None:
        if mailbox.imap is None:
            raise ValueError(f"mailbox {mailbox.name} has no imap section")
        self._config = mailbox
        self._held = None if dry_run else held
        self._imap = mailbox.imap
        self._engine = engine
        self._store = store
        self._clock = clock
        self._dry_run = dry_run
        self._on_actions = on_actions
        self._connect = connect
        self.capabilities = capabilities or MailboxCapabilities(mailbox.name)
        self._params = ConnectParams.of(mailbox.imap, token, self.capabilities)
        # Sent is found by its \Sent attribute unless the configuration names it.
        self._sent_configured = "sent" in mailbox.folders.model_fields_set
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self.name = mailbox.name
        folders = mailbox.folders
        self._inbox = self._reader(folders.inbox, Start.BACKFILL)
        self._sent = self._reader(folders.sent, Start.BACKFILL)
        self._feedback = Feedback(
            engine,
            store,
            mailbox.name,
            handled_folder=folders.handled,
            keyword=mailbox.keywords.handled,
            keyword_folders=(folders.escalation, folders.inbox),
            clock=clock,
            keywords=self.capabilities.keywords,
        )
        self.report = MailboxReport(mailbox.name)
        # INBOX and Sent take turns at the engine through one merge: in date order across
        # both while they catch up (mailguard.imap.merge), batch by batch once live.
        self._merge = DateMerge(ROLES, AWAY_GRACE)

    def _reader(self, folder: str, start: Start) -> FolderReader:
        return FolderReader(
            self._store,
            self.name,
            folder,
            start=start,
            backfill=self._imap.backfill,
            clock=self._clock,
            fetch_ahead_bytes=self._imap.fetch_ahead_bytes,
        )

    @property
    def status(self) -> str:
        """``ok`` when both connections are up, else what is wrong (for /status)."""
        return self.report.status

    async def run(self, stop: asyncio.Event) -> None:
        """Watch until ``stop``; wait as a standby while another replica holds the lease."""
        while not stop.is_set():
            try:
                async with self._store.lease(f"imap:{self.name}") as lease:
                    if lease.held:
                        log.info("imap_lease_taken", mailbox=self.name)
                        await self._run_held(stop, lease.check)
                        continue
            except Exception as exc:
                # The lease lives in the database: while it is down, report and retry.
                self.report.roles = {"lease": f"failing: {reason(exc)}"}
                log.warning(
                    "imap_lease_failed", mailbox=self.name, error=self.report.roles["lease"]
                )
                await sleep_until(stop, self._imap.poll_interval.total_seconds())
                continue
            # Healthy: another replica watches this mailbox, this one stands by for it and
            # asks again every ``takeover``: PostgreSQL frees the lock as soon as the
            # holder's session ends, so this interval bounds how long the mailbox is unwatched.
            if not self.report.standby:
                log.info("imap_standby", mailbox=self.name)
            self.report.roles = {"lease": "ok"}
            await sleep_until(stop, self._imap.takeover.total_seconds())

    async def _run_held(self, stop: asyncio.Event, check: Callable[[], Awaitable[bool]]) -> None:
        self.report.roles = {"inbox": "connecting", "folders": "connecting"}
        self._merge = DateMerge(ROLES, AWAY_GRACE)  # every new hold starts with a catch-up
        lost = asyncio.Event()
        done = asyncio.Event()

        def either() -> None:
            done.set()

        async def watch_lease() -> None:
            while not stop.is_set():
                await sleep_until(stop, self._imap.takeover.total_seconds())
                if not stop.is_set() and not await check():
                    log.warning("lease_lost", mailbox=self.name)
                    lost.set()
                    either()
                    return

        async def stopper() -> None:
            await stop.wait()
            either()

        local = asyncio.Event()
        tasks = [
            asyncio.create_task(self._supervise("inbox", self._inbox_loop, local)),
            asyncio.create_task(self._supervise("folders", self._folders_loop, local)),
            asyncio.create_task(watch_lease()),
            asyncio.create_task(stopper()),
        ]
        try:
            await done.wait()
        finally:
            local.set()
            for task in tasks[2:]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if lost.is_set():
            self.report.roles = {"lease": "lost; retrying"}

    async def _supervise(
        self,
        role: str,
        body: Callable[[ImapConnection, asyncio.Event], Awaitable[None]],
        stop: asyncio.Event,
    ) -> None:
        """Run ``body`` on a fresh connection, reconnecting with backoff until ``stop``."""
        attempt = 0
        cap = self._imap.reconnect_max.total_seconds()
        while not stop.is_set():
            conn: ImapConnection | None = None
            connected_at: float | None = None
            renewal = False
            try:
                conn = await unless_stopped(self._connect(self._params), stop)
                if conn is None:
                    break
                connected_at = time.monotonic()
                metrics.CONNECTED.labels(self.name, role).set(1)
                self._merge.connected(role)
                self.report.connected(role)
                if attempt:
                    log.info("imap_reconnected", mailbox=self.name, role=role, attempts=attempt)
                await body(conn, stop)
            except SessionRenewal:
                # The token is due: a new session with a new token, at once; it resumes
                # from the checkpoints. Not a failure.
                renewal = True
                log.info("imap_session_renewed", mailbox=self.name, role=role)
            except Exception as exc:
                # IMAP trouble (ImapError, OSError, TLS) or the database being down: retry.
                # Cancellation is a BaseException and passes through.
                self._failed(role, exc, attempt)
            finally:
                metrics.CONNECTED.labels(self.name, role).set(0)
                if conn is not None:
                    await conn.close()
            if stop.is_set():
                break
            if renewal:
                attempt = 0
                continue
            if connected_at is not None and time.monotonic() - connected_at > STABLE_AFTER:
                attempt = 0  # it worked for a while: this is a new failure, not a repeat
            await sleep_until(stop, backoff(attempt, cap, self._rng))
            attempt += 1
        self.report.roles[role] = "stopped"

    def _failed(self, role: str, exc: BaseException, attempt: int) -> None:
        self._merge.lost(role)
        error = reason(exc)
        self.report.failed(role, exc, error)
        metrics.RECONNECTS.labels(self.name, role).inc()
        log.warning(
            "imap_connection_failed", mailbox=self.name, role=role, error=error, attempt=attempt
        )

    # -- the two connections' work --------------------------------------------------------

    async def _inbox_loop(self, conn: ImapConnection, stop: asyncio.Event) -> None:
        use_idle = self._imap.idle and conn.has("IDLE")
        poll = self._imap.poll_interval.total_seconds()
        quiet = False
        while not stop.is_set():
            # Read until a pass finds nothing: a delivery announced (EXISTS) in the reply
            # to one of our own commands is not announced again when IDLE starts.
            found = 1
            while found and not stop.is_set():
                found = await self._read(
                    conn, self._inbox, Direction.INBOUND, stop, reselect=not quiet
                )
                quiet = False
                if not stop.is_set():
                    self._merge.caught_up("inbox")
            if stop.is_set():
                return
            check_renewal(conn)
            if use_idle:
                # IDLE at most poll_interval: then a UID SEARCH in the selected folder
                # catches what IDLE did not announce (Exchange is known to miss some).
                limit = min(self._imap.idle_renew.total_seconds(), poll)
                quiet = not await conn.idle(wait_bound(conn, limit), stop)
            else:
                await sleep_until(stop, wait_bound(conn, poll))

    async def _folders_loop(self, conn: ImapConnection, stop: asyncio.Event) -> None:
        note_server(conn, self.capabilities, self._imap)
        if not self._sent_configured:
            sent = await find_sent(conn, self._config.folders.sent)
            if sent != self._sent.folder:
                log.info("sent_folder_found", mailbox=self.name, folder=sent)
                self._sent = self._reader(sent, Start.BACKFILL)
            found = sent != self._config.folders.sent
            self.capabilities.note("sent", f"{sent} (marked \\Sent)" if found else None)
        if not self._dry_run:
            folders = self._config.folders
            for folder in (folders.escalation, folders.handled, folders.held):
                await conn.ensure_folder(folder)
        if self._held is not None:
            await self._held.prepare(conn)
        while not stop.is_set():
            check_renewal(conn)
            try:
                await self._read(conn, self._sent, Direction.OUTBOUND, stop)
            except ImapCommandError as exc:
                log.info(
                    "folder_unavailable",
                    mailbox=self.name,
                    folder=self._sent.folder,
                    error=str(exc),
                )
            if stop.is_set():
                return
            self._merge.caught_up("folders")
            await self._feedback.poll(conn)
            if self._held is not None:
                await self._held.poll(conn)
            if self.capabilities.changed:
                self.capabilities.changed = False
                await self._store.save_limits(self.name, self.capabilities.limits(), self._clock())
            await self._wait_on_sent(conn, stop)

    async def _wait_on_sent(self, conn: ImapConnection, stop: asyncio.Event) -> None:
        """Until the next poll: IDLE on Sent where possible (a reply there resolves at once)."""
        interval = wait_bound(conn, self._imap.poll_interval.total_seconds())
        if self._imap.idle_sent and conn.has("IDLE"):
            try:
                await conn.select(self._sent.folder)
            except ImapCommandError:
                pass  # no Sent folder (yet): just wait
            else:
                await conn.idle(interval, stop)
                return
        await sleep_until(stop, interval)

    async def _read(
        self,
        conn: ImapConnection,
        reader: FolderReader,
        direction: Direction,
        stop: asyncio.Event,
        *,
        reselect: bool = True,
    ) -> int:
        """Hand the folder's new messages to the engine; returns how many there were.

        Stops after the current message when ``stop`` is set (a long backfill must not hold
        up shutdown); the checkpoint covers exactly the batches finished before.
        """

        role = "inbox" if direction is Direction.INBOUND else "folders"

        async def handle(batch: list[tuple[int, bytes]]) -> Handled:
            return await self._process_batch(role, reader.folder, batch, direction, stop)

        found = await reader.read(conn, handle, stop, reselect=reselect)
        if not stop.is_set():
            self.report.folder_synced(reader.folder, self._clock())
        return found

    async def _process_batch(
        self,
        role: str,
        folder: str,
        batch: list[tuple[int, bytes]],
        direction: Direction,
        stop: asyncio.Event,
    ) -> Handled:
        """One FETCH batch through the engine, in turn with the mailbox's other folder (in
        date order across both while they catch up); the automated keyword on its UIDs
        follows once the connection is free (the reader is fetching the next batch
        meanwhile). The count is below the batch's size unless every message was decided."""
        automated: list[int] = []
        acted = False
        done = 0

        def step(uid: int, raw: bytes) -> _Pending:
            def decided(result: ProcessResult) -> None:
                nonlocal acted, done
                done += 1
                self._log(result, folder, uid)
                acted = acted or bool(result.decision and result.decision.actions)
                if self._mark_automated(result, direction):
                    automated.append(uid)

            return _Pending(raw, direction, decided)

        items: list[tuple[datetime | None, _Pending]] = []
        if self._merge.catching_up(role):
            # The engine decides at min(Date, now): the merge orders by the same time.
            now = self._clock()
            for uid, raw in batch:
                date = message_date(raw)
                items.append((min(date, now) if date is not None else None, step(uid, raw)))
        else:
            items = [(None, step(uid, raw)) for uid, raw in batch]
        await self._merge.run(role, items, stop, self._decide)
        if acted:
            self._on_actions()
        if not automated or self._dry_run:
            return Handled(done)
        keyword = self._config.keywords.automated

        async def mark(conn: ImapConnection) -> None:
            await conn.add_flags(automated, [keyword])

        return Handled(done, mark)

    async def _decide(self, run: list[_Pending]) -> None:
        """A run of the merge (one folder's, or both folders' in date order) in one
        transaction; each message's batch hears of its result."""
        now = self._clock()
        results = await self._engine.process_many(
            [Incoming(p.raw, Source.IMAP, now, self.name, p.direction) for p in run]
        )
        for pending, result in zip(run, results, strict=True):
            pending.decided(result)

    def _mark_automated(self, result: ProcessResult, direction: Direction) -> bool:
        return (
            self._imap.mark_automated
            and direction is Direction.INBOUND
            and result.status in (Status.PROCESSED, Status.DUPLICATE, Status.NO_CUSTOMER)
            and result.classification is not None
            and result.classification.automated
        )

    def _log(self, result: ProcessResult, folder: str, uid: int) -> None:
        metrics.MESSAGES.labels(self.name, folder, result.status.value).inc()
        metrics.PROCESS_SECONDS.labels(self.name).observe(result.duration_ms / 1000)
        if result.status is not Status.DUPLICATE:
            observe_message(
                result.source.value,
                result.classification.kind.value if result.classification else None,
                [hit.rule for decision in result.decisions for hit in decision.hits],
                result.duration_ms / 1000,
            )
        fields = result.log_fields()
        fields.update(folder=folder, uid=uid, dry_run=self._dry_run)
        if result.status is Status.FAILED:
            log.error("message_failed", **fields)
        else:
            log.info("message_processed", **fields)
