"""A batch leaves exactly the rows that one unit of work per event leaves.

The batch buffers rows, allocates ids itself and, on a fresh database, keeps open
escalations in memory; this replays one script of events both ways, with flushes
falling at different points, and compares every table.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from mailguard.domain.model import Direction
from mailguard.engine.ports import (
    CustomerRef,
    DecisionRecord,
    EscalationNotify,
    EscalationOpen,
    EscalationResolve,
    EventWrite,
    HeldMessage,
    UnitOfWork,
)
from mailguard.store import schema
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.store_support import action, at, event, key

A, B = "anna@example.org", "bert@example.org"


def _ring(mailbox: str, minute: int) -> EscalationOpen:
    ref = CustomerRef(mailbox, A)
    return EscalationOpen(ref, f"{mailbox}-a1@x", "referral_ring", "ring", [], at(minute), "ring:a")


def _script() -> list[tuple[str, tuple[str, ...], EventWrite]]:
    """(address, mailboxes to lock, write) per event."""
    shop, partner = CustomerRef("shop", A), CustomerRef("partner", A)
    bert = CustomerRef("shop", B)
    held = HeldMessage(key("out@x", Direction.OUTBOUND, "shop"), b"raw", "bot_ping_pong", at(3))
    tick = EventWrite(None, DecisionRecord(bert, None, [], "sla", at(40)))
    return [
        (A, ("shop",), event("shop-a1@x", at(0), customer=A, mailbox="shop", state={"n": 1})),
        (B, ("shop",), event("b1@x", at(1), customer=B, mailbox="shop", subject_key="s")),
        (
            B,
            ("shop",),
            event(
                "b2@x",
                at(2),
                customer=B,
                mailbox="shop",
                root="b1@x",
                refs=("b1@x",),
                opened=(EscalationOpen(bert, "b1@x", "repeat_contact", "3x", [], at(2)),),
                actions=(action("esc:b"), action("esc:b")),
            ),
        ),
        (
            B,
            ("shop",),
            event(
                "out@x",
                at(3),
                customer=B,
                mailbox="shop",
                direction=Direction.OUTBOUND,
                automated=True,
                held=held,
                notified=(EscalationNotify(bert, "primary", at(3)),),
            ),
        ),
        (
            A,
            ("partner", "shop"),
            event(
                "partner-a1@x",
                at(4),
                customer=A,
                mailbox="partner",
                opened=(_ring("shop", 4), _ring("partner", 4)),
                state={"n": 2},
            ),
        ),
        (
            B,
            ("shop",),
            EventWrite(
                tick.message, tick.decision, notified=(EscalationNotify(bert, "secondary", at(40)),)
            ),
        ),
        (
            A,
            ("shop",),
            event(
                "shop-a2@x",
                at(50),
                customer=A,
                mailbox="shop",
                direction=Direction.OUTBOUND,
                root="shop-a1@x",
                resolved=(EscalationResolve(shop, at(50), "human_reply:shop-a2@x"),),
            ),
        ),
        (
            A,
            ("partner",),
            event(
                "partner-a2@x",
                at(51),
                customer=A,
                mailbox="partner",
                resolved=(EscalationResolve(partner, at(51), "handled:agent"),),
                opened=(_ring("partner", 51),),
                next_due=at(500),
                state={"n": 3},
            ),
        ),
        (
            B,
            ("shop",),
            event(
                "b3@x",
                at(60),
                customer=B,
                mailbox="shop",
                direction=Direction.OUTBOUND,
                root="b1@x",
                resolved=(EscalationResolve(bert, at(60), "human_reply:b3@x"),),
                actions=(action("esc:b"), action("resolve:b")),
            ),
        ),
        (A, ("shop",), event("shop-a1@x", at(70), customer=A, mailbox="shop", state={"n": 99})),
    ]


async def _replay(
    uow: UnitOfWork, address: str, mailboxes: tuple[str, ...], write: EventWrite
) -> None:
    await uow.lock_customers(address, mailboxes, write.decision.at)
    thread = write.thread
    if thread is not None:
        # As the engine does: look the thread up before applying (here by its root), so a
        # unit of work knows the existing thread. Otherwise its insert of the thread would
        # find the row by conflict, which on PostgreSQL costs a sequence value and thus
        # shifts the ids this test compares.
        ref = CustomerRef(thread.mailbox, thread.customer)
        ids = (thread.root, *thread.message_ids)
        await uow.find_thread(ref, ids, thread.subject_key, thread.at)
    await uow.apply(write)


async def _dump(store: SqlStore) -> dict[str, list[dict[str, Any]]]:
    tables = (
        t.customers,
        t.threads,
        t.thread_message_ids,
        t.messages,
        t.escalations,
        t.outbox_actions,
        t.held_messages,
        t.decisions,
    )
    dump: dict[str, list[dict[str, Any]]] = {}
    async with store.engine.connect() as conn:
        for table in tables:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            dump[table.name] = [dict(row._mapping) for row in rows]
    # On PostgreSQL a unit of work's INSERT … ON CONFLICT DO NOTHING of a repeated key
    # still takes a sequence value; a batch drops the repeat in memory. Nothing refers
    # to outbox ids, so compare the actions without them.
    for row in dump["outbox_actions"]:
        del row["id"]
    return dump


@pytest.mark.parametrize("flush_every", [1, 2, 3, 100])
async def test_batch_equals_units_of_work(db_url: str, flush_every: int) -> None:
    await schema.upgrade(db_url)
    store = SqlStore.from_url(db_url)
    try:
        for address, mailboxes, write in _script():
            async with store.unit_of_work() as uow:
                await _replay(uow, address, mailboxes, write)
        expected = await _dump(store)
        await schema.downgrade(db_url, "base")
        await schema.upgrade(db_url)
        async with store.batch(flush_every=flush_every) as batch:
            for address, mailboxes, write in _script():
                await _replay(batch, address, mailboxes, write)
        assert await _dump(store) == expected
    finally:
        await store.close()
    escalations = expected["escalations"]
    assert [(e["rule"], e["resolved_by"]) for e in escalations] == [
        ("repeat_contact", "human_reply:b3@x"),
        ("referral_ring", "human_reply:shop-a2@x"),
        ("referral_ring", "handled:agent"),
        ("referral_ring", None),
    ]
    assert escalations[0]["notify_level"] == "secondary"
    # The ring's two escalations point at each other; the reopened one at the latest.
    assert escalations[1]["linked_escalation_id"] == escalations[2]["id"]
    assert escalations[2]["linked_escalation_id"] == escalations[1]["id"]
    assert escalations[3]["linked_escalation_id"] == escalations[2]["id"]
