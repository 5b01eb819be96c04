"""The catch-up's fetch-ahead holds at most ``imap.fetch_ahead_bytes`` of mail (issue 23), on
real Dovecot: batches are cut by the messages' RFC822.SIZE, and the next batch is fetched
ahead only while it and the one being decided fit within the cap together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailguard.app.mailwatch import StoreBridge
from mailguard.imap.connection import ImapConnection
from mailguard.imap.sync import FolderReader, Handled, Start
from mailguard.store.repository import SqlStore
from tests.dovecot.fixture import Dovecot
from tests.integration.engine_support import migrated_store
from tests.integration.imap_support import customer_mail, open_imap

pytestmark = pytest.mark.dovecot

MESSAGES = 9
PADDING = 40_000  # bytes of body per message


async def _fill(dovecot: Dovecot) -> None:
    conn = await open_imap(dovecot)
    try:
        for n in range(MESSAGES):
            body = f"Hello,\n\nwhere is order {n}?\n" + "x" * 70 + "\n"
            body += ("padding " * 9 + "\n") * (PADDING // 73)
            await conn.append(
                "INBOX", customer_mail(f"c{n}@customer.example", f"Q {n}", body).as_bytes()
            )
    finally:
        await conn.close()


async def _read(conn: ImapConnection, store: SqlStore, cap: int) -> tuple[list[list[int]], int]:
    """Read INBOX with the cap: (the batches handed over, the most bytes held at once)."""
    held = peak = 0
    real = conn.fetch_batch

    async def fetch_batch(uids: list[int], item: str = "BODY.PEEK[]") -> list[tuple[int, bytes]]:
        nonlocal held, peak
        batch = await real(uids, item)
        held += sum(len(raw) for _, raw in batch)
        peak = max(peak, held)
        return batch

    conn.fetch_batch = fetch_batch  # type: ignore[method-assign]
    batches: list[list[int]] = []

    async def handle(batch: list[tuple[int, bytes]]) -> Handled:
        nonlocal held
        await asyncio.sleep(0.05)  # the engine's work: a FETCH ahead completes meanwhile
        batches.append([uid for uid, _ in batch])
        held -= sum(len(raw) for _, raw in batch)
        return Handled(len(batch))

    reader = FolderReader(
        StoreBridge(store),
        f"support-{cap}",
        "INBOX",
        start=Start.BACKFILL,
        backfill=timedelta(days=30),
        clock=lambda: datetime.now(UTC),
        fetch_ahead_bytes=cap,
    )
    assert await reader.read(conn, handle) == MESSAGES
    return batches, peak


async def test_fetch_ahead_stays_within_its_byte_cap(dovecot: Dovecot, tmp_path: Path) -> None:
    await _fill(dovecot)
    async with migrated_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        conn = await open_imap(dovecot)
        try:
            await conn.select("INBOX")
            size = max(len(raw) for _, raw in await conn.fetch_batch(list(range(1, 10))))
            assert size > PADDING
            # Room for two messages at once: one per batch, the next fetched ahead.
            batches, peak = await _read(conn, store, 2 * size + 100)
            assert batches == [[uid] for uid in range(1, MESSAGES + 1)]
            assert size < peak <= 2 * size + 100
            # Room for one and a half: one per batch and nothing fetched ahead.
            batches, peak = await _read(conn, store, size + size // 2)
            assert batches == [[uid] for uid in range(1, MESSAGES + 1)]
            assert peak <= size + size // 2
            # Plenty of room: the usual batches of parse.FETCH_BATCH, the whole folder in one.
            batches, peak = await _read(conn, store, 64 * 1024**2)
            assert batches == [list(range(1, MESSAGES + 1))]
        finally:
            await conn.close()
