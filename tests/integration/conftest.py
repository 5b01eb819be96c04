"""Database fixtures shared by every integration test.

``sqlite_url``: a SQLite file in the test's temporary directory.
``postgres_url``: a new, empty PostgreSQL database with a random name, dropped after
the test. Tests using it carry ``@pytest.mark.postgres``; when the server at
``MAILGUARD_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``)
does not answer they are skipped with a reason saying so.
``db_url``: parametrised over both backends.
``store``: a :class:`~mailguard.store.repository.SqlStore` on a migrated ``db_url``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from mailguard.store import schema
from mailguard.store.repository import SqlStore

POSTGRES_ADMIN_URL = os.environ.get(
    "MAILGUARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A plain SQLite URL (as a config file would hold it) to a file under tmp_path."""
    return f"sqlite:///{tmp_path / 'data' / 'mailguard.db'}"


async def _admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(
            f"!!! PostgreSQL at {POSTGRES_ADMIN_URL} does not answer ({exc!r}): "
            "PostgreSQL tests SKIPPED !!!"
        )


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A plain ``postgresql://`` URL to a fresh database, dropped after the test."""
    name = f"mailguard_test_{secrets.token_hex(6)}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await _admin_connection()
        try:
            # FORCE: a test that failed half-way may have left a connection open.
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database on each backend in turn."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    """A store on a migrated, empty database of each backend."""
    await schema.upgrade(db_url)
    sql_store = SqlStore.from_url(db_url)
    try:
        yield sql_store
    finally:
        await sql_store.close()
