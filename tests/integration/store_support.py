"""Builders for the store port's write records, shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailguard.domain.model import Direction, Source
from mailguard.engine.ports import (
    CustomerRef,
    DecisionRecord,
    EventWrite,
    MessageKey,
    MessageRecord,
    OutboxAction,
    StateWrite,
    ThreadWrite,
)

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
MAILBOX = "support"
CUSTOMER = "kunde@example.org"


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def key(
    message_id: str, direction: Direction = Direction.INBOUND, mailbox: str = MAILBOX
) -> MessageKey:
    return MessageKey(mailbox=mailbox, message_id=message_id, direction=direction)


def event(
    message_id: str,
    when: datetime,
    *,
    direction: Direction = Direction.INBOUND,
    customer: str | None = CUSTOMER,
    mailbox: str = MAILBOX,
    root: str | None = None,
    refs: tuple[str, ...] = (),
    subject_key: str = "",
    automated: bool = False,
    state: dict[str, object] | None = None,
    next_due: datetime | None = None,
    actions: tuple[OutboxAction, ...] = (),
    **extra: object,
) -> EventWrite:
    """One event's write: the message, its thread (when it has a customer) and a decision."""
    k = key(message_id, direction, mailbox)
    root = root if root is not None else message_id
    thread = None
    ref = None
    if customer is not None:
        ref = CustomerRef(mailbox, customer)
        thread = ThreadWrite(mailbox, customer, root, subject_key, (message_id, *refs), when)
    states: tuple[StateWrite, ...] = ()
    if state is not None and ref is not None:
        states = (StateWrite(ref, dict(state), next_due),)
    return EventWrite(
        message=MessageRecord(
            key=k,
            source=Source.IMAP,
            customer=customer,
            thread_root=root if customer is not None else None,
            kind="auto_reply" if automated else "human",
            automated=automated,
            evidence=[{"rule": "test", "matched": message_id, "weight": 1.0}],
            frustration=0.0,
            at=when,
            size=100,
            subject=subject_key,
            sender=customer,
        ),
        decision=DecisionRecord(ref, k, [], f"processed {message_id}", when),
        thread=thread,
        states=states,
        actions=actions,
        **extra,  # type: ignore[arg-type]
    )


def action(idem: str, when: datetime = T0, kind: str = "escalate") -> OutboxAction:
    return OutboxAction(kind, CUSTOMER, idem, {"why": idem}, when)
