"""Retention: old state and finished mail go; open work and unreleased mail stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from mailguard.domain.model import Direction, Source
from mailguard.engine.ports import (
    CustomerRef,
    EscalationOpen,
    EscalationResolve,
    FailedMessage,
    HeldMessage,
)
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.store_support import MAILBOX, T0, action, at, event, key

OLD, NEW = "old@example.org", "open@example.org"
CUTOFF = at(100)


async def _column(store: SqlStore, column: Any) -> list[Any]:
    async with store.engine.connect() as conn:
        return sorted((await conn.execute(select(column))).scalars())


def _held(message_id: str, when: int) -> HeldMessage:
    return HeldMessage(key(message_id, Direction.OUTBOUND), b"raw", "bot_ping_pong", at(when))


async def test_purge_older_than(store: SqlStore) -> None:
    old_ref, new_ref = CustomerRef(MAILBOX, OLD), CustomerRef(MAILBOX, NEW)
    async with store.unit_of_work() as uow:
        await uow.lock_customers(OLD, [MAILBOX], T0)
        await uow.lock_customers(NEW, [MAILBOX], T0)
        opened = EscalationOpen(old_ref, "o1@x", "repeat_contact", "", [], at(1))
        await uow.apply(event("o1@x", at(1), customer=OLD, opened=(opened,)))
        resolved = EscalationResolve(old_ref, at(2), "human_reply:o2@x")
        await uow.apply(
            event("o2@x", at(2), customer=OLD, direction=Direction.OUTBOUND, resolved=(resolved,))
        )
        still_open = EscalationOpen(new_ref, "n1@x", "frustration", "", [], at(3))
        await uow.apply(
            event("n1@x", at(3), customer=NEW, opened=(still_open,), actions=(action("pending"),))
        )
        await uow.apply(event("h1@x", at(4), customer=None, held=_held("held-old@x", 4)))
        await uow.apply(event("h2@x", at(5), customer=None, held=_held("released-old@x", 5)))
        await uow.apply(event("h3@x", at(6), customer=None, held=_held("released-new@x", 6)))
        await uow.apply(event("a1@x", at(7), customer=None, actions=(action("done-old"),)))
        await uow.apply(event("a2@x", at(8), customer=None, actions=(action("done-new"),)))
        await uow.apply(event("new@x", at(200), customer=NEW))
    await store.record_failure(FailedMessage(key("f@x"), Source.IMAP, b"x", "boom", at(9)))
    async with store.engine.begin() as conn:
        held = t.held_messages.c
        await conn.execute(
            update(t.held_messages)
            .where(held.message_id == "released-old@x")
            .values(state="released", updated_at=at(50))
        )
        await conn.execute(
            update(t.held_messages)
            .where(held.message_id == "released-new@x")
            .values(state="released", updated_at=at(150))
        )
        done = t.outbox_actions.c
        await conn.execute(
            update(t.outbox_actions)
            .where(done.idempotency_key == "done-old")
            .values(state="done", updated_at=at(50))
        )
        await conn.execute(
            update(t.outbox_actions)
            .where(done.idempotency_key == "done-new")
            .values(state="done", updated_at=at(150))
        )

    counts = await store.purge_older_than(CUTOFF)

    assert counts["customers"] == 1
    assert await _column(store, t.customers.c.address) == [NEW]
    assert await _column(store, t.messages.c.message_id) == ["new@x"]
    assert await _column(store, t.escalations.c.rule) == ["frustration"]
    assert await _column(store, t.held_messages.c.message_id) == ["held-old@x", "released-new@x"]
    assert await _column(store, t.outbox_actions.c.idempotency_key) == ["done-new", "pending"]
    assert await _column(store, t.failed_messages.c.message_id) == ["f@x"]
    assert await _column(store, t.decisions.c.message_id) == ["new@x"]
    # n1@x's thread was last active before the cutoff but has an open escalation.
    assert await _column(store, t.threads.c.root_message_id) == ["n1@x", "new@x"]
    assert await store.purge_older_than(CUTOFF - timedelta(days=1)) == dict.fromkeys(counts, 0)
