"""Locking one customer in many mailboxes with two statements, not two per mailbox.

The engine locks a customer in every guarded mailbox (the referral ring reads and writes the
customer's state in the others). With 100 mailboxes that was 100 ``SELECT … FOR UPDATE``
round trips per message, and 100 ``INSERT``s more for a new customer, on PostgreSQL. Here:
one ``SELECT … WHERE address = … AND mailbox IN (…) ORDER BY mailbox FOR UPDATE`` (the
rows are locked in mailbox order, the order every writer uses), then one multi-row
``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the mailboxes without a row. A row
another writer inserted meanwhile is left to :meth:`mailguard.store.work.Work._customer`,
which waits for and locks it.

SQLite has one writer and no round trips; it keeps the statement per mailbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, text

from mailguard.store import sql
from mailguard.store import tables as t
from mailguard.store.cache import CustomerEntry
from mailguard.store.types import UTCDateTime


async def lock_in_mailboxes(
    conn: sql.Db, address: str, mailboxes: Sequence[str], now: datetime
) -> list[CustomerEntry]:
    """Lock (creating where missing) ``address`` in ``mailboxes``; the entries it got."""
    c = t.customers.c
    query = (
        select(*CustomerEntry.columns())
        .where(c.address == address, c.mailbox.in_(sorted(mailboxes)))
        .order_by(c.mailbox)
        .with_for_update()
    )
    entries = [CustomerEntry.from_row(row) for row in await conn.execute(query)]
    have = {entry.mailbox for entry in entries}
    missing = [mailbox for mailbox in sorted(mailboxes) if mailbox not in have]
    if missing:
        params = {"mailboxes": missing, "address": address, "now": now}
        for row in await conn.execute(_INSERT_MISSING, params):
            # A row this transaction inserted is locked by it until commit.
            entries.append(CustomerEntry.new(row[0], row[1], address, now))
    return entries


# One statement text for any number of mailboxes (a multi-row VALUES would be compiled
# afresh for every new customer: ~0.15 s with 100 mailboxes). Columns as
# CustomerEntry.insert_values gives them.
_INSERT_MISSING = text(
    """
    INSERT INTO customers (mailbox, address, state, human_in, automated_in, human_out,
        automated_out, escalations, policy_state, next_due, first_seen_at, last_seen_at)
    SELECT mb, :address, 'ok', 0, 0, 0, 0, 0, NULL, NULL, :now, :now
    FROM unnest(CAST(:mailboxes AS text[])) AS mb
    ON CONFLICT (mailbox, address) DO NOTHING
    RETURNING id, mailbox
    """
).bindparams(bindparam("now", type_=UTCDateTime()))
