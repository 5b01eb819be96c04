"""The watcher over STARTTLS, with polling instead of IDLE, and with a backfill window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import (
    customer_mail,
    mailguard_config,
    mid,
    open_imap,
    running_mailguard,
)

pytestmark = pytest.mark.dovecot


async def test_starttls_and_polling_without_idle(dovecot: Dovecot, tmp_path: Path) -> None:
    config = mailguard_config(
        dovecot, tmp_path / "data", tls="starttls", extra_imap="      idle: false\n"
    )
    async with running_mailguard(config) as mg:
        msg = customer_mail("polly@customer.example", "Polled", "Hello,\n\nany news?\n")
        await dovecot.deliver_async(msg, mail_from="polly@customer.example", rcpt=SUPPORT)
        await mg.processed(mid(msg))
        assert mg.mail.health()["imap:support"] == "ok"


async def test_first_start_backfills_the_window_and_no_further(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    old = customer_mail("old@customer.example", "Old", "from long ago\n")
    recent = customer_mail("new@customer.example", "Recent", "from today\n")
    conn = await open_imap(dovecot)
    try:
        # INTERNALDATE decides the window (RFC 3501 SEARCH SINCE).
        await conn.append("INBOX", old.as_bytes(), internal_date=datetime(2020, 1, 1, tzinfo=UTC))
        await conn.append("INBOX", recent.as_bytes())
    finally:
        await conn.close()
    config = mailguard_config(dovecot, tmp_path / "data", extra_imap="      backfill: 7d\n")
    async with running_mailguard(config) as mg:
        await mg.processed(mid(recent))
        assert await mg.decisions(mid(old)) == 0


async def test_sent_is_watched_with_idle_between_polls(dovecot: Dovecot, tmp_path: Path) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", poll_interval="60s")
    async with running_mailguard(config) as mg:
        await asyncio.sleep(0.5)  # the second connection is idling on Sent now
        reply = customer_mail(
            SUPPORT,
            "Re: your order",
            "Dear Polly,\n\nyour order left today.\n\nAnna\n",
            to="polly@customer.example",
            domain="example.test",
        )
        dovecot.seed(SUPPORT, reply, "Sent")
        await mg.processed(mid(reply), within=5)  # long before the 60 s poll
