"""Named leases: which replica watches which mailbox (DESIGN.md "Scale-out").

On PostgreSQL a lease is a session-level advisory lock (``pg_try_advisory_lock``) on a
connection of its own, in autocommit mode so that no transaction stays open for the
hours a watcher runs. PostgreSQL drops the lock when that session ends, so a replica that
crashes or loses its connection frees its mailboxes for the others; the holder notices
through :meth:`Lease.check`. On SQLite, which one process owns, a lease is exclusive
among the tasks of that process.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


def lease_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a lease name, the same in every replica."""
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"mailguard").digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(slots=True)
class Lease:
    """The outcome of asking for a lease; ``held`` says whether this caller got it."""

    name: str
    held: bool
    _conn: AsyncConnection | None = field(default=None, repr=False)

    async def check(self) -> bool:
        """True while the lease is still held; False once it was lost (or never held).

        On PostgreSQL this asks the lease's session: if the session is gone, so is the
        lock, and another replica may hold the lease already.
        """
        if not self.held:
            return False
        if self._conn is None:
            return True
        try:
            await self._conn.exec_driver_sql("SELECT 1")
        except DBAPIError:
            self.held = False
        return self.held


class Leases:
    """Hands out leases on one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # SQLite: names held by tasks of this process.
        self._local: set[str] = set()

    @asynccontextmanager
    async def lease(self, name: str) -> AsyncIterator[Lease]:
        """Try to take the lease ``name`` for the duration of the ``async with`` block.

        Never waits: the yielded :class:`Lease` says whether it was taken. It is given
        back on leaving the block.
        """
        if self._engine.dialect.name != "postgresql":
            async with self._local_lease(name) as lease:
                yield lease
            return
        key = {"key": lease_key(name)}
        conn = await self._engine.connect()
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            held = (await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key)).scalar()
            lease = Lease(name, bool(held), conn)
            try:
                yield lease
            finally:
                if lease.held:
                    # A failure means the session is gone, and the lock with it.
                    with suppress(DBAPIError):
                        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        finally:
            await conn.close()

    @asynccontextmanager
    async def _local_lease(self, name: str) -> AsyncIterator[Lease]:
        if name in self._local:
            yield Lease(name, held=False)
            return
        self._local.add(name)
        try:
            yield Lease(name, held=True)
        finally:
            self._local.discard(name)
