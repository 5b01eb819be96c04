"""The adapters' store calls: IMAP checkpoints, outbox executor, held mail, decision log."""

from __future__ import annotations

import pytest

from mailguard.domain.model import Direction
from mailguard.engine.ports import CustomerRef, DecisionRecord, EventWrite, HeldMessage
from mailguard.store.models import HeldState
from mailguard.store.records import Checkpoint
from mailguard.store.repository import SqlStore
from tests.integration.store_support import CUSTOMER, MAILBOX, action, at, event, key


async def test_checkpoints_are_saved_per_folder_and_replaced(store: SqlStore) -> None:
    assert await store.load_checkpoint(MAILBOX, "INBOX") is None
    inbox = Checkpoint(MAILBOX, "INBOX", 1_700_000_000, 41, None, at(0))
    await store.save_checkpoint(inbox)
    await store.save_checkpoint(Checkpoint(MAILBOX, "Sent", 7, 3, 99, at(0)))
    assert await store.load_checkpoint(MAILBOX, "INBOX") == inbox
    # A new UIDVALIDITY replaces the whole checkpoint (RFC 3501 §2.3.1.1).
    moved = Checkpoint(MAILBOX, "INBOX", 4_294_967_295, 2, 2**62, at(5))
    await store.save_checkpoint(moved)
    assert await store.load_checkpoint(MAILBOX, "INBOX") == moved
    assert await store.load_checkpoint(MAILBOX, "Sent") == Checkpoint(
        MAILBOX, "Sent", 7, 3, 99, at(0)
    )
    assert await store.load_checkpoint("other", "INBOX") is None


async def test_outbox_executor_calls(store: SqlStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.apply(event("1@x", at(0), actions=(action("k1", at(1)), action("k2", at(0)))))
    pending = await store.pending_actions()
    assert [(a.idempotency_key, a.payload, a.attempts) for a in pending] == [
        ("k2", {"why": "k2"}, 0),
        ("k1", {"why": "k1"}, 0),
    ]
    await store.finish_action(pending[0].id, at(5))
    await store.finish_action(pending[1].id, at(5), error="IMAP down")
    (retry,) = await store.pending_actions()
    assert (retry.idempotency_key, retry.attempts, retry.last_error) == ("k1", 1, "IMAP down")
    await store.finish_action(retry.id, at(6), error="IMAP still down", give_up=True)
    assert await store.pending_actions() == []


async def test_held_mail_is_listed_and_settled_once(store: SqlStore) -> None:
    def held(message_id: str, minute: int) -> HeldMessage:
        return HeldMessage(
            key(message_id, Direction.OUTBOUND),
            f"Message-ID: <{message_id}>\r\n\r\nbody".encode(),
            "bot_ping_pong",
            at(minute),
            mail_from="helpdesk@company.example",
            rcpt_tos=(CUSTOMER, "cc@example.org"),
            mail_options=("SMTPUTF8",),
            rcpt_options=("NOTIFY=NEVER",),
        )

    async with store.unit_of_work() as uow:
        await uow.apply(event("b@x", at(2), direction=Direction.OUTBOUND, held=held("b@x", 2)))
        await uow.apply(event("a@x", at(1), direction=Direction.OUTBOUND, held=held("a@x", 1)))
    first, second = await store.held_mail()
    assert [first.message_id, second.message_id] == ["a@x", "b@x"]
    assert first.raw == held("a@x", 1).raw
    assert first.envelope_recipients == (CUSTOMER, "cc@example.org")
    assert (first.mail_options, first.rcpt_options) == (("SMTPUTF8",), ("NOTIFY=NEVER",))
    assert (first.state, first.direction) == ("held", Direction.OUTBOUND)
    assert await store.held_mail("other mailbox") == []

    assert await store.settle_held(first.id, HeldState.RELEASED, at(10)) is True
    assert await store.settle_held(first.id, HeldState.DISCARDED, at(11)) is False
    assert [h.message_id for h in await store.held_mail(MAILBOX)] == ["b@x"]
    with pytest.raises(ValueError, match="released or discarded"):
        await store.settle_held(second.id, HeldState.HELD, at(12))


async def test_decisions_for_a_message(store: SqlStore) -> None:
    hits = [{"rule": "repeat_contact", "evidence": [{"rule": "count", "matched": "3"}]}]
    ref = CustomerRef(MAILBOX, CUSTOMER)
    base = event("m@x", at(0))
    async with store.unit_of_work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(0))
        await uow.apply(
            EventWrite(base.message, DecisionRecord(ref, key("m@x"), hits, "3 in 48h", at(0)))
        )
    (logged,) = await store.decisions_for(MAILBOX, "m@x")
    assert (logged.customer, logged.direction, logged.rule_hits) == (
        CUSTOMER,
        Direction.INBOUND,
        hits,
    )
    assert (logged.explain, logged.decided_at) == ("3 in 48h", at(0))
    assert await store.decisions_for(MAILBOX, "unknown@x") == []
