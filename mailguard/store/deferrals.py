"""The proxy's deferred replies: which are due, claiming one, and moving it on.

A deferred reply is a ``held_messages`` row in state ``deferred`` (stored by the engine's
unit of work, :meth:`mailguard.store.work.Work.defer`). The deferral worker of every replica
asks :meth:`DeferralOperations.deferred_due` for the rows whose awaited message was recorded
or whose time is up, claims each (:meth:`claim_deferred`, a conditional update: of two
replicas exactly one gets it), has the engine decide it, and moves it on with
:meth:`move_held`, again conditional on the state it expects, so a reply is relayed at most
once even when claims overlap.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, or_, select, update

from mailguard.store import tables as t
from mailguard.store.models import HeldState
from mailguard.store.operations import StoreOperations, held_of
from mailguard.store.records import DeferredMail


class DeferralOperations(StoreOperations):
    """The deferral worker's queries; a base of :class:`~mailguard.store.repository.SqlStore`."""

    async def deferred_due(self, now: datetime, limit: int = 50) -> list[DeferredMail]:
        """Unclaimed deferred replies whose awaited message was recorded in their mailbox
        (or recorded as failed there), or whose ``decide_by`` has passed; oldest first."""
        h, m, f = t.held_messages.c, t.messages.c, t.failed_messages.c
        seen = or_(
            exists().where(m.mailbox == h.mailbox, m.message_id == h.awaits),
            exists().where(f.mailbox == h.mailbox, f.message_id == h.awaits),
        )
        query = (
            select(t.held_messages, seen.label("seen"))
            .where(
                h.state == HeldState.DEFERRED,
                or_(h.claimed_until.is_(None), h.claimed_until <= now),
                or_(seen, h.decide_by <= now),
            )
            .order_by(h.held_at, h.id)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [DeferredMail(held_of(row), bool(row.seen)) for row in rows]

    async def claim_deferred(self, held_id: int, now: datetime, until: datetime) -> bool:
        """Claim a deferred reply for deciding until ``until``; False if it is claimed by
        someone else (and the claim has not expired) or no longer deferred."""
        h = t.held_messages.c
        async with self._write_transaction() as conn:
            result = await conn.execute(
                update(t.held_messages)
                .where(
                    h.id == held_id,
                    h.state == HeldState.DEFERRED,
                    or_(h.claimed_until.is_(None), h.claimed_until <= now),
                )
                .values(claimed_until=until, updated_at=now)
            )
        return result.rowcount == 1

    async def move_held(
        self,
        held_id: int,
        from_state: HeldState,
        to_state: HeldState,
        now: datetime,
        *,
        reason: str | None = None,
        claimed_until: datetime | None = None,
    ) -> bool:
        """Move the row from ``from_state`` to ``to_state`` (optionally with a new reason and
        claim); False if it was not in ``from_state`` (another replica or a person was
        first)."""
        h = t.held_messages.c
        values: dict[str, object] = {
            "state": to_state,
            "updated_at": now,
            "claimed_until": claimed_until,
        }
        if reason is not None:
            values["reason"] = reason
        async with self._write_transaction() as conn:
            result = await conn.execute(
                update(t.held_messages)
                .where(and_(h.id == held_id, h.state == from_state))
                .values(values)
            )
        return result.rowcount == 1
