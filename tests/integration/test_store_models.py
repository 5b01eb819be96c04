"""Every model round-trips on SQLite and PostgreSQL; constraints hold on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from mailguard.domain.model import Direction, Source
from mailguard.store import schema
from mailguard.store.engine import create_engine, session_factory
from mailguard.store.models import (
    Base,
    Customer,
    DecisionRecord,
    Escalation,
    FailedMessage,
    HeldMessage,
    HeldState,
    Message,
    OutboxAction,
    OutboxState,
    SyncCheckpoint,
    Thread,
    ThreadMessageId,
)

# An aware time that is not UTC: it must come back as the same instant, in UTC.
CEST = timezone(timedelta(hours=2))
T0 = datetime(2026, 3, 29, 3, 30, tzinfo=CEST)
T1 = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
async def session(db_url: str) -> AsyncIterator[AsyncSession]:
    await schema.upgrade(db_url)
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def _columns(obj: Base) -> dict[str, object]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


async def _round_trip(session: AsyncSession, obj: Base) -> None:
    session.add(obj)
    await session.commit()
    expected = _columns(obj)
    session.expunge_all()
    loaded = await session.get(type(obj), obj.__mapper__.primary_key_from_instance(obj))
    assert loaded is not None
    assert _columns(loaded) == expected
    for value in _columns(loaded).values():
        if isinstance(value, datetime):
            assert value.utcoffset() == timedelta(0), "datetimes come back as aware UTC"


async def test_every_model_round_trips(session: AsyncSession) -> None:
    customer = Customer(
        mailbox="support",
        address="kunde@example.org",
        state="escalated",
        human_in=3,
        automated_in=0,
        human_out=1,
        automated_out=4,
        escalations=1,
        policy_state={"streak": [1, 2], "nested": {"ok": True, "x": None}},
        next_due=T1,
        first_seen_at=T0,
        last_seen_at=T1,
    )
    await _round_trip(session, customer)
    thread = Thread(
        customer_id=customer.id,
        root_message_id="root@example.org",
        subject_key="gutschein",
        created_at=T0,
        last_activity_at=T1,
    )
    await _round_trip(session, thread)
    await _round_trip(
        session,
        ThreadMessageId(customer_id=customer.id, message_id="a@example.org", thread_id=thread.id),
    )
    message = Message(
        mailbox="support",
        message_id="a@example.org",
        direction=Direction.INBOUND,
        source=Source.IMAP,
        customer_id=customer.id,
        thread_id=thread.id,
        kind="human",
        automated=False,
        evidence=[{"rule": "no_auto_headers", "matched": "", "weight": 1.0}],
        frustration=0.75,
        sender="kunde@example.org",
        subject="Gutschein ungültig – schon wieder!",
        sent_at=T0,
        size=4096,
    )
    await _round_trip(session, message)
    first = Escalation(
        customer_id=customer.id,
        thread_id=thread.id,
        rule="referral_ring",
        reason="bounced between shop and partner",
        evidence=[{"rule": "names_other_address", "matched": "partner@example.net"}],
        opened_at=T0,
        link_key="ring-1",
        notify_level="primary",
    )
    await _round_trip(session, first)
    await _round_trip(
        session,
        Escalation(
            customer_id=customer.id,
            thread_id=None,
            rule="referral_ring",
            reason="",
            evidence=[],
            opened_at=T0,
            resolved_at=T1,
            resolved_by="human_reply:b@example.com",
            link_key="ring-1",
            linked_escalation_id=first.id,
            notify_level="secondary",
            last_notified_at=T1,
        ),
    )
    await _round_trip(
        session,
        OutboxAction(
            kind="escalate",
            target="kunde@example.org",
            idempotency_key="escalate:support:a@example.org",
            payload={"folder": "Eskalation", "uids": [1, 2]},
            state=OutboxState.FAILED,
            attempts=3,
            last_error="IMAP NO [TRYCREATE]",
            created_at=T0,
            updated_at=T1,
        ),
    )
    await _round_trip(
        session,
        HeldMessage(
            mailbox="support",
            message_id="c@example.com",
            direction=Direction.OUTBOUND,
            raw=bytes(range(256)) * 4,
            envelope_sender="",
            envelope_recipients=["kunde@example.org"],
            mail_options=["BODY=8BITMIME", "SMTPUTF8"],
            rcpt_options=[],
            reason="bot_ping_pong",
            state=HeldState.RELEASED,
            held_at=T0,
            updated_at=T1,
        ),
    )
    await _round_trip(
        session,
        FailedMessage(
            mailbox="support",
            message_id="d@example.org",
            direction=Direction.INBOUND,
            source=Source.SMTP,
            raw=b"\x00\xffbroken",
            error="UnicodeDecodeError: ...",
            attempts=2,
            first_failed_at=T0,
            last_failed_at=T1,
        ),
    )
    await _round_trip(
        session,
        DecisionRecord(
            mailbox="support",
            customer_id=customer.id,
            message_id="a@example.org",
            direction=Direction.INBOUND,
            rule_hits=[{"rule": "frustration", "evidence": [], "detail": "score 0.75"}],
            explain="frustration 0.75 >= 0.6: escalate",
            decided_at=T1,
        ),
    )
    await _round_trip(
        session,
        SyncCheckpoint(
            mailbox="support",
            folder="INBOX",
            uidvalidity=4_294_967_295,
            last_uid=4_294_967_290,
            highestmodseq=2**62,
            updated_at=T1,
        ),
    )


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    session.add(
        SyncCheckpoint(
            mailbox="m", folder="INBOX", uidvalidity=1, last_uid=1, updated_at=datetime(2026, 1, 1)
        )
    )
    with pytest.raises(StatementError, match="naive datetime"):
        await session.commit()


async def test_one_message_per_mailbox_id_and_direction(session: AsyncSession) -> None:
    def message(direction: Direction, mailbox: str = "support") -> Message:
        return Message(
            mailbox=mailbox,
            message_id="same@example.org",
            direction=direction,
            source=Source.SMTP,
            kind="auto_reply",
            automated=True,
            evidence=[],
            sent_at=T1,
        )

    session.add_all(
        [message(Direction.INBOUND), message(Direction.OUTBOUND), message(Direction.INBOUND, "b")]
    )
    await session.commit()
    session.add(message(Direction.INBOUND))
    with pytest.raises(IntegrityError):
        await session.commit()


async def test_check_constraints_reject_unknown_enum_values(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError):
        await session.execute(
            text(
                "INSERT INTO outbox_actions (kind, target, idempotency_key, payload, state,"
                " attempts, created_at, updated_at) VALUES ('notify', 't', 'k', '{}', 'lost',"
                " 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )


async def test_deleting_a_customer_cascades_to_its_threads(session: AsyncSession) -> None:
    customer = Customer(mailbox="m", address="a@example.org", first_seen_at=T0, last_seen_at=T0)
    session.add(customer)
    await session.flush()
    thread = Thread(
        customer_id=customer.id, root_message_id="r", created_at=T0, last_activity_at=T0
    )
    session.add(thread)
    await session.flush()
    session.add(ThreadMessageId(customer_id=customer.id, message_id="r", thread_id=thread.id))
    await session.commit()
    await session.execute(text("DELETE FROM customers"))
    await session.commit()
    for model in (Thread, ThreadMessageId):
        assert await session.scalar(select(func.count()).select_from(model)) == 0
