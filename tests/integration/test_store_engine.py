"""Engine helpers: URL upgrading, SQLite pragmas and directories, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from mailguard.errors import StorageError
from mailguard.store.engine import async_url, create_engine, is_sqlite, sqlite_path
from mailguard.store.types import UTCDateTime


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///data/mg.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///data/mg.db", "sqlite+aiosqlite"),
        ("sqlite://", "sqlite+aiosqlite"),
        ("postgresql://mg:pw@db/mg", "postgresql+asyncpg"),
        ("postgres://mg@db/mg", "postgresql+asyncpg"),
        ("postgresql+psycopg://mg@db/mg", "postgresql+psycopg"),
    ],
)
def test_plain_urls_get_async_drivers(url: str, driver: str) -> None:
    assert async_url(url).drivername == driver


@pytest.mark.parametrize("url", ["mysql://u:secret@h/db", "not a url", "oracle://h/db"])
def test_unsupported_urls_are_refused_without_leaking_passwords(url: str) -> None:
    with pytest.raises(StorageError) as info:
        async_url(url)
    assert "secret" not in str(info.value)


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:///rel/mg.db") == Path("rel/mg.db")
    assert sqlite_path("sqlite:////abs/mg.db") == Path("/abs/mg.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://h/db") is None
    assert is_sqlite("sqlite:///x.db") and not is_sqlite("postgresql://h/db")


async def test_sqlite_file_gets_directory_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "mg.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as conn:
            pragmas = {
                name: (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert path.is_file()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000}


async def test_sqlite_memory_database_is_shared_across_connections() -> None:
    engine = create_engine("sqlite://")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await engine.dispose()


CEST = timezone(timedelta(hours=2))


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_utc_type_binds_the_utc_instant(dialect: object) -> None:
    column_type = UTCDateTime()
    local = datetime(2026, 3, 29, 3, 30, tzinfo=CEST)
    bound = column_type.process_bind_param(local, dialect)  # type: ignore[arg-type]
    assert bound is not None
    assert bound.replace(tzinfo=bound.tzinfo or UTC) == local
    assert bound.utcoffset() in (None, timedelta(0))
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2026, 1, 1), dialect)  # type: ignore[arg-type]
    assert column_type.process_bind_param(None, dialect) is None  # type: ignore[arg-type]


def test_utc_type_returns_aware_utc() -> None:
    column_type = UTCDateTime()
    naive = column_type.process_result_value(datetime(2026, 1, 1, 12), sqlite.dialect())
    assert naive == datetime(2026, 1, 1, 12, tzinfo=UTC)
    local = column_type.process_result_value(
        datetime(2026, 1, 1, 14, tzinfo=CEST), postgresql.dialect()
    )
    assert local is not None and local.tzinfo is UTC and local.hour == 12
