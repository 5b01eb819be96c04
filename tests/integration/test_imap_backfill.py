"""A backfill over several FETCH batches on real Dovecot: the next batch is fetched while the
engine works on the current one (mailguard.imap.sync.FolderReader.read)."""

from __future__ import annotations

import asyncio
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailguard.imap.parse import FETCH_BATCH
from mailguard.store.repository import SqlStore
from tests.dovecot.fixture import Dovecot
from tests.integration.imap_support import (
    customer_mail,
    kick,
    mailguard_config,
    mid,
    open_imap,
    running_mailguard,
    wait_until,
)

pytestmark = pytest.mark.dovecot

MESSAGES = 6 * FETCH_BATCH + 30  # seven batches
KEYWORD = "$MailguardAutomated"
_FLAGS = re.compile(rb"UID (\d+) FLAGS \(([^)]*)\)|FLAGS \(([^)]*)\) UID (\d+)")


def _mail(n: int) -> EmailMessage:
    """Every seventh message an out-of-office reply, the others a customer's question."""
    sender = f"backfill{n}@customer.example"
    if n % 7 == 0:
        return customer_mail(
            sender,
            f"Out of office: order {n}",
            "I am out of the office until Monday and will reply on my return.\n",
            headers=[("Auto-Submitted", "auto-replied")],
        )
    return customer_mail(sender, f"Question {n}", f"Hello,\n\nwhere is order {n}?\n")


async def _fill(dovecot: Dovecot) -> list[str]:
    conn = await open_imap(dovecot)
    try:
        ids = []
        for n in range(MESSAGES):
            msg = _mail(n)
            await conn.append("INBOX", msg.as_bytes())
            ids.append(mid(msg))
        return ids
    finally:
        await conn.close()


async def _flagged(dovecot: Dovecot) -> set[int]:
    """UIDs in INBOX carrying the automated keyword."""
    conn = await open_imap(dovecot)
    try:
        await conn.select("INBOX")
        response = await conn.uid("FETCH", "1:*", "(UID FLAGS)")
        found = set()
        for line in response.lines[:-1]:
            match = _FLAGS.search(bytes(line))
            if match:
                uid = int(match.group(1) or match.group(4))
                flags = (match.group(2) or match.group(3) or b"").split()
                if KEYWORD.encode() in flags:
                    found.add(uid)
        return found
    finally:
        await conn.close()


async def test_a_backfill_over_several_batches_with_a_kick_decides_each_message_once(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    ids = await _fill(dovecot)
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        # In the second batch: the third is being fetched ahead, or already was.
        await mg.processed(ids[FETCH_BATCH + 20], within=60)
        kick(dovecot)
        await mg.processed(ids[-1], within=120)

        async def checkpointed() -> bool:
            checkpoint = await mg.store.load_checkpoint("support", "INBOX")
            return checkpoint is not None and checkpoint.last_uid == MESSAGES

        await wait_until(checkpointed, 30, "the checkpoint at the last UID")
        for message_id in ids:
            assert await mg.decisions(message_id) == 1, message_id
    # UIDs are 1.. in the order of the APPENDs; the keyword is set before the checkpoint.
    assert await _flagged(dovecot) == {n + 1 for n in range(MESSAGES) if n % 7 == 0}


async def test_shutdown_during_a_backfill_of_several_batches_is_prompt_and_resumes(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    ids = await _fill(dovecot)
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        await mg.processed(ids[FETCH_BATCH + 5], within=60)
        stopping = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - stopping < 3.0
    store = SqlStore.from_url(config.storage_url)
    try:
        checkpoint = await store.load_checkpoint("support", "INBOX")
    finally:
        await store.close()
    # Stopped within a batch: the checkpoint is at the end of the last batch finished.
    assert checkpoint is not None and FETCH_BATCH <= checkpoint.last_uid < MESSAGES
    assert checkpoint.last_uid % FETCH_BATCH == 0
    async with running_mailguard(config) as mg:
        await mg.processed(ids[-1], within=120)
        for message_id in ids:
            assert await mg.decisions(message_id) == 1, message_id
    assert await _flagged(dovecot) == {n + 1 for n in range(MESSAGES) if n % 7 == 0}
