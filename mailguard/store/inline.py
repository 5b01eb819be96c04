"""Whole SQLite units of work in one hop: a thread of the store's own runs them start to end.

Through aiosqlite every statement of a unit of work is several hand-offs between the event
loop and aiosqlite's thread (open a cursor, execute, fetch, close), each wrapped in one of
SQLAlchemy's greenlet switches. An SMTP message costs about 25 statements, and measured
on the proxy's path those hand-offs, not SQLite, were most of its ~8 ms of CPU per message.

:class:`SqliteThread` instead owns one synchronous connection on one thread and runs a whole
transaction there (``BEGIN IMMEDIATE``, the unit of work's statements, ``COMMIT``) for one
hop of the event loop. The unit of work is the same :class:`~mailguard.store.work.Work` as
everywhere else: its ``async`` methods await an :class:`InlineConnection`, whose methods
finish without ever suspending, so :func:`run_inline` drives the coroutine to its end on
the thread without an event loop. Anything that does suspend there is a programming error
and fails loudly.

SQLite has one writer at a time anyway (the store queues this process's writers before
they get here), so one thread costs no concurrency. PostgreSQL keeps its asynchronous
driver: its per-statement round trips go to a server, and customers there run in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

from sqlalchemy import Connection, CursorResult, Engine, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class InlineConnection:
    """The part of ``AsyncConnection`` the unit of work uses, over a synchronous connection.

    Each method runs its statement at once and returns: awaiting it never suspends.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect: Dialect = conn.dialect

    async def execute(self, statement: Executable, parameters: Params = None) -> CursorResult[Any]:
        """Execute a Core statement (``Connection.execute``)."""
        return self._conn.execute(statement, parameters)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> CursorResult[Any]:
        """Execute driver SQL, one parameter tuple or a list of them for executemany."""
        return self._conn.exec_driver_sql(statement, parameters)


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its end, here, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError(
        "a unit of work on the store's SQLite thread awaited something that suspends; "
        "it may only await the unit of work it was given"
    )


class SqliteThread:
    """One thread, one synchronous SQLite connection, whole transactions per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailguard-sqlite")
        self._conn: Connection | None = None

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction on the thread: commit, or roll back and raise.

        The caller holds the store's writer lock, so transactions of this process never
        wait for each other inside SQLite.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, work)

    def _run(self, work: Callable[[Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._engine.connect()
        conn = self._conn
        try:
            with conn.begin():
                return work(conn)
        except BaseException:
            if conn.invalidated or conn.closed:
                # A broken connection is replaced on the next call.
                self._conn = None
            raise

    async def close(self) -> None:
        """Close the connection on its thread and end the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            # Closing a connection whose database went away must not hide the shutdown.
            with suppress(DBAPIError):
                conn.close()
        self._engine.dispose()
