"""Whole SQLite units of work in one hop: a thread of the store's own runs them start to end.

Through aiosqlite every statement of a unit of work is several hand-offs between the event
loop and aiosqlite's thread (open a cursor, execute, fetch, close), each wrapped in one of
SQLAlchemy's greenlet switches. An SMTP message cost about 25 statements, and measured on
the proxy's path those hand-offs, not SQLite, were most of its ~8 ms of store CPU.

:class:`SqliteThread` instead owns one synchronous connection on one thread and runs a whole
transaction there (``BEGIN IMMEDIATE``, the unit of work's statements, ``COMMIT``) for one
hop of the event loop. The unit of work is the same :class:`~mailguard.store.work.Work` as
everywhere else: its ``async`` methods await an :class:`InlineConnection`, whose methods
finish without ever suspending, so :func:`run_inline` drives the coroutine to its end on
the thread without an event loop. Anything that does suspend there is a programming error
and fails loudly.

The connection runs the unit of work's statements on the driver's cursor directly: each
statement is compiled once into SQL, its parameters' positions and the column types' own
bind and result processors (:class:`_Plan`). Measured on this path, SQLAlchemy's general
execution machinery cost ~50 µs a statement where SQLite itself took ~9 µs.

SQLite has one writer at a time anyway (the store queues this process's writers before
they get here), so one thread costs no concurrency. PostgreSQL keeps its asynchronous
driver: its per-statement round trips go to a server, and customers there run in parallel.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Executable, PoolProxiedConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, ReturnsRows

T = TypeVar("T")

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class _Plan:
    """One statement compiled for the driver, for one set of parameter names."""

    compiled: SQLCompiler
    sql: str
    # Where each positional parameter comes from: (name, None) for a named parameter,
    # (name, i) for the i-th element of an expanded IN list.
    sources: tuple[tuple[str, int | None], ...]
    # Values of parameters the statement binds itself (e.g. a LIMIT), by name.
    defaults: Mapping[str, Any]
    binds: Mapping[str, Processor]
    # (column position, result processor) for the columns whose type converts values.
    results: tuple[tuple[int, Processor], ...]
    expanding: bool


_plans: dict[tuple[Executable, str, tuple[str, ...]], _Plan] = {}
_expansions: dict[tuple[_Plan, tuple[int, ...]], _Plan] = {}
# The unit of work runs a few dozen statements built once (mailguard.store.sql), and an IN
# list has as many lengths as References headers have ids; a statement built per call
# would still not make the caches grow without bound.
_MAX_PLANS = 512


def _remember(cache: dict[Any, _Plan], key: Any, plan: _Plan) -> _Plan:
    if len(cache) >= _MAX_PLANS:
        cache.clear()
    cache[key] = plan
    return plan


def _plan(statement: Executable, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    found = _plans.get((statement, dialect.name, keys))
    if found is not None:
        return found
    clause = cast(ClauseElement, statement)
    compiled = cast(SQLCompiler, clause.compile(dialect=dialect, column_keys=list(keys)))
    binds: dict[str, Processor] = {}
    defaults: dict[str, Any] = {}
    for name, bind in compiled.binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binds[name] = processor
        if name not in keys:
            defaults[name] = bind.effective_value
    results = []
    if isinstance(statement, ReturnsRows):
        for position, column in enumerate(statement.exported_columns):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                results.append((position, processor))
    found = _Plan(
        compiled=compiled,
        sql=compiled.string,
        sources=tuple((name, None) for name in compiled.positiontup or ()),
        defaults=defaults,
        binds=binds,
        results=tuple(results),
        expanding="__[POSTCOMPILE_" in compiled.string,
    )
    return _remember(_plans, (statement, dialect.name, keys), found)


def _expanded(plan: _Plan, params: Mapping[str, Any]) -> _Plan:
    """The plan with its IN lists expanded for their lengths in ``params`` (cached)."""
    expanding = [name for name, bind in plan.compiled.binds.items() if bind.expanding]
    lengths = tuple(len(params[name]) for name in expanding)
    found = _expansions.get((plan, lengths))
    if found is not None:
        return found
    state = plan.compiled.construct_expanded_state({**plan.defaults, **params})
    origin = {
        expanded: (name, index)
        for name, names in state.parameter_expansion.items()
        for index, expanded in enumerate(names)
    }
    sources = tuple(origin.get(name, (name, None)) for name in state.positiontup or ())
    found = _Plan(
        compiled=plan.compiled,
        sql=state.statement,
        sources=sources,
        defaults=plan.defaults,
        binds=plan.binds,
        results=plan.results,
        expanding=False,
    )
    return _remember(_expansions, (plan, lengths), found)


class Rows:
    """The rows a statement returned, with the part of ``Result`` the unit of work uses."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self._rows)

    def first(self) -> tuple[Any, ...] | None:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def one(self) -> tuple[Any, ...]:
        """Exactly one row, else raise as ``Result.one`` does."""
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        """The first column of exactly one row."""
        return self.one()[0]


class InlineConnection:
    """The part of ``AsyncConnection`` the unit of work uses, on the store's SQLite thread.

    Each method runs its statement at once on the driver's connection and returns: awaiting
    it never suspends. The caller controls the transaction (see :func:`write_transaction`).
    """

    def __init__(self, dialect: Dialect, driver: sqlite3.Connection) -> None:
        self.dialect = dialect
        self._driver = driver

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows:
        """Execute a Core statement with one set of named parameters."""
        params: Mapping[str, Any] = parameters or {}
        plan = _plan(statement, self.dialect, tuple(params))
        if plan.expanding:
            plan = _expanded(plan, params)
        values = {**plan.defaults, **params} if plan.defaults else params
        bound = []
        for name, index in plan.sources:
            value = values[name] if index is None else values[name][index]
            processor = plan.binds.get(name)
            bound.append(value if processor is None else processor(value))
        rows, rowcount = self._run(plan.sql, bound, many=False)
        if plan.results:
            converted = []
            for row in rows:
                values_ = list(row)
                for position, processor in plan.results:
                    values_[position] = processor(values_[position])
                converted.append(tuple(values_))
            rows = converted
        return Rows(rows, rowcount)

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Rows:
        """Execute driver SQL: a list of parameter tuples runs it once per tuple."""
        many = isinstance(parameters, list)
        rows, rowcount = self._run(statement, parameters or (), many=many)
        return Rows(rows, rowcount)

    def _run(self, sql: str, params: Any, *, many: bool) -> tuple[list[Any], int]:
        try:
            if many:
                cursor = self._driver.executemany(sql, params)
            else:
                cursor = self._driver.execute(sql, params)
            try:
                return cursor.fetchall(), cursor.rowcount
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            # Raised as SQLAlchemy raises driver errors (OperationalError, IntegrityError,
            # ...), which is what callers above the store catch.
            raise DBAPIError.instance(sql, params, exc, sqlite3.Error, ismulti=many) from exc


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


def write_transaction(driver: sqlite3.Connection, work: Callable[[], T]) -> T:
    """``BEGIN IMMEDIATE``, ``work()``, ``COMMIT``; roll back and raise if anything raises.

    The driver connection is in autocommit mode (the engine's connect hook sets it), so
    these statements are the transaction control, as for the async engine's transactions.
    """
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise DBAPIError.instance("BEGIN IMMEDIATE", (), exc, sqlite3.Error) from exc
    try:
        result = work()
        driver.commit()
    except BaseException:
        if driver.in_transaction:
            driver.rollback()
        raise
    return result


class SqliteThread:
    """One thread, one synchronous SQLite connection, whole transactions per call."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailguard-sqlite")
        self._raw: PoolProxiedConnection | None = None

    async def transaction(self, work: Callable[[InlineConnection], T]) -> T:
        """Run ``work`` in one write transaction on the thread: commit, or roll back and raise.

        The caller holds the store's writer lock, so transactions of this process never
        wait for each other inside SQLite.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, work)

    def _run(self, work: Callable[[InlineConnection], T]) -> T:
        if self._raw is None:
            # A pooled connection of the engine: its connect hook set the pragmas.
            self._raw = self._engine.raw_connection()
        driver = cast(sqlite3.Connection, self._raw.driver_connection)
        conn = InlineConnection(self._engine.dialect, driver)
        try:
            return write_transaction(driver, lambda: work(conn))
        except sqlite3.Error:
            # The connection itself failed (e.g. the rollback): replace it next time.
            self._drop()
            raise

    async def close(self) -> None:
        """Close the connection on its thread and end the thread."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _drop(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            # Closing a connection whose database went away must not hide the error.
            with suppress(sqlite3.Error, DBAPIError):
                raw.close()

    def _close(self) -> None:
        self._drop()
        self._engine.dispose()
