"""Migrate the database schema from code: upgrade, downgrade, current revision.

The Alembic scripts live inside the package (``mailguard/migrations``) so they ship in
the wheel; :func:`migrations_dir` finds them next to this module, which works for an
editable checkout and a non-editable install alike. Migrations run on the async engine
through ``AsyncConnection.run_sync`` in one transaction; on PostgreSQL a transaction-
scoped advisory lock makes replicas that start together migrate one after the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from mailguard.errors import StorageError
from mailguard.store.engine import create_engine, writer

# Arbitrary but fixed: the key of the advisory lock serialising migrations
# (pg_advisory_xact_lock takes a bigint; this is "mgschema" in ASCII).
_MIGRATION_LOCK_KEY = 0x6D67736368656D61


def migrations_dir() -> Path:
    """The directory holding ``env.py`` and ``versions/``."""
    return Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic :class:`Config` without an ini file, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the shipped migrations know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only possible with an empty versions directory
        raise StorageError(f"no migrations found in {migrations_dir()}")
    return head


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest)."""
    await _run(url, lambda conn: command.upgrade(alembic_config(conn), revision))


async def downgrade(url: str | URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` ("base" removes every table)."""
    await _run(url, lambda conn: command.downgrade(alembic_config(conn), revision))


async def current(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at, or None if it was never migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current_revision)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StorageError(f"cannot read the schema revision: {exc}") from exc
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _run(url: str | URL, migrate: Callable[[Connection], Any]) -> None:
    engine = create_engine(url)
    try:
        async with writer(engine).begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            await conn.run_sync(migrate)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StorageError(f"database migration failed: {exc}") from exc
    except CommandError as exc:
        if "Can't locate revision" not in str(exc):
            raise StorageError(f"database migration failed: {exc}") from exc
        # A newer mailguard migrated this database: only it knows how to undo that.
        raise StorageError(
            f"database migration failed: {exc}: the database was migrated by a newer "
            "mailguard; downgrade it with that version (mailguard db downgrade REV) before "
            "installing this one, or restore a backup (docs/deployment.md, Upgrades and backups)"
        ) from exc
    finally:
        await engine.dispose()
