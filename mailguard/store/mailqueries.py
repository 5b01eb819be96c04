"""Read queries the outbox executor needs to act in a mailbox.

The executor files a customer's thread into the escalation folder and writes a note for the
agent beside it: for that it needs the thread's messages (which Message-IDs are the
customer's, and the timeline of who wrote what when), the escalation's rule and evidence,
and, for a held outbound reply, the held raw bytes. Read-only, no locks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from mailguard.domain.model import Direction
from mailguard.store import tables as t
from mailguard.store.models import OutboxState
from mailguard.store.records import PendingAction


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One message of a customer's thread, as the note's timeline shows it."""

    message_id: str
    direction: Direction
    kind: str
    automated: bool
    sender: str | None
    subject: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EscalationInfo:
    """Why a customer's thread was escalated."""

    rule: str
    reason: str
    evidence: list[dict[str, Any]]
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class HeldCopy:
    """The raw bytes of a held message, its row id and whether it is still held."""

    id: int
    mailbox: str
    message_id: str
    raw: bytes
    state: str


class MailQueries:
    """The executor's reads on one database engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def pending_of_kinds(self, kinds: Sequence[str], limit: int) -> list[PendingAction]:
        """Pending outbox actions of the given kinds, oldest first.

        The executor asks only for kinds it has a handler for, so actions of a kind nobody
        performs yet (e.g. ``notify`` before a notifier exists) stay pending and visible
        without crowding out the others.
        """
        c = t.outbox_actions.c
        query = (
            select(
                c.id,
                c.kind,
                c.target,
                c.idempotency_key,
                c.payload,
                c.attempts,
                c.last_error,
                c.created_at,
            )
            .where(c.state == OutboxState.PENDING, c.kind.in_(list(kinds)))
            .order_by(c.created_at, c.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [PendingAction(*row) for row in await conn.execute(query)]

    async def count_pending(self) -> dict[str, int]:
        """Pending outbox actions per kind."""
        c = t.outbox_actions.c
        query = select(c.kind, func.count()).where(c.state == OutboxState.PENDING).group_by(c.kind)
        async with self._engine.connect() as conn:
            return {str(kind): int(n) for kind, n in await conn.execute(query)}

    async def thread_messages(
        self, mailbox: str, customer: str, thread_root: str
    ) -> list[ThreadMessage]:
        """Every recorded message of the customer's thread, oldest first."""
        m, th, c = t.messages.c, t.threads.c, t.customers.c
        query = (
            select(m.message_id, m.direction, m.kind, m.automated, m.sender, m.subject, m.sent_at)
            .select_from(
                t.messages.join(t.threads, m.thread_id == th.id).join(
                    t.customers, th.customer_id == c.id
                )
            )
            .where(c.mailbox == mailbox, c.address == customer, th.root_message_id == thread_root)
            .order_by(m.sent_at, m.id)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [ThreadMessage(*row) for row in rows]

    async def escalation(
        self, mailbox: str, customer: str, thread_root: str | None
    ) -> EscalationInfo | None:
        """The customer's latest escalation (of ``thread_root`` when it has one)."""
        e, th, c = t.escalations.c, t.threads.c, t.customers.c
        query = (
            select(e.rule, e.reason, e.evidence, e.opened_at, e.resolved_at)
            .select_from(
                t.escalations.join(t.customers, e.customer_id == c.id).outerjoin(
                    t.threads, e.thread_id == th.id
                )
            )
            .where(c.mailbox == mailbox, c.address == customer)
            .order_by(e.opened_at.desc(), e.id.desc())
            .limit(1)
        )
        if thread_root is not None:
            query = query.where(th.root_message_id == thread_root)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else EscalationInfo(*row)

    async def escalation_context(
        self, mailbox: str, customer: str
    ) -> tuple[str | None, str | None]:
        """The thread root of the customer's latest escalation and the language it was in.

        A notification names neither (an SLA breach is a tick, not a message): the thread
        comes from the escalation, the language from the ``escalate`` action that opened it
        (the engine records the language of the message that escalated there).
        """
        e, th, c = t.escalations.c, t.threads.c, t.customers.c
        o = t.outbox_actions.c
        root_query = (
            select(th.root_message_id)
            .select_from(
                t.escalations.join(t.customers, e.customer_id == c.id).outerjoin(
                    t.threads, e.thread_id == th.id
                )
            )
            .where(c.mailbox == mailbox, c.address == customer)
            .order_by(e.opened_at.desc(), e.id.desc())
            .limit(1)
        )
        actions_query = (
            select(o.payload)
            .where(o.kind == "escalate", o.target == customer)
            .order_by(o.id.desc())
            .limit(20)
        )
        async with self._engine.connect() as conn:
            root = await conn.scalar(root_query)
            payloads = (await conn.execute(actions_query)).scalars().all()
        language = next(
            (
                str(p["language"])
                for p in payloads
                if isinstance(p, dict) and p.get("mailbox") == mailbox and p.get("language")
            ),
            None,
        )
        return (str(root) if root else None), language

    async def held_copy(self, mailbox: str, message_id: str) -> HeldCopy | None:
        """The held outbound message with this Message-ID in this mailbox, in any state."""
        h = t.held_messages.c
        query = (
            select(h.id, h.mailbox, h.message_id, h.raw, h.state)
            .where(
                h.mailbox == mailbox,
                h.message_id == message_id,
                h.direction == Direction.OUTBOUND,
            )
            .order_by(h.id.desc())
            .limit(1)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return HeldCopy(int(row[0]), row[1], row[2], bytes(row[3]), str(row[4]))
