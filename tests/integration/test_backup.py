"""``mailguard db backup`` copies the SQLite database while the engine keeps writing to it."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailguard.domain.model import Direction, Source
from mailguard.store import schema
from tests.integration.engine_support import build_engine, mail, migrated_store

pytestmark = pytest.mark.slow


async def mailguard(*args: str) -> tuple[int, str]:
    """The command in a process of its own: exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mailguard",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


def customer_message(n: int) -> bytes:
    return mail(
        sender=f"c{n}@customer.example",
        to="support@example.com",
        subject=f"Question {n}",
        at=datetime.now(UTC),
        message_id=f"q{n}@customer.example",
    )


def check_copy(dest: Path) -> int:
    """The copy is whole, at the newest schema and one moment's state; its message count."""
    with closing(sqlite3.connect(dest)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (messages,) = copy.execute("SELECT count(*) FROM messages").fetchone()
        (customers,) = copy.execute("SELECT count(DISTINCT address) FROM customers").fetchone()
        (revision,) = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    assert customers == messages  # each message's customer, and no customer without one
    assert revision == schema.head_revision()
    assert not list(dest.parent.glob(".*.partial"))
    return int(messages)


async def test_a_backup_taken_while_the_engine_writes_is_whole_and_consistent(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "mailguard.sqlite3"
    db.parent.mkdir()
    url = f"sqlite:///{db}"
    config = tmp_path / "mailguard.yaml"
    config.write_text(f"storage: {{url: '{url}'}}\n", encoding="utf-8")
    dest = tmp_path / "backup.sqlite3"
    async with migrated_store(url) as store:
        engine = build_engine(store)

        stop = asyncio.Event()

        async def write(first: int, last: int) -> int:
            n = first
            while n < last and not stop.is_set():
                await engine.process(
                    customer_message(n),
                    source=Source.IMAP,
                    now=datetime.now(UTC),
                    direction=Direction.INBOUND,
                )
                n += 1
            return n

        await write(0, 50)
        # The engine writes all along, from before the command starts until it has ended.
        writer = asyncio.create_task(write(50, 100_000))
        code, out = await mailguard("db", "backup", "-c", str(config), str(dest))
        stop.set()
        written = await writer
    assert code == 0, out
    assert f"{dest}: " in out and "integrity ok" in out
    messages = check_copy(dest)
    assert 50 <= messages < written

    code, out = await mailguard("db", "backup", "-c", str(config), str(dest))
    assert code == 1 and "exists already" in out
    config.write_text("storage: {url: 'postgresql://mailguard@db/mailguard'}\n")
    code, out = await mailguard("db", "backup", "-c", str(config), str(tmp_path / "b2"))
    assert code == 1 and "pg_dump" in out
