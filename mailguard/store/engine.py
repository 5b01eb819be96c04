"""Async engine and session factory for SQLite (embedded) and PostgreSQL (production).

Configuration holds plain URLs (``sqlite:///data/mailguard.db``, ``postgresql://…``);
:func:`async_url` upgrades them to the async drivers. SQLite gets WAL (readers do not
block the writer), a busy timeout, enforced foreign keys and explicit transaction
control so that write transactions start with ``BEGIN IMMEDIATE``: that takes the
database write lock up front, which is how "one writer on SQLite" is enforced across
processes without the deadlock a deferred read-then-write upgrade can hit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool, StaticPool

from mailguard.errors import StorageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Execution option that makes a SQLite transaction start with BEGIN IMMEDIATE.
WRITE_OPTION = "mailguard_write"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+pysqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg_async": "postgresql+psycopg_async",
}


def async_url(url: str | URL) -> URL:
    """Return ``url`` with an async driver; plain ``sqlite://``/``postgresql://`` upgraded.

    Raises :class:`StorageError` for a URL that names no supported backend.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception as exc:  # ArgumentError, ValueError: both mean "not a URL"
        raise StorageError(f"not a database URL: {_redact(url)}") from exc
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    if driver is None:
        raise StorageError(
            f"unsupported database URL {_redact(url)}: use sqlite:///PATH or postgresql://…"
        )
    return parsed.set(drivername=driver)


def _redact(url: str | URL) -> str:
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:  # noqa: BLE001 - only used to build an error message
        return "<unparseable>"
    return parsed.render_as_string(hide_password=True)


def is_sqlite(url: str | URL) -> bool:
    """True when ``url`` points at SQLite."""
    return async_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for memory databases and PostgreSQL."""
    parsed = async_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    """Create an :class:`AsyncEngine` for ``url``, configured for mailguard's backends.

    For a SQLite file the parent directory is created. Extra keyword arguments go to
    :func:`~sqlalchemy.ext.asyncio.create_async_engine`.
    """
    parsed = async_url(url)
    # An error's text would otherwise carry the statement's parameters (subjects, raw
    # message bytes) into the logs and into failed_messages.error (docs/privacy.md).
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(parsed, **kwargs)

    path = sqlite_path(parsed)
    if path is None:
        # Each connection to ":memory:" would be a new empty database: share one.
        kwargs.setdefault("poolclass", StaticPool)
    else:
        try:
            path.expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the directory of {path}: {exc}") from exc
        parsed = parsed.set(database=str(path.expanduser()))
    engine = create_async_engine(parsed, **kwargs)
    _configure_sqlite(engine.sync_engine, memory=path is None)
    return engine


def sqlite_writer_engine(engine: AsyncEngine) -> Engine | None:
    """A synchronous engine on the same SQLite file as ``engine``, for the store's thread.

    Its transactions all begin with ``BEGIN IMMEDIATE`` (it only writes); the connection
    set-up is the same as the async engine's. None for PostgreSQL and for a memory
    database (a second connection to ``:memory:`` would be a second, empty database).
    """
    url = engine.url
    if url.get_backend_name() != "sqlite" or sqlite_path(url) is None:
        return None
    sync = create_sync_engine(
        url.set(drivername="sqlite+pysqlite"), poolclass=NullPool, hide_parameters=True
    )
    _configure_sqlite(sync, memory=False)
    return sync.execution_options(**{WRITE_OPTION: True})


def _configure_sqlite(engine: Engine, *, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver (it would otherwise BEGIN
        # lazily, deferred, and never for DDL); _on_begin emits BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL with synchronous=NORMAL is durable against application crashes
                # and only loses the last transactions on power loss.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten rows are zeroed, not left in free pages: an erased
            # customer, expired held mail or an old version of a row must not stay readable
            # in the file (docs/privacy.md).
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def writer(engine: AsyncEngine) -> AsyncEngine:
    """A view of ``engine`` whose transactions take the SQLite write lock at BEGIN.

    It shares the connection pool; on PostgreSQL the option is ignored.
    """
    return engine.execution_options(**{WRITE_OPTION: True})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy reload in async)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
