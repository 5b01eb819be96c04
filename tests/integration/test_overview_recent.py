"""``mailguard status``'s most recently active customers, walked along the sent_at index
(issue 23), agree with aggregating every message per customer, ties and pages included."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from mailguard.store import tables as t
from mailguard.store.cache import CustomerEntry
from mailguard.store.overview import _recently_active
from mailguard.store.repository import SqlStore

T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def test_recently_active_matches_the_aggregate(store: SqlStore) -> None:
    rng = random.Random(4)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(t.customers),
            [CustomerEntry.insert_values("support", f"c{n}@x.org", T0) for n in range(40)],
        )
        ids = [row[0] for row in await conn.execute(select(t.customers.c.id))]
        rows = []
        for n in range(400):
            # Minutes from a small range: many customers tie on their last message.
            at = T0 + timedelta(minutes=rng.randrange(60))
            rows.append(
                {
                    "mailbox": "support",
                    "message_id": f"m{n}@x",
                    "direction": "in",
                    "source": "imap",
                    "customer_id": rng.choice(ids),
                    "kind": "human",
                    "automated": False,
                    "evidence": [],
                    "frustration": 0.0,
                    "subject": "",
                    "sent_at": at,
                    "size": 1,
                }
            )
        await conn.execute(insert(t.messages), rows)
    m = t.messages.c
    async with store.engine.connect() as conn:
        last = func.max(m.sent_at).label("last")
        expected = [
            row[0]
            for row in await conn.execute(
                select(m.customer_id, last)
                .group_by(m.customer_id)
                .order_by(last.desc(), m.customer_id)
            )
        ]
        for limit in (1, 3, 20, 40, 50):
            for page in (1, 7, 500):
                got = await _recently_active(conn, limit, page)
                assert got == expected[:limit], (limit, page)
