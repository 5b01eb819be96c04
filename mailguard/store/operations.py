"""What the adapters around the engine read and write, outside the engine's port.

Replicas share out mailboxes through leases, the IMAP watcher keeps per-folder
checkpoints, the outbox executor takes pending actions and reports attempts, the SMTP
side releases or discards held mail, and ``mailguard explain`` reads the decision log.
:class:`StoreOperations` also owns the connection handling both it and
:class:`~mailguard.store.repository.SqlStore` use: on SQLite one writer at a time (an
in-process lock, and ``BEGIN IMMEDIATE`` against other processes), on PostgreSQL plain
transactions with row locks where needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mailguard.domain.model import Direction
from mailguard.store import tables as t
from mailguard.store.engine import sqlite_writer_engine, writer
from mailguard.store.inline import SqliteThread
from mailguard.store.lease import Lease, Leases
from mailguard.store.models import HeldState, OutboxState
from mailguard.store.records import Checkpoint, HeldMail, LoggedDecision, PendingAction


class StoreOperations:
    """Connection handling plus the adapters' queries; the base of ``SqlStore``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._sqlite = engine.dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if self._sqlite else None
        self._writer_task: asyncio.Task[object] | None = None
        self._leases = Leases(engine)
        # SQLite files: the engine's units of work run whole on a thread of their own
        # (mailguard.store.inline); everything else keeps the async engine.
        sync = sqlite_writer_engine(engine)
        self._thread = SqliteThread(sync) if sync is not None else None

    @property
    def engine(self) -> AsyncEngine:
        """The engine the store uses; for health checks and tests."""
        return self._engine

    async def close(self) -> None:
        """Close every pooled connection (and the SQLite thread's)."""
        if self._thread is not None:
            await self._thread.close()
        await self._engine.dispose()

    @asynccontextmanager
    async def _one_writer(self) -> AsyncIterator[None]:
        # Queue this process's SQLite writers here rather than in SQLite's busy
        # handler, which would pin a pooled connection and a thread per waiter.
        if self._write_lock is None:
            yield
            return
        task = asyncio.current_task()
        if task is not None and task is self._writer_task:
            # asyncio.Lock is not reentrant: waiting here would hang this task forever.
            raise RuntimeError(
                "a SQLite write transaction was opened inside another one in the same "
                "task (e.g. record_failure inside a unit of work or batch); finish the "
                "outer one first"
            )
        async with self._write_lock:
            self._writer_task = task
            try:
                yield
            finally:
                self._writer_task = None

    @asynccontextmanager
    async def _write_transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._one_writer(), self._writer.begin() as conn:
            yield conn

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One write transaction, as the store's own queries take it (for the store's other
        modules, e.g. :mod:`mailguard.store.privacy`): on SQLite this process's writers
        queue for it, and it takes the database's write lock at BEGIN."""
        return self._write_transaction()

    def _insert(self, conn: AsyncConnection, table: Any) -> Any:
        return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)

    def lease(self, name: str) -> AbstractAsyncContextManager[Lease]:
        """Try to take the named lease (e.g. ``"imap:" + mailbox``) without waiting.

        See :mod:`mailguard.store.lease`: on PostgreSQL an advisory lock that other
        replicas see, released when this process or its connection dies.
        """
        return self._leases.lease(name)

    # -- IMAP checkpoints ----------------------------------------------------------------

    async def load_checkpoint(self, mailbox: str, folder: str) -> Checkpoint | None:
        """The saved checkpoint of one folder, or None before its first sync."""
        c = t.sync_checkpoints.c
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        c.mailbox,
                        c.folder,
                        c.uidvalidity,
                        c.last_uid,
                        c.highestmodseq,
                        c.updated_at,
                    ).where(c.mailbox == mailbox, c.folder == folder)
                )
            ).first()
        return None if row is None else Checkpoint(*row)

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Insert or replace the checkpoint of ``checkpoint.mailbox``/``folder``."""
        values = {
            "mailbox": checkpoint.mailbox,
            "folder": checkpoint.folder,
            "uidvalidity": checkpoint.uidvalidity,
            "last_uid": checkpoint.last_uid,
            "highestmodseq": checkpoint.highestmodseq,
            "updated_at": checkpoint.updated_at,
        }
        async with self._write_transaction() as conn:
            stmt = self._insert(conn, t.sync_checkpoints).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["mailbox", "folder"],
                    set_={key: stmt.excluded[key] for key in values if key != "folder"},
                )
            )

    # -- what IMAP servers lack ------------------------------------------------------------

    async def save_limits(self, mailbox: str, limits: dict[str, str], now: datetime) -> None:
        """Replace what is known about ``mailbox``'s server (feature -> meaning)."""
        c = t.server_limits.c
        async with self._write_transaction() as conn:
            await conn.execute(delete(t.server_limits).where(c.mailbox == mailbox))
            if limits:
                await conn.execute(
                    insert(t.server_limits),
                    [
                        {"mailbox": mailbox, "feature": f, "detail": d, "updated_at": now}
                        for f, d in sorted(limits.items())
                    ],
                )

    # -- outbox (for the executor) -------------------------------------------------------

    async def pending_actions(self, limit: int = 100) -> list[PendingAction]:
        """Pending outbox actions, oldest first."""
        c = t.outbox_actions.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    c.id,
                    c.kind,
                    c.target,
                    c.idempotency_key,
                    c.payload,
                    c.attempts,
                    c.last_error,
                    c.created_at,
                )
                .where(c.state == OutboxState.PENDING)
                .order_by(c.created_at, c.id)
                .limit(limit)
            )
            return [PendingAction(*row) for row in rows]

    async def finish_action(
        self, action_id: int, now: datetime, *, error: str | None = None, give_up: bool = False
    ) -> None:
        """Record an attempt at an action: done without ``error``; else pending or failed.

        A failed attempt stays pending (the executor retries it) unless ``give_up``.
        """
        c = t.outbox_actions.c
        if error is None:
            state = OutboxState.DONE
        else:
            state = OutboxState.FAILED if give_up else OutboxState.PENDING
        async with self._write_transaction() as conn:
            await conn.execute(
                update(t.outbox_actions)
                .where(c.id == action_id)
                .values(state=state, attempts=c.attempts + 1, last_error=error, updated_at=now)
            )

    # -- held mail -----------------------------------------------------------------------

    async def held_mail(
        self, mailbox: str | None = None, limit: int = 100, *, every_state: bool = False
    ) -> list[HeldMail]:
        """Messages still held or deferred (oldest first), of one mailbox or all;
        ``every_state`` adds released and discarded ones."""
        c = t.held_messages.c
        query = select(t.held_messages)
        if not every_state:
            query = query.where(c.state.in_((HeldState.HELD, HeldState.DEFERRED)))
        if mailbox is not None:
            query = query.where(c.mailbox == mailbox)
        async with self._engine.connect() as conn:
            rows = await conn.execute(query.order_by(c.held_at, c.id).limit(limit))
            return [held_of(row) for row in rows]

    async def held_by_id(self, held_id: int) -> HeldMail | None:
        """One held message in whatever state, or None."""
        c = t.held_messages.c
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(t.held_messages).where(c.id == held_id))).first()
        return None if row is None else held_of(row)

    async def held_by_key(self, mailbox: str, message_id: str, direction: str) -> HeldMail | None:
        """The held message with this key in whatever state, or None."""
        c = t.held_messages.c
        query = select(t.held_messages).where(
            c.mailbox == mailbox, c.message_id == message_id, c.direction == direction
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else held_of(row)

    async def reopen_held(self, held_id: int, now: datetime) -> bool:
        """Put a message claimed for release back to held (its relay failed); False if not
        released."""
        c = t.held_messages.c
        async with self._write_transaction() as conn:
            result = await conn.execute(
                update(t.held_messages)
                .where(c.id == held_id, c.state == HeldState.RELEASED)
                .values(state=HeldState.HELD, updated_at=now)
            )
        return result.rowcount == 1

    async def settle_held(self, held_id: int, state: HeldState, now: datetime) -> bool:
        """Mark a held message released or discarded; False if it was no longer held.

        The condition on the current state makes two agents (or replicas) releasing
        the same message at once release it once.
        """
        if state is HeldState.HELD:
            raise ValueError("a held message can only be released or discarded")
        c = t.held_messages.c
        async with self._write_transaction() as conn:
            result = await conn.execute(
                update(t.held_messages)
                .where(c.id == held_id, c.state == HeldState.HELD)
                .values(state=state, updated_at=now)
            )
        return result.rowcount == 1

    async def supersede_held(
        self, mailbox: str, customer: str, before: datetime, reason: str, now: datetime
    ) -> list[str]:
        """Discard the robot replies still held for ``customer`` since before ``before``.

        A person has taken the customer over (replied, or marked the case handled): the
        automated answers held meanwhile must not go out any more. They stay stored (and
        their copies in the held folder), state discarded with ``reason`` appended; returns
        their Message-IDs. Deferred replies are left to the deferral worker.
        """
        h, m, c = t.held_messages.c, t.messages.c, t.customers.c
        theirs = (
            select(m.message_id)
            .select_from(t.messages.join(t.customers, m.customer_id == c.id))
            .where(
                m.mailbox == mailbox,
                m.direction == Direction.OUTBOUND,
                c.mailbox == mailbox,
                c.address == customer,
            )
        )
        async with self._write_transaction() as conn:
            rows = await conn.execute(
                select(h.id, h.message_id, h.reason).where(
                    h.mailbox == mailbox,
                    h.direction == Direction.OUTBOUND,
                    h.state == HeldState.HELD,
                    h.held_at <= before,
                    h.message_id.in_(theirs),
                )
            )
            found = list(rows)
            for held_id, _, was in found:
                await conn.execute(
                    update(t.held_messages)
                    .where(h.id == held_id, h.state == HeldState.HELD)
                    .values(state=HeldState.DISCARDED, reason=f"{was}; {reason}", updated_at=now)
                )
        return [str(message_id) for _, message_id, _ in found]

    # -- decision log --------------------------------------------------------------------

    async def decisions_for(self, mailbox: str, message_id: str) -> list[LoggedDecision]:
        """The logged decisions about one message, oldest first."""
        d, cust = t.decisions.c, t.customers.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    d.mailbox,
                    cust.address,
                    d.message_id,
                    d.direction,
                    d.rule_hits,
                    d.explain,
                    d.decided_at,
                )
                .select_from(t.decisions.outerjoin(t.customers, d.customer_id == cust.id))
                .where(d.mailbox == mailbox, d.message_id == message_id)
                .order_by(d.decided_at, d.id)
            )
            return [LoggedDecision(*row) for row in rows]


def held_of(row: Any) -> HeldMail:
    """The record of a ``held_messages`` row."""
    return HeldMail(
        id=row.id,
        mailbox=row.mailbox,
        message_id=row.message_id,
        direction=row.direction,
        raw=row.raw,
        envelope_sender=row.envelope_sender,
        envelope_recipients=tuple(row.envelope_recipients),
        mail_options=tuple(row.mail_options),
        rcpt_options=tuple(row.rcpt_options),
        reason=row.reason,
        state=str(row.state),
        held_at=row.held_at,
        awaits=row.awaits,
        decide_by=row.decide_by,
        updated_at=row.updated_at,
    )
