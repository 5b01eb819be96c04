"""Alembic environment for mailguard, usable from code and from the ``alembic`` CLI.

From code (:mod:`mailguard.store.schema`) a live synchronous connection arrives in
``config.attributes["connection"]`` (handed over by ``AsyncConnection.run_sync``) and
the migration runs inside the caller's transaction. From the command line the URL comes
from ``-x url=…`` or the ``sqlalchemy.url`` option, and an async engine is created here.

Unlike Alembic's stock template this never calls ``logging.config.fileConfig``: that
would replace the application's structlog configuration in the middle of a run.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from mailguard.store.engine import create_engine
from mailguard.store.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def _cli_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database URL: alembic -x url=sqlite:///PATH …")
    return url


def _main() -> None:
    if context.is_offline_mode():
        context.configure(url=_cli_url(), target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = context.config.attributes.get("connection")
    if isinstance(connection, Connection):
        _run(connection)
    else:
        asyncio.run(_run_from_url(_cli_url()))


_main()
