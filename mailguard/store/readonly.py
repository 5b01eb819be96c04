"""A unit of work that reads the database and writes nothing, for ``mailguard try``.

The engine's own decision path (:meth:`mailguard.engine.service.Engine.process_prepared`)
runs on it unchanged: the customer's saved state, threads and recorded messages are read
through a :class:`~mailguard.store.work.Work` on a plain connection, and what the engine
would write is kept in memory for the caller to show. Nothing is inserted and then rolled
back: a rolled-back INSERT still advances a PostgreSQL sequence, and on SQLite a write
transaction would take the database's write lock from the running daemon. Customers are
read, never created or locked (``SELECT … FOR UPDATE`` would wait for the daemon).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mailguard.engine.ports import (
    CustomerRef,
    DeferredMessage,
    EventWrite,
    LockedCustomers,
    MessageKey,
)
from mailguard.store.work import Work


class ReadOnlyWork:
    """:class:`~mailguard.engine.ports.UnitOfWork` for reading: writes land in ``writes``.

    ``apply`` answers as the database would (False for a message recorded already), so a
    message the daemon has seen shows up as a duplicate, as it would in the daemon.
    """

    def __init__(self, reads: Work) -> None:
        self._reads = reads
        self.writes: list[EventWrite] = []
        self.deferred: list[DeferredMessage] = []

    async def lock_customers(
        self, address: str, mailboxes: Sequence[str], now: datetime
    ) -> LockedCustomers:
        return await self._reads.read_customers(address, mailboxes)

    async def is_recorded(self, key: MessageKey) -> bool:
        if any(w.message is not None and w.message.key == key for w in self.writes):
            return True
        return await self._reads.is_recorded(key)

    async def find_thread(
        self,
        customer: CustomerRef,
        message_ids: Sequence[str],
        subject_key: str,
        active_since: datetime,
    ) -> str | None:
        return await self._reads.find_thread(customer, message_ids, subject_key, active_since)

    async def apply(self, write: EventWrite) -> bool:
        if write.message is not None and await self.is_recorded(write.message.key):
            return False
        self.writes.append(write)
        return True

    async def is_seen(self, mailbox: str, message_id: str) -> bool:
        return await self._reads.is_seen(mailbox, message_id)

    async def is_deferred(self, key: MessageKey) -> bool:
        return await self._reads.is_deferred(key)

    async def defer(self, deferred: DeferredMessage) -> None:
        self.deferred.append(deferred)
