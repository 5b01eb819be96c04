"""Migrations: upgrade, downgrade and upgrade again on both backends; schema == models."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import PrimaryKeyConstraint, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from mailguard.errors import StorageError
from mailguard.store import schema
from mailguard.store.engine import create_engine
from mailguard.store.models import Base

REPO_ROOT = Path(__file__).resolve().parents[2]


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert await schema.current(db_url) is None
    await schema.upgrade(db_url)
    assert await schema.current(db_url) == schema.head_revision()
    assert set(Base.metadata.tables) <= await _tables(db_url)

    await schema.downgrade(db_url, "base")
    assert await schema.current(db_url) is None
    assert await _tables(db_url) <= {"alembic_version"}

    await schema.upgrade(db_url, "head")
    assert await schema.current(db_url) == schema.head_revision()
    # Upgrading an up-to-date database is a no-op, not an error.
    await schema.upgrade(db_url)


async def test_migrated_schema_matches_models(db_url: str) -> None:
    await schema.upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


async def test_migrations_leave_logging_alone(sqlite_url: str) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    library_loggers = [logging.getLogger(n) for n in ("sqlalchemy", "alembic", "mailguard")]
    await schema.upgrade(sqlite_url)
    assert root.handlers == handlers
    assert root.level == level
    assert not any(logger.disabled for logger in library_loggers)


async def test_bad_url_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="unsupported database URL"):
        await schema.upgrade("mysql://user:secret@localhost/db")
    # The directory holding a SQLite file is created, but an unusable path fails cleanly.
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create the directory"):
        await schema.upgrade(f"sqlite:///{blocker / 'db.sqlite'}")


def test_migration_scripts_ship_inside_the_package() -> None:
    location = schema.migrations_dir()
    assert location == REPO_ROOT / "mailguard" / "migrations"
    assert (location / "env.py").is_file()
    assert (location / "script.py.mako").is_file()
    assert sorted(p.name for p in (location / "versions").glob("0*.py"))[0] == "0001_initial.py"
    # The documented top-level location is the same directory.
    assert (REPO_ROOT / "migrations").resolve() == location


def test_migrations_work_from_an_installed_copy_of_the_package(tmp_path: Path) -> None:
    """A non-editable install has only the package: no repository, no top-level dir."""
    site = tmp_path / "site-packages"
    shutil.copytree(
        REPO_ROOT / "mailguard", site / "mailguard", ignore=shutil.ignore_patterns("__pycache__")
    )
    database = tmp_path / "db" / "mailguard.db"
    script = (
        "import asyncio, sys\n"
        "from mailguard.store import schema\n"
        "assert schema.migrations_dir().is_relative_to(sys.argv[2]), schema.migrations_dir()\n"
        "asyncio.run(schema.upgrade(sys.argv[1]))\n"
        "print(asyncio.run(schema.current(sys.argv[1])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{database}", str(site)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == schema.head_revision()


def _constraint_names(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    names: dict[str, set[str]] = {}
    for table in Base.metadata.tables:
        found = {c["name"] for c in inspector.get_check_constraints(table)}
        found |= {c["name"] for c in inspector.get_unique_constraints(table)}
        found |= {c["name"] for c in inspector.get_foreign_keys(table)}
        names[table] = {name for name in found if name}
    return names


async def test_constraints_carry_the_models_names(db_url: str) -> None:
    """Later migrations alter constraints by name: the names must be the models' ones."""
    await schema.upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            migrated = await conn.run_sync(_constraint_names)
    finally:
        await engine.dispose()
    expected = {
        name: {
            str(c.name)
            for c in table.constraints
            if c.name and not isinstance(c, PrimaryKeyConstraint)
        }
        for name, table in Base.metadata.tables.items()
    }
    assert migrated == expected


def _held_row(message_id: str, state: str) -> dict[str, object]:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    return {
        "mailbox": "support",
        "message_id": message_id,
        "direction": "out",
        "raw": b"Subject: x\r\n\r\nbody\r\n",
        "envelope_sender": "",
        "envelope_recipients": json.dumps(["carl@customer.example"]),
        "mail_options": "[]",
        "rcpt_options": "[]",
        "reason": "why",
        "state": state,
        "held_at": now,
        "updated_at": now,
    }


async def _insert_held(url: str, row: dict[str, object]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            # Raw SQL on purpose: the models describe the newest schema, not revision 0001.
            # The column names are this module's constants.
            insert = f"INSERT INTO held_messages ({columns}) VALUES ({values})"  # noqa: S608
            await conn.execute(text(insert), row)
    finally:
        await engine.dispose()


async def _held_states(url: str) -> dict[str, tuple[str, str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT message_id, state, reason FROM held_messages"))
            return {str(r[0]): (str(r[1]), str(r[2])) for r in rows}
    finally:
        await engine.dispose()


async def test_0002_adds_the_deferred_state_and_downgrades_it_to_held(db_url: str) -> None:
    """The held state's CHECK gains "deferred" (a plain value swap, both backends), and a
    downgrade keeps every deferred reply as a held one: nothing the proxy accepted is lost."""
    await schema.upgrade(db_url, "0001")
    with pytest.raises(DBAPIError):
        await _insert_held(db_url, _held_row("early@x", "deferred"))
    await _insert_held(db_url, _held_row("held@x", "held"))

    await schema.upgrade(db_url, "0002")
    deferred = _held_row("waiting@x", "deferred") | {
        "awaits": "question@customer.example",
        "decide_by": datetime(2026, 11, 30, 9, 1, tzinfo=UTC),
    }
    await _insert_held(db_url, deferred)
    with pytest.raises(DBAPIError):
        await _insert_held(db_url, _held_row("bogus@x", "pending"))
    assert await _held_states(db_url) == {
        "held@x": ("held", "why"),
        "waiting@x": ("deferred", "why"),
    }

    await schema.downgrade(db_url, "0001")
    assert await _held_states(db_url) == {
        "held@x": ("held", "why"),
        "waiting@x": ("held", "deferred when mailguard was downgraded: why"),
    }
    with pytest.raises(DBAPIError):
        await _insert_held(db_url, _held_row("again@x", "deferred"))
    await schema.upgrade(db_url)
    assert await schema.current(db_url) == schema.head_revision()


async def test_0005_adds_relay_receipts_and_downgrades_without_them(db_url: str) -> None:
    """The relay receipts' table comes and goes; what was relayed is not touched."""
    await schema.upgrade(db_url, "0004_i20_server_limits")
    assert "relay_receipts" not in await _tables(db_url)
    await schema.upgrade(db_url, "0005_i19_relay_receipts")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO relay_receipts (mailbox, message_id, direction, envelope, reply, "
                    "refused, relayed_at, dsn_attempts) VALUES ('support', 'm@x', 'out', 'e', "
                    "'250 ok', '{}', :at, 0)"
                ),
                {"at": datetime(2026, 12, 7, 9, 0, tzinfo=UTC)},
            )
            with pytest.raises(DBAPIError):
                async with conn.begin_nested():
                    await conn.execute(
                        text(
                            "INSERT INTO relay_receipts (mailbox, message_id, direction, "
                            "envelope, reply, refused, relayed_at, dsn_attempts) VALUES "
                            "('support', 'm@x', 'sideways', 'e2', '250', '{}', :at, 0)"
                        ),
                        {"at": datetime(2026, 12, 7, 9, 0, tzinfo=UTC)},
                    )
    finally:
        await engine.dispose()
    await schema.downgrade(db_url, "0004_i20_server_limits")
    assert "relay_receipts" not in await _tables(db_url)
    await schema.upgrade(db_url)
    assert await schema.current(db_url) == schema.head_revision()


async def test_0006_indexes_customers_by_address_both_ways(db_url: str) -> None:
    """A customer is found by address alone through an index; a downgrade drops only it."""
    await schema.upgrade(db_url, "0005_i19_relay_receipts")
    assert "ix_customers_address" not in await _customer_indexes(db_url)
    await schema.upgrade(db_url, "0006_i23_customers_address")
    assert "ix_customers_address" in await _customer_indexes(db_url)
    await schema.downgrade(db_url, "0005_i19_relay_receipts")
    assert "ix_customers_address" not in await _customer_indexes(db_url)
    await schema.upgrade(db_url)
    assert await schema.current(db_url) == schema.head_revision()


async def _customer_indexes(db_url: str) -> set[str]:
    from sqlalchemy import inspect

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("customers"))
    finally:
        await engine.dispose()
    return {index["name"] for index in indexes if index["name"]}
