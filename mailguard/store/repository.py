"""The SQL implementation of :class:`mailguard.engine.ports.Store`, plus retention.

:class:`SqlStore` hands out units of work (one event, one transaction) and batches
(an offline replay, buffered writes); both are :class:`mailguard.store.work.Work`.

Serialisation per customer: on PostgreSQL, ``lock_customers`` row-locks the customer
rows (``SELECT … FOR UPDATE``), so events for different customers run in parallel. On
SQLite there is one writer: an in-process lock queues this process's units of work,
and each write transaction starts with ``BEGIN IMMEDIATE`` so that another process
waits (busy timeout) instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, exists, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from mailguard.engine.ports import DSN_PENDING, CustomerRef, FailedMessage, Store, UnitOfWork
from mailguard.store import tables as t
from mailguard.store.engine import create_engine
from mailguard.store.inline import InlineConnection, run_inline
from mailguard.store.models import HeldState, OutboxState
from mailguard.store.readonly import ReadOnlyWork
from mailguard.store.receipts import ReceiptOperations
from mailguard.store.retention import RetentionOperations
from mailguard.store.work import Work

# SQLite page cache sizes in KiB (a negative cache_size pragma means KiB). Measured on a
# 100,000-message audit: 8 MB replays as fast as 32 MB did, and the cache fills whatever
# its size, so the larger one only cost 24 MB of resident memory.
BATCH_CACHE_KIB = 8 * 1024
DEFAULT_CACHE_KIB = 2000

T = TypeVar("T")


class SqlStore(RetentionOperations, ReceiptOperations):
    """Persistence for the engine on SQLite or PostgreSQL (``mailguard.engine.ports.Store``).

    The adapters' queries (checkpoints, outbox, held mail, decision log) come from
    :class:`~mailguard.store.operations.StoreOperations`, the deferral worker's from
    :class:`~mailguard.store.deferrals.DeferralOperations`, retention's notices and expiries
    from :class:`~mailguard.store.retention.RetentionOperations`, the proxy's relay receipts
    from :class:`~mailguard.store.receipts.ReceiptOperations`.
    """

    @classmethod
    def from_url(cls, url: str | URL, **engine_kwargs: Any) -> SqlStore:
        """A store on a new engine for ``url`` (see :func:`mailguard.store.engine.async_url`)."""
        return cls(create_engine(url, **engine_kwargs))

    # -- the port ------------------------------------------------------------------------

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Work]:
        """One transaction: commit on normal exit, roll back everything on an exception."""
        async with self._write_transaction() as conn:
            work = Work(conn)
            yield work
            await work.flush()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[ReadOnlyWork]:
        """A unit of work that only reads and keeps its writes in memory (``mailguard try``).

        Its connection runs SELECTs only, and its transaction is rolled back at the end.
        """
        async with self._engine.connect() as conn:
            try:
                yield ReadOnlyWork(Work(conn))
            finally:
                await conn.rollback()

    async def transact(self, work: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run ``work`` on one unit of work and commit; roll back everything if it raises.

        On a SQLite file the whole transaction runs on the store's own thread in one hop
        (:mod:`mailguard.store.inline`), so ``work`` may await only the unit of work.
        """
        thread = self._thread
        if thread is None:
            async with self.unit_of_work() as uow:
                return await work(uow)

        async def whole(conn: InlineConnection) -> T:
            uow = Work(conn)
            result = await work(uow)
            await uow.flush()
            return result

        async with self._one_writer():
            return await thread.transaction(lambda conn: run_inline(whole(conn)))

    @asynccontextmanager
    async def batch(self, *, flush_every: int = 1000) -> AsyncIterator[Work]:
        """Buffered writes committed every ``flush_every`` events, for offline replay.

        The batch must be the database's only writer while it runs (the audit's own
        temporary SQLite file): it allocates the ids of new customers and threads
        itself and trusts its memory over the database. On SQLite each of its
        transactions takes the database write lock at BEGIN, and this process's other
        writers stay queued until the batch ends.
        """
        if flush_every < 1:
            raise ValueError("flush_every must be at least 1")
        async with self._one_writer(), self._writer.connect() as conn:
            if self._sqlite:
                # A replay's indexes outgrow SQLite's default 2 MB page cache quickly;
                # a larger cache for this one connection keeps the B-trees in memory.
                await conn.exec_driver_sql(f"PRAGMA cache_size=-{BATCH_CACHE_KIB}")
            try:
                work = await Work.batch(conn, flush_every)
                yield work
                await work.flush()
                await conn.commit()
            except BaseException:
                # Only the part since the last flush is lost: flushed parts committed.
                await conn.rollback()
                raise
            finally:
                if self._sqlite:
                    # Best effort on a connection that may have just failed: the
                    # original exception matters more than restoring the cache size.
                    with suppress(DBAPIError):
                        await conn.exec_driver_sql(f"PRAGMA cache_size=-{DEFAULT_CACHE_KIB}")

    async def due_for_tick(self, now: datetime, limit: int = 500) -> Sequence[CustomerRef]:
        """Customers whose ``next_due`` is <= ``now``, earliest first."""
        c = t.customers.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(c.mailbox, c.address)
                .where(c.next_due <= now)
                .order_by(c.next_due, c.id)
                .limit(limit)
            )
            return [CustomerRef(mailbox=row.mailbox, address=row.address) for row in rows]

    async def record_failure(self, failure: FailedMessage) -> None:
        """Keep a message whose processing failed, with its raw bytes (own transaction)."""
        key = failure.key
        values = {
            "mailbox": key.mailbox,
            "message_id": key.message_id,
            "direction": key.direction,
            "source": failure.source,
            "raw": failure.raw,
            "error": failure.error,
            "attempts": 1,
            "first_failed_at": failure.at,
            "last_failed_at": failure.at,
        }
        async with self._write_transaction() as conn:
            stmt = self._insert(conn, t.failed_messages).values(values)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["mailbox", "message_id", "direction"],
                    set_={
                        "error": stmt.excluded.error,
                        "raw": stmt.excluded.raw,
                        "source": stmt.excluded.source,
                        "last_failed_at": stmt.excluded.last_failed_at,
                        "attempts": t.failed_messages.c.attempts + 1,
                    },
                )
            )

    # -- retention -----------------------------------------------------------------------

    async def purge_older_than(self, cutoff: datetime) -> dict[str, int]:
        """Delete what is older than ``cutoff``; return the number of rows per table.

        Purged: messages seen and decisions logged before the cutoff; held messages that
        were released or discarded before it; escalations resolved before it; relay
        receipts from before it whose notification was sent (or needed none); outbox
        actions done before it; threads inactive since before it (unless an open
        escalation points at them); and customers last
        seen before it that have nothing open (no open escalation, no pending deadline).
        Kept whatever their age, because deleting them would lose mail or work: held
        messages still held or deferred, open escalations, pending or failed actions, failed
        messages (a person must look at them).
        """
        statements = {
            "decisions": delete(t.decisions).where(t.decisions.c.decided_at < cutoff),
            "messages": delete(t.messages).where(t.messages.c.sent_at < cutoff),
            "held_messages": delete(t.held_messages).where(
                t.held_messages.c.state.not_in((HeldState.HELD, HeldState.DEFERRED)),
                t.held_messages.c.updated_at < cutoff,
            ),
            "escalations": delete(t.escalations).where(
                t.escalations.c.resolved_at.is_not(None), t.escalations.c.resolved_at < cutoff
            ),
            "relay_receipts": delete(t.relay_receipts).where(
                t.relay_receipts.c.relayed_at < cutoff,
                t.relay_receipts.c.dsn_state.is_distinct_from(DSN_PENDING),
            ),
            "outbox_actions": delete(t.outbox_actions).where(
                t.outbox_actions.c.state == OutboxState.DONE,
                t.outbox_actions.c.updated_at < cutoff,
            ),
            "threads": delete(t.threads).where(
                t.threads.c.last_activity_at < cutoff,
                ~exists().where(
                    t.escalations.c.thread_id == t.threads.c.id,
                    t.escalations.c.resolved_at.is_(None),
                ),
            ),
            "customers": delete(t.customers).where(
                t.customers.c.last_seen_at < cutoff,
                t.customers.c.state == "ok",
                t.customers.c.next_due.is_(None),
            ),
        }
        counts: dict[str, int] = {}
        async with self._write_transaction() as conn:
            for table, statement in statements.items():
                result = await conn.execute(statement)
                counts[table] = max(result.rowcount, 0)
        return counts


if TYPE_CHECKING:
    # mypy proves here that SqlStore (and Work) implement the ports structurally.
    def _implements_port(store: SqlStore) -> Store:
        return store
