"""The proxy between real servers when the upstream refuses some recipients, and on retries.

A permanent refusal of some recipients: the others get the message, the client 250, and the
envelope sender a delivery status notification (RFC 3464) through the same relay. A
temporary refusal of any recipient while others were accepted: nothing is delivered and the
client gets 451, so its retry reaches everyone once. A client retrying a message relayed
already (its 250 was lost) gets 250 from the relay receipt, and nothing is relayed again.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailguard.config.model import RelayConfig
from mailguard.domain.model import Direction
from mailguard.engine.ports import MessageKey
from mailguard.smtp.journal import JournalEntry, RelayJournal
from mailguard.smtp.receipts import Receipts, envelope_digest
from mailguard.smtp.relay import Relay
from mailguard.store import tables as t
from mailguard.store.receipts import Receipt
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import count
from tests.integration.smtp_support import (
    Received,
    Sink,
    running_proxy,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)
from tests.integration.test_smtp_proxy import reply, send

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

DORA, ERIK, FRED = "dora@customer.example", "erik@customer.example", "fred@customer.example"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


async def test_a_permanently_refused_recipient_gets_its_sender_a_dsn(
    store: SqlStore, sink: Sink
) -> None:
    raw = reply("three-1@example.com", automated=False)
    sink.fail_next("RCPT", "550 5.1.1 <dora@customer.example>: no such user")
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw, DORA, ERIK, FRED)
        assert code == 250, text
        [message, dsn] = await _arrived(sink, 2)
    assert message.rcpt_tos == [ERIK, FRED]
    assert message.raw == raw
    assert dsn.mail_from == "<>"
    assert dsn.rcpt_tos == ["support@example.com"]
    report = email.message_from_bytes(dsn.raw, policy=email.policy.default)
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    [text_part, status, headers] = list(report.iter_parts())
    assert "dora@customer.example" in text_part.get_content()
    per_message, per_recipient = status.get_payload()
    assert per_recipient["Final-Recipient"] == "rfc822; dora@customer.example"
    assert per_recipient["Action"] == "failed"
    assert per_recipient["Status"] == "5.1.1"
    assert "550 5.1.1" in per_recipient["Diagnostic-Code"]
    assert "three-1@example.com" in headers.get_payload()
    envelope = envelope_digest("support@example.com", [DORA, ERIK, FRED])
    receipt = await _receipt(store, "three-1@example.com", envelope, "sent")
    assert receipt.refused == {DORA: (550, "5.1.1 <dora@customer.example>: no such user")}


async def test_a_temporarily_refused_recipient_delays_the_whole_message(
    store: SqlStore, sink: Sink
) -> None:
    raw = reply("three-2@example.com", automated=False)
    sink.fail_next("RCPT", "450 4.2.0 <erik@customer.example>: mailbox busy")
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw, DORA, ERIK, FRED)
        # Dora was accepted but nothing was sent: 451, and the client keeps the message.
        assert code == 451, text
        assert sink.received == []
        code, text = await send(proxy.port, raw, DORA, ERIK, FRED)  # the client's retry
        assert code == 250, text
        [message] = await _arrived(sink, 1)
    assert message.rcpt_tos == [DORA, ERIK, FRED]


async def test_a_refusal_for_the_null_sender_is_logged_not_bounced(
    store: SqlStore, sink: Sink
) -> None:
    raw = reply("three-3@example.com", automated=False)
    sink.fail_next("RCPT", "550 5.1.1 no such user")
    async with running_proxy(store, sink.port) as proxy:
        code, _ = await send(proxy.port, raw, DORA, ERIK, sender="")
        assert code == 250
        [message] = await _arrived(sink, 1)
    assert message.rcpt_tos == [ERIK]
    envelope = envelope_digest("<>", [DORA, ERIK])
    receipt = await store.receipt_for(
        "support", "three-3@example.com", Direction.OUTBOUND, envelope
    )
    assert receipt is not None and receipt.dsn_state is None


async def test_a_retry_of_a_relayed_message_is_answered_not_relayed_again(
    store: SqlStore, sink: Sink
) -> None:
    raw = reply("retry-1@example.com", automated=False)
    async with running_proxy(store, sink.port) as proxy:
        code, first = await send(proxy.port, raw)
        assert code == 250
        # The client never saw that 250 (a crash, a dropped connection) and sends again.
        code, again = await send(proxy.port, raw)
        assert code == 250
        assert "relayed already" in again and "SINK1" in again
        # The same Message-ID to someone else is another delivery: relayed.
        code, other = await send(proxy.port, raw, DORA)
        assert code == 250 and "relayed already" not in other
    assert [r.rcpt_tos for r in sink.received] == [["carl@customer.example"], [DORA]]


async def test_a_dsn_the_relay_refused_at_first_is_sent_later(store: SqlStore, sink: Sink) -> None:
    raw = reply("three-4@example.com", automated=False)
    sink.fail_next("RCPT", "550 5.1.1 no such user")
    async with running_proxy(store, sink.port) as proxy:
        # The message is relayed; the DSN's own MAIL FROM is refused for now.
        sink.fail_next("MAIL", "")  # the message's MAIL passes, the DSN's does not
        sink.fail_next("MAIL", "421 4.3.0 try later")
        code, _ = await send(proxy.port, raw, DORA, ERIK)
        assert code == 250
        [message] = await _arrived(sink, 1)
        receipts = proxy.handler.dispatcher.receipts
        assert receipts is not None
        envelope = envelope_digest("support@example.com", [DORA, ERIK])
        await _receipt(store, "three-4@example.com", envelope, "pending", attempts=1)
        later = datetime.now(UTC) + timedelta(minutes=5)
        receipts._clock = lambda: later  # noqa: SLF001 (the retry round runs later)
        assert await receipts.send_pending() == 1
        [_, dsn] = await _arrived(sink, 2)
    assert dsn.mail_from == "<>" and dsn.rcpt_tos == ["support@example.com"]
    assert message.rcpt_tos == [ERIK]


async def _receipt(
    store: SqlStore, message_id: str, envelope: str, state: str, attempts: int = 0
) -> Receipt:
    """The receipt once its notification is in ``state`` (after ``attempts`` tries)."""
    found = None
    for _ in range(200):
        found = await store.receipt_for("support", message_id, Direction.OUTBOUND, envelope)
        tried = await count(store, t.relay_receipts, t.relay_receipts.c.dsn_attempts >= attempts)
        if found is not None and found.dsn_state == state and tried:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"receipt of {message_id}: {found}")


async def _arrived(sink: Sink, count: int) -> list[Received]:
    for _ in range(200):
        if len(sink.received) >= count:
            return list(sink.received)
        await asyncio.sleep(0.02)
    raise AssertionError(f"the sink got {len(sink.received)} of {count} messages")


async def test_a_receipt_only_in_the_journal_is_recovered_at_start(
    store: SqlStore, sink: Sink, tmp_path: Path
) -> None:
    """A process killed after the journal line and before the database commit: the next
    start writes the receipt (and the DSN it owed), and a retry is answered, not relayed."""
    relay = Relay(RelayConfig(host="127.0.0.1", port=sink.port))
    envelope = envelope_digest("support@example.com", [DORA, ERIK])
    left = RelayJournal(tmp_path)
    left.open()
    head = b"From: support@example.com\r\nMessage-ID: <killed@example.com>\r\n\r\n"
    left.append(
        JournalEntry(
            "support",
            "killed@example.com",
            "out",
            envelope,
            "2.0.0 Ok: queued as SINK1",
            {DORA: (550, "5.1.1 no such user")},
            "support@example.com",
            head,
            "127.0.0.1",
            datetime.now(UTC).isoformat(),
        )
    )
    left.close()  # as the kernel does for a killed process
    receipts = Receipts(store, relay, "mailguard.test", journal=RelayJournal(tmp_path))
    try:
        assert await receipts.recover() == 1
        receipt = await _receipt(store, "killed@example.com", envelope, "sent", attempts=1)
        assert receipt.refused == {DORA: (550, "5.1.1 no such user")}
        [dsn] = await _arrived(sink, 1)
        assert dsn.rcpt_tos == ["support@example.com"] and b"killed@example.com" in dsn.raw
        key = MessageKey("support", "killed@example.com", Direction.OUTBOUND)
        assert await receipts.relayed_before(key, "support@example.com", [ERIK, DORA]) is not None
        # The journal was emptied: the next start recovers nothing again.
        again = Receipts(store, relay, "mailguard.test", journal=RelayJournal(tmp_path))
        await receipts.drain(1)
        assert await again.recover() == 0
        await again.drain(1)
    finally:
        await relay.close()
