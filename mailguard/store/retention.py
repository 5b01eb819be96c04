"""Retention's writes: notices before held and failed mail goes, and the expiries themselves.

The bounds are :class:`mailguard.domain.retention.RetentionPolicy`; the daemon's maintenance
calls these every round (``mailguard.app.retention``). Each method is one transaction. On
PostgreSQL the rows it works on are locked with ``SKIP LOCKED``, so replicas running their
maintenance at the same moment share the work instead of announcing an item twice.

A notice is a ``notify`` outbox action whose payload names the ``notice`` (the executor's
notifier mails the agents); the item's ``noticed_at`` records that it was given, and an item
is removed only once its notice is ``retention.notice`` old, even when a shortened bound made
it due at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from mailguard.domain.retention import (
    FAILED_ACTION_EXPIRING,
    FAILED_MESSAGE_EXPIRING,
    HELD_EXPIRING,
    REMOVE_HELD_COPY,
    RetentionPolicy,
)
from mailguard.engine.ports import CustomerRef
from mailguard.store import tables as t
from mailguard.store.deferrals import DeferralOperations
from mailguard.store.models import HeldState, OutboxState

_ERROR_SHOWN = 300


@dataclass(frozen=True, slots=True)
class Expired:
    """What one expiry round removed: rows per kind, and the keys of dropped robot replies."""

    counts: dict[str, int]
    dropped: tuple[tuple[str, str], ...]
    """(mailbox, Message-ID) of each held or deferred reply dropped unsent."""


@dataclass(frozen=True, slots=True)
class _Notice:
    """One notice to write: the item's row, what expires, and the notification's payload."""

    table: Any
    row_id: int
    kind: str
    target: str
    payload: dict[str, Any]
    expires: datetime


def _first_line(text: str | None) -> str:
    return (str(text or "").strip().splitlines() or [""])[0][:_ERROR_SHOWN]


def _action_mailbox(payload: Any, key: str) -> str:
    mailbox = payload.get("mailbox") if isinstance(payload, dict) else None
    return str(mailbox) if mailbox else key.split(":", 1)[0]


class RetentionOperations(DeferralOperations):
    """Retention's queries; a base of :class:`~mailguard.store.repository.SqlStore`."""

    async def stale_escalations(
        self, before: datetime, limit: int = 500
    ) -> list[tuple[CustomerRef, datetime]]:
        """Customers with an escalation open since ``before`` or earlier, with when the oldest
        was opened; oldest first."""
        e, c = t.escalations.c, t.customers.c
        query = (
            select(c.mailbox, c.address, func.min(e.opened_at))
            .select_from(t.escalations.join(t.customers, e.customer_id == c.id))
            .where(e.resolved_at.is_(None), e.opened_at <= before)
            .group_by(c.mailbox, c.address)
            .order_by(func.min(e.opened_at), c.mailbox, c.address)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [(CustomerRef(str(m), str(a)), since) for m, a, since in rows]

    async def give_notices(self, bounds: RetentionPolicy, now: datetime) -> dict[str, int]:
        """Tell the agents about held mail and failed items that expire within ``notice``.

        Returns how many notices of each kind were written (``notify`` actions).
        """
        cut = bounds.cutoffs(now)
        counts = dict.fromkeys((HELD_EXPIRING, FAILED_MESSAGE_EXPIRING, FAILED_ACTION_EXPIRING), 0)
        async with self._write_transaction() as conn:
            h = t.held_messages.c
            held = await conn.execute(
                select(h.id, h.mailbox, h.message_id, h.envelope_recipients, h.held_at, h.reason)
                .where(
                    h.state == HeldState.HELD, h.held_at <= cut.held_notice, h.noticed_at.is_(None)
                )
                .order_by(h.held_at, h.id)
                .with_for_update(skip_locked=True)
            )
            for row in list(held):
                recipients = [str(r) for r in row.envelope_recipients or ()]
                expires = max(row.held_at + bounds.held, now + bounds.notice)
                payload = {
                    "mailbox": row.mailbox,
                    "held_id": row.id,
                    "customer": recipients[0] if recipients else None,
                    "recipients": recipients,
                    "message_id": row.message_id,
                    "held_at": row.held_at.isoformat(),
                    "reason": row.reason,
                }
                await self._notice(
                    conn,
                    _Notice(
                        t.held_messages, row.id, HELD_EXPIRING, row.message_id, payload, expires
                    ),
                    now,
                )
                counts[HELD_EXPIRING] += 1
            counts[FAILED_MESSAGE_EXPIRING] = await self._failed_message_notices(conn, bounds, now)
            counts[FAILED_ACTION_EXPIRING] = await self._failed_action_notices(conn, bounds, now)
        return counts

    async def _failed_message_notices(
        self, conn: AsyncConnection, bounds: RetentionPolicy, now: datetime
    ) -> int:
        f = t.failed_messages.c
        rows = await conn.execute(
            select(f.id, f.mailbox, f.message_id, f.direction, f.error, f.attempts)
            .add_columns(f.first_failed_at, f.last_failed_at)
            .where(f.last_failed_at <= bounds.cutoffs(now).failed_notice, f.noticed_at.is_(None))
            .order_by(f.last_failed_at, f.id)
            .with_for_update(skip_locked=True)
        )
        found = list(rows)
        for row in found:
            payload = {
                "mailbox": row.mailbox,
                "message_id": row.message_id,
                "direction": str(row.direction),
                "error": _first_line(row.error),
                "attempts": row.attempts,
                "first_failed_at": row.first_failed_at.isoformat(),
                "last_failed_at": row.last_failed_at.isoformat(),
            }
            expires = max(row.last_failed_at + bounds.failed, now + bounds.notice)
            await self._notice(
                conn,
                _Notice(
                    t.failed_messages,
                    row.id,
                    FAILED_MESSAGE_EXPIRING,
                    row.message_id,
                    payload,
                    expires,
                ),
                now,
            )
        return len(found)

    async def _failed_action_notices(
        self, conn: AsyncConnection, bounds: RetentionPolicy, now: datetime
    ) -> int:
        o = t.outbox_actions.c
        rows = await conn.execute(
            select(o.id, o.kind, o.target, o.idempotency_key, o.payload, o.attempts)
            .add_columns(o.last_error, o.updated_at)
            .where(
                o.state == OutboxState.FAILED,
                o.updated_at <= bounds.cutoffs(now).failed_notice,
                o.noticed_at.is_(None),
            )
            .order_by(o.updated_at, o.id)
            .with_for_update(skip_locked=True)
        )
        written = 0
        for row in list(rows):
            payload = row.payload if isinstance(row.payload, dict) else {}
            if payload.get("notice"):
                # A notice that could not be sent is not announced by another notice (that
                # would never end); it expires, and the log and `mailguard status` show it.
                await self._mark_noticed(conn, t.outbox_actions, row.id, now)
                continue
            notice = {
                "mailbox": _action_mailbox(payload, row.idempotency_key),
                "customer": payload.get("customer"),
                "action_kind": row.kind,
                "action_target": row.target,
                "error": _first_line(row.last_error),
                "attempts": row.attempts,
                "failed_at": row.updated_at.isoformat(),
            }
            expires = max(row.updated_at + bounds.failed, now + bounds.notice)
            await self._notice(
                conn,
                _Notice(
                    t.outbox_actions, row.id, FAILED_ACTION_EXPIRING, row.target, notice, expires
                ),
                now,
            )
            written += 1
        return written

    async def _mark_noticed(
        self, conn: AsyncConnection, table: Any, row_id: int, now: datetime
    ) -> bool:
        result = await conn.execute(
            update(table)
            .where(table.c.id == row_id, table.c.noticed_at.is_(None))
            .values(noticed_at=now)
        )
        return bool(result.rowcount == 1)

    async def _notice(self, conn: AsyncConnection, notice: _Notice, now: datetime) -> None:
        if not await self._mark_noticed(conn, notice.table, notice.row_id, now):
            return
        values = {
            "kind": "notify",
            "target": notice.target,
            "idempotency_key": f"retention:{notice.kind}:{notice.row_id}:{now.isoformat()}",
            "payload": {
                **notice.payload,
                "notice": notice.kind,
                "level": "primary",
                "expires_at": notice.expires.isoformat(),
            },
            "state": OutboxState.PENDING,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        await conn.execute(
            self._insert(conn, t.outbox_actions)
            .values(values)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )

    async def expire(self, bounds: RetentionPolicy, now: datetime) -> Expired:
        """Remove what is past its bound (see :mod:`mailguard.domain.retention`).

        Held replies waiting past ``held`` (and noticed ``notice`` before) and deferred ones
        past ``deferred`` are deleted unsent, and a ``remove_held_copy`` action takes the held
        one's copy out of the mailbox's held folder; settled held mail goes ``held`` after it
        was settled; failed messages and failed actions ``failed`` after they last failed
        (noticed before). Actions still pending after ``history`` were never performed:
        they are given up, and announced and expired like any failed action.
        """
        cut = bounds.cutoffs(now)
        h, f, o = t.held_messages.c, t.failed_messages.c, t.outbox_actions.c
        waiting = and_(
            h.state == HeldState.HELD, h.held_at <= cut.held, h.noticed_at <= cut.noticed
        )
        deferred = and_(h.state == HeldState.DEFERRED, h.held_at <= cut.deferred)
        settled = and_(
            h.state.in_((HeldState.RELEASED, HeldState.DISCARDED)), h.updated_at <= cut.held
        )
        counts: dict[str, int] = {}
        async with self._write_transaction() as conn:
            dropped = await self._drop_held(conn, waiting, now)
            counts["held"] = len(dropped)
            more = await self._drop_held(conn, deferred, None)
            counts["deferred"] = len(more)
            counts["settled_held"] = await self._delete(conn, t.held_messages, settled)
            counts["failed_messages"] = await self._delete(
                conn,
                t.failed_messages,
                and_(f.last_failed_at <= cut.failed, f.noticed_at <= cut.noticed),
            )
            counts["failed_actions"] = await self._delete(
                conn,
                t.outbox_actions,
                and_(
                    o.state == OutboxState.FAILED,
                    o.updated_at <= cut.failed,
                    o.noticed_at <= cut.noticed,
                ),
            )
            given_up = await conn.execute(
                update(t.outbox_actions)
                .where(o.state == OutboxState.PENDING, o.created_at <= cut.history)
                .values(
                    state=OutboxState.FAILED,
                    last_error=f"expired: not performed within {bounds.history.days} days "
                    "(retention.history)",
                    updated_at=now,
                )
            )
            counts["pending_actions_given_up"] = max(given_up.rowcount, 0)
        return Expired(counts, tuple(dropped + more))

    async def _drop_held(
        self, conn: AsyncConnection, where: Any, queue_copy_removal: datetime | None
    ) -> list[tuple[str, str]]:
        """Delete the held rows ``where`` says; with ``queue_copy_removal`` (now) a
        ``remove_held_copy`` action for each, as its copy may be in the held folder."""
        h = t.held_messages.c
        rows = list(
            await conn.execute(
                select(h.id, h.mailbox, h.message_id).where(where).with_for_update(skip_locked=True)
            )
        )
        await self._delete_ids(conn, t.held_messages, [row.id for row in rows])
        if queue_copy_removal is not None:
            for row in rows:
                await conn.execute(
                    self._insert(conn, t.outbox_actions)
                    .values(
                        kind=REMOVE_HELD_COPY,
                        target=row.message_id,
                        idempotency_key=f"retention:{REMOVE_HELD_COPY}:{row.id}:"
                        f"{queue_copy_removal.isoformat()}",
                        payload={"mailbox": row.mailbox, "message_id": row.message_id},
                        state=OutboxState.PENDING,
                        attempts=0,
                        created_at=queue_copy_removal,
                        updated_at=queue_copy_removal,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                )
        return [(str(row.mailbox), str(row.message_id)) for row in rows]

    async def _delete(self, conn: AsyncConnection, table: Any, where: Any) -> int:
        query = select(table.c.id).where(where).with_for_update(skip_locked=True)
        ids = [row[0] for row in await conn.execute(query)]
        return await self._delete_ids(conn, table, ids)

    async def _delete_ids(self, conn: AsyncConnection, table: Any, ids: Sequence[int]) -> int:
        # The rows deleted, not the ids given: a replica's round may have taken some first.
        removed = 0
        for start in range(0, len(ids), 500):
            result = await conn.execute(
                delete(table).where(table.c.id.in_(ids[start : start + 500]))
            )
            removed += max(result.rowcount, 0)
        return removed
