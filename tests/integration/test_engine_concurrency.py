"""Concurrent events for one customer never lose updates (issue 4): row locks on PostgreSQL,
one writer on SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from mailguard.domain.model import Source
from mailguard.domain.state import CustomerState
from mailguard.engine.service import Status
from mailguard.store import tables as t
from tests.integration.engine_support import (
    AUTO,
    build_engine,
    count,
    customer_state,
    mail,
    migrated_store,
    rows,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CUSTOMER = "eilig@example.org"
TASKS = 24


def message(n: int) -> bytes:
    return mail(
        sender=CUSTOMER,
        to="support@example.com",
        subject=f"Frage {n}",
        at=T0 + timedelta(minutes=n),
        message_id=f"q{n}@example.org",
    )


async def test_concurrent_messages_for_one_customer_lose_nothing(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        now = T0 + timedelta(hours=1)
        results = await asyncio.gather(
            *(engine.process(message(n), source=Source.IMAP, now=now) for n in range(TASKS))
        )
        assert [r.status for r in results] == [Status.PROCESSED] * TASKS
        state = await customer_state(store, "support", CUSTOMER)
        assert state is not None
        # Every task's message is in the one saved state: no read-modify-write was lost.
        history = CustomerState.from_dict(state).history
        assert sorted(e.message_id for e in history) == sorted(
            f"q{n}@example.org" for n in range(TASKS)
        )
        # One row per guarded mailbox: the engine locks the customer's rows in every mailbox
        # so that the referral ring can update them in the same transaction.
        assert await count(store, t.customers) == 2
        assert await count(store, t.customers, t.customers.c.mailbox == "support") == 1
        assert await count(store, t.messages) == TASKS
        # repeat_contact fired exactly once although many tasks saw >= 3 messages.
        (esc,) = await rows(store, t.escalations)
        assert esc.rule == "repeat_contact"
        assert sum(1 for r in results if r.decision and r.decision.escalated) == 1


async def test_proxy_and_watcher_at_once_process_a_message_once(db_url: str) -> None:
    raw = mail(
        sender="support@example.com",
        to=CUSTOMER,
        subject="Automatische Antwort: Frage",
        at=T0,
        message_id="ack@example.com",
        headers=AUTO,
    )
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        results = await asyncio.gather(
            *(
                engine.process(raw, source=source, now=T0)
                for source in (Source.SMTP, Source.IMAP) * 4
            )
        )
        statuses = sorted(r.status.value for r in results)
        assert statuses == ["duplicate"] * 7 + ["processed"]
        assert await count(store, t.messages) == 1
        state = await customer_state(store, "support", CUSTOMER)
        assert state is not None and len(state["history"]) == 1
