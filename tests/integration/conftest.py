"""Database fixtures shared by every integration test.

``sqlite_url``: a SQLite file in the test's temporary directory.
``postgres_url``: a new, empty PostgreSQL database with a random name, dropped after
the test. Tests using it carry ``@pytest.mark.postgres``. The server and the role that
creates the databases come from ``MAILGUARD_TEST_PG_URL`` (default :data:`DEFAULT_PG_URL`,
the role and database ``scripts/test`` creates); a server that does not answer or refuses
the login goes through :func:`tests.real_servers.require_or_skip`: a loud skip on a
developer's machine, a failure in CI.
``db_url``: parametrised over both backends.
``store``: a :class:`~mailguard.store.repository.SqlStore` on a migrated ``db_url``.
``internet`` and ``traffic``: the robots' upstream relay and their tasks
(tests/integration/robots.py).
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
from tests.integration.robots import internet, traffic
from tests.real_servers import exercised, require_marker, require_or_skip

__all__ = ["db_url", "internet", "postgres_url", "sqlite_url", "store", "traffic"]

# Keep in step with scripts/test, which creates this role (LOGIN CREATEDB) and database.
DEFAULT_PG_URL = "postgresql://mailguard_test:mailguard_test@127.0.0.1:5432/mailguard_test"
POSTGRES_TEST_URL = os.environ.get("MAILGUARD_TEST_PG_URL") or DEFAULT_PG_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A plain SQLite URL (as a config file would hold it) to a file under tmp_path."""
    return f"sqlite:///{tmp_path / 'data' / 'mailguard.db'}"


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def pg_connect() -> asyncpg.Connection:
    """A connection as the test role to its own database, or the require-or-skip switch.

    Any refusal counts as "unavailable", bad credentials and a missing role included: the
    switch then fails the test in CI, so such a machine cannot give a green run.
    """
    try:
        return await asyncpg.connect(POSTGRES_TEST_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        require_or_skip(
            "postgres",
            f"cannot log in at {_shown(POSTGRES_TEST_URL)} ({exc!r}); scripts/test creates "
            "the role and database, or set MAILGUARD_TEST_PG_URL",
        )


@pytest.fixture
async def postgres_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A plain ``postgresql://`` URL to a fresh database, dropped after the test."""
    require_marker(request.node, "postgres")
    name = f"mailguard_test_{secrets.token_hex(6)}"
    admin = await pg_connect()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    exercised(request.node, "postgres")
    url = make_url(POSTGRES_TEST_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await pg_connect()
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
