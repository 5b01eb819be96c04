"""Read-only views for operators and agents: ``mailguard status``, ``threads``, ``resolve``.

Everything here only reads; the one change an operator makes (resolving an escalation)
goes through the engine, so the customer's policy state is reset like for any other
resolution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from mailguard.domain.model import Direction
from mailguard.store import tables as t
from mailguard.store.models import HeldState, OutboxState
from mailguard.store.records import Checkpoint

JsonList = list[Any]


@dataclass(frozen=True, slots=True)
class EscalationView:
    """One escalation with its customer, as an agent wants to see it."""

    id: int
    mailbox: str
    customer: str
    rule: str
    reason: str
    evidence: JsonList
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    notify_level: str
    last_notified_at: datetime | None
    linked_escalation_id: int | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One message of a customer's conversation."""

    at: datetime
    mailbox: str
    direction: Direction
    kind: str
    automated: bool
    sender: str | None
    subject: str
    message_id: str
    frustration: float


@dataclass(frozen=True, slots=True)
class DecisionEntry:
    """One logged decision that hit at least one rule."""

    at: datetime
    mailbox: str | None
    message_id: str | None
    rule_hits: JsonList
    explain: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    """A customer's timeline, decisions and escalations in one guarded mailbox."""

    mailbox: str
    address: str
    state: str
    messages: tuple[TimelineEntry, ...]
    decisions: tuple[DecisionEntry, ...]
    escalations: tuple[EscalationView, ...]


@dataclass(frozen=True, slots=True)
class StatusView:
    """What ``mailguard status`` shows from the database."""

    open_escalations: tuple[EscalationView, ...]
    held: int
    deferred: int
    outbox: dict[str, int]
    failed_actions: tuple[tuple[str, str, int, str | None], ...]
    checkpoints: tuple[Checkpoint, ...]
    server_limits: tuple[tuple[str, str, str], ...] = ()
    """(mailbox, feature, what it means) of what the mailboxes' servers lack."""


def _escalation_query() -> Any:
    e, c = t.escalations.c, t.customers.c
    return select(
        e.id,
        c.mailbox,
        c.address,
        e.rule,
        e.reason,
        e.evidence,
        e.opened_at,
        e.resolved_at,
        e.resolved_by,
        e.notify_level,
        e.last_notified_at,
        e.linked_escalation_id,
    ).select_from(t.escalations.join(t.customers, e.customer_id == c.id))


class Overview:
    """The operators' read-only queries on one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def status(self, limit: int = 50) -> StatusView:
        """Open escalations (oldest first), held mail, the outbox and the sync checkpoints."""
        e = t.escalations.c
        o = t.outbox_actions.c
        h = t.held_messages.c
        s = t.sync_checkpoints.c
        async with self._engine.connect() as conn:
            opened = await conn.execute(
                _escalation_query()
                .where(e.resolved_at.is_(None))
                .order_by(e.opened_at, e.id)
                .limit(limit)
            )
            by_state: dict[str, int] = dict(
                (
                    await conn.execute(
                        select(h.state, func.count())
                        .where(h.state.in_((HeldState.HELD, HeldState.DEFERRED)))
                        .group_by(h.state)
                    )
                ).all()
            )
            outbox = await conn.execute(
                select(o.state, func.count()).group_by(o.state).order_by(o.state)
            )
            failed = await conn.execute(
                select(o.kind, o.target, o.attempts, o.last_error)
                .where(o.state != OutboxState.DONE, o.attempts > 0)
                .order_by(o.updated_at.desc(), o.id.desc())
                .limit(limit)
            )
            checkpoints = await conn.execute(
                select(
                    s.mailbox, s.folder, s.uidvalidity, s.last_uid, s.highestmodseq, s.updated_at
                ).order_by(s.mailbox, s.folder)
            )
            limits = await conn.execute(
                select(
                    t.server_limits.c.mailbox, t.server_limits.c.feature, t.server_limits.c.detail
                ).order_by(t.server_limits.c.mailbox, t.server_limits.c.feature)
            )
            return StatusView(
                open_escalations=tuple(EscalationView(*row) for row in opened),
                held=int(by_state.get(HeldState.HELD, 0)),
                deferred=int(by_state.get(HeldState.DEFERRED, 0)),
                outbox={str(state): int(n) for state, n in outbox},
                failed_actions=tuple((k, tg, int(n), err) for k, tg, n, err in failed),
                checkpoints=tuple(Checkpoint(*row) for row in checkpoints),
                server_limits=tuple((str(m), str(f), str(d)) for m, f, d in limits),
            )

    async def escalation(self, escalation_id: int) -> EscalationView | None:
        """One escalation by id, open or resolved."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(_escalation_query().where(t.escalations.c.id == escalation_id))
            ).first()
            return EscalationView(*row) if row is not None else None

    async def customers(self, address: str | None = None, limit: int = 20) -> list[CustomerView]:
        """Customers with their timelines: one address (in every mailbox), or the most
        recently active ``limit`` customers."""
        c = t.customers.c
        async with self._engine.connect() as conn:
            found: list[Any]
            if address is not None:
                rows = await conn.execute(
                    select(c.id, c.mailbox, c.address, c.state)
                    .where(c.address == address.strip().lower())
                    .order_by(c.mailbox)
                )
                found = list(rows)
            else:
                recent = await _recently_active(conn, limit)
                rows = await conn.execute(
                    select(c.id, c.mailbox, c.address, c.state).where(c.id.in_(list(recent)))
                )
                by_id = {row[0]: row for row in rows}
                found = [by_id[customer] for customer in recent if customer in by_id]
            views = []
            for customer_id, mailbox, addr, state in found:
                views.append(await self._customer(conn, customer_id, mailbox, addr, state))
            return views

    async def _customer(
        self, conn: Any, customer_id: int, mailbox: str, address: str, state: str
    ) -> CustomerView:
        m, d, e = t.messages.c, t.decisions.c, t.escalations.c
        messages = await conn.execute(
            select(
                m.sent_at,
                m.mailbox,
                m.direction,
                m.kind,
                m.automated,
                m.sender,
                m.subject,
                m.message_id,
                m.frustration,
            )
            .where(m.customer_id == customer_id)
            .order_by(m.sent_at, m.id)
        )
        decisions = await conn.execute(
            select(d.decided_at, d.mailbox, d.message_id, d.rule_hits, d.explain)
            .where(d.customer_id == customer_id)
            .order_by(d.decided_at, d.id)
        )
        escalations = await conn.execute(
            _escalation_query().where(e.customer_id == customer_id).order_by(e.opened_at, e.id)
        )
        return CustomerView(
            mailbox=mailbox,
            address=address,
            state=state,
            messages=tuple(TimelineEntry(*row) for row in messages),
            decisions=tuple(DecisionEntry(*row) for row in decisions if row.rule_hits),
            escalations=tuple(EscalationView(*row) for row in escalations),
        )


async def _recently_active(conn: Any, limit: int, page: int = 500) -> list[int]:
    """The ``limit`` customers with the latest messages, latest first (ties: lower id).

    Walks the messages newest first along their ``sent_at`` index, a page at a time, until
    no later page can change the answer; aggregating every message per customer first
    scanned the whole table (1.2 s at a million messages, bench/scale_bench.py).
    """
    m = t.messages.c
    last: dict[int, datetime] = {}
    after: tuple[datetime, int] | None = None
    while True:
        query = (
            select(m.customer_id, m.sent_at, m.id)
            .where(m.customer_id.is_not(None))
            .order_by(m.sent_at.desc(), m.id.desc())
            .limit(page)
        )
        if after is not None:
            query = query.where(tuple_(m.sent_at, m.id) < tuple_(*after))
        rows = (await conn.execute(query)).all()
        for customer, sent_at, _ in rows:
            last.setdefault(customer, sent_at)
        ranked = sorted(last.items(), key=lambda item: (-item[1].timestamp(), item[0]))
        # Done when the table is exhausted, or when the limit-th customer's last message is
        # newer than anything a later page holds (ties with it may still follow).
        if len(rows) < page or (len(ranked) >= limit and ranked[limit - 1][1] > rows[-1][1]):
            return [customer for customer, _ in ranked[:limit]]
        after = (rows[-1][1], rows[-1][2])
