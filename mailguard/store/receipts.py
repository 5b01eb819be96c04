"""Relay receipts: what the upstream answered to a message the proxy relayed.

Written after the upstream's 250 and before the proxy's own (:mod:`mailguard.smtp.receipts`):
a client retrying a message whose 250 it never saw finds the receipt and is answered 250
without a second relay. A receipt also carries the delivery status notification for the
recipients the upstream refused for good until it has been sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, select, update

from mailguard.domain.model import Direction
from mailguard.engine.ports import DSN_PENDING, NewReceipt
from mailguard.store import sql
from mailguard.store import tables as t
from mailguard.store.inline import InlineConnection, run_inline
from mailguard.store.operations import StoreOperations
from mailguard.store.sql import insert_ignore

DSN_SENT = "sent"


@dataclass(frozen=True, slots=True)
class Receipt:
    """One relayed message: the upstream's reply and the recipients it refused."""

    id: int
    mailbox: str
    message_id: str
    reply: str
    refused: Mapping[str, tuple[int, str]]
    relayed_at: datetime
    dsn_state: str | None


@dataclass(frozen=True, slots=True)
class PendingDsn:
    """A delivery status notification still to send."""

    id: int
    message_id: str
    to: str
    raw: bytes
    attempts: int


class ReceiptOperations(StoreOperations):
    """The receipts' queries; a base of :class:`~mailguard.store.repository.SqlStore`."""

    async def record_receipt(
        self,
        mailbox: str,
        message_id: str,
        direction: Direction,
        envelope: str,
        *,
        reply: str,
        refused: Mapping[str, tuple[int, str]],
        now: datetime,
        dsn: bytes | None = None,
        dsn_to: str | None = None,
    ) -> None:
        """Record a relayed message (once; a second relay of the same one keeps the first)."""
        await self.record_receipts(
            [NewReceipt(mailbox, message_id, direction, envelope, reply, refused, now, dsn, dsn_to)]
        )

    async def record_receipts(self, receipts: Sequence[NewReceipt]) -> list[None]:
        """Record several relayed messages in one transaction (the proxy's group of them)."""
        if not receipts:
            return []
        rows = [r.values() for r in receipts]
        thread = self._thread
        if thread is None:
            async with self._write_transaction() as conn:
                await sql.executemany(conn, _insert_receipts(conn.dialect.name), rows)
            return [None] * len(receipts)

        async def whole(conn: InlineConnection) -> None:
            await sql.executemany(conn, _insert_receipts("sqlite"), rows)

        # On a SQLite file, as the engine's transactions: one hop to the store's thread.
        async with self._one_writer():
            await thread.transaction(lambda conn: run_inline(whole(conn)))
        return [None] * len(receipts)

    async def receipt_for(
        self, mailbox: str, message_id: str, direction: Direction, envelope: str
    ) -> Receipt | None:
        """The receipt of this message to this envelope, or None if it was never relayed."""
        r = t.relay_receipts.c
        query = select(t.relay_receipts).where(
            r.mailbox == mailbox,
            r.message_id == message_id,
            r.direction == direction,
            r.envelope == envelope,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        refused = {rcpt: (int(code), str(text)) for rcpt, (code, text) in row.refused.items()}
        return Receipt(
            row.id, row.mailbox, row.message_id, row.reply, refused, row.relayed_at, row.dsn_state
        )

    async def pending_dsns(self, before: datetime, limit: int = 50) -> list[PendingDsn]:
        """Delivery status notifications not sent yet, of messages relayed before
        ``before`` (the process that relayed one sends it at once), oldest first."""
        r = t.relay_receipts.c
        query = (
            select(r.id, r.message_id, r.dsn_to, r.dsn, r.dsn_attempts)
            .where(r.dsn_state == DSN_PENDING, r.relayed_at < before)
            .order_by(r.relayed_at, r.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            PendingDsn(row.id, row.message_id, row.dsn_to or "", row.dsn or b"", row.dsn_attempts)
            for row in rows
        ]

    async def dsn_attempted(self, receipt_id: int, *, sent: bool) -> bool:
        """Count an attempt; mark the notification sent. False if it was sent already."""
        r = t.relay_receipts.c
        values: dict[str, object] = {"dsn_attempts": r.dsn_attempts + 1}
        if sent:
            values["dsn_state"] = DSN_SENT
        async with self._write_transaction() as conn:
            result = await conn.execute(
                update(t.relay_receipts)
                .where(r.id == receipt_id, r.dsn_state == DSN_PENDING)
                .values(values)
            )
        return bool(result.rowcount)


@cache
def _insert_receipts(dialect: str) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` of a receipt (a second relay keeps the first)."""
    return insert_ignore(
        dialect, t.relay_receipts, "mailbox", "message_id", "direction", "envelope"
    )
