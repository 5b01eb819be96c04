"""How many items of each kind of stored data there are, and how old the oldest one is.

``mailguard status`` prints a line per kind beside its retention bound (docs/privacy.md);
the gauges of the oldest held mail, deferred reply and open escalation read the same query
(:func:`oldest_items` with ``kinds``). Each kind is a ``count(*)`` and a ``min()`` over the
column its age is measured by: the indexed ones (held mail by state and time, open
escalations, messages, decisions, the outbox by state) are cheap enough for a gauge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from mailguard.store import tables as t
from mailguard.store.models import HeldState, OutboxState


@dataclass(frozen=True, slots=True)
class KindAge:
    """One kind of stored data: how many there are and the oldest one's time."""

    kind: str
    what: str
    count: int
    oldest: datetime | None


@dataclass(frozen=True, slots=True)
class _Kind:
    what: str
    table: Table
    column: str
    where: tuple[Any, ...]


_H, _E, _O = t.held_messages.c, t.escalations.c, t.outbox_actions.c
KINDS: dict[str, _Kind] = {
    "held": _Kind(
        "held robot replies waiting for a person",
        t.held_messages,
        "held_at",
        (_H.state == HeldState.HELD,),
    ),
    "deferred": _Kind(
        "deferred robot replies",
        t.held_messages,
        "held_at",
        (_H.state == HeldState.DEFERRED,),
    ),
    "settled_held": _Kind(
        "held mail released or dropped",
        t.held_messages,
        "updated_at",
        (_H.state.in_((HeldState.RELEASED, HeldState.DISCARDED)),),
    ),
    "open_escalations": _Kind(
        "open escalations", t.escalations, "opened_at", (_E.resolved_at.is_(None),)
    ),
    "failed_messages": _Kind("failed messages", t.failed_messages, "last_failed_at", ()),
    "failed_actions": _Kind(
        "failed actions", t.outbox_actions, "updated_at", (_O.state == OutboxState.FAILED,)
    ),
    "pending_actions": _Kind(
        "pending actions", t.outbox_actions, "created_at", (_O.state == OutboxState.PENDING,)
    ),
    "messages": _Kind("messages", t.messages, "sent_at", ()),
    "decisions": _Kind("decisions", t.decisions, "decided_at", ()),
    "resolved_escalations": _Kind(
        "resolved escalations", t.escalations, "resolved_at", (_E.resolved_at.is_not(None),)
    ),
    "done_actions": _Kind(
        "done actions", t.outbox_actions, "updated_at", (_O.state == OutboxState.DONE,)
    ),
    "threads": _Kind("threads (by last activity)", t.threads, "last_activity_at", ()),
    "customers": _Kind("customers (by last seen)", t.customers, "last_seen_at", ()),
}
"""Every kind, in the order ``mailguard status`` shows them."""


async def oldest_items(
    engine: AsyncEngine, kinds: Iterable[str] | None = None
) -> dict[str, KindAge]:
    """Count and oldest time of each of ``kinds`` (default: all of :data:`KINDS`)."""
    wanted = list(KINDS) if kinds is None else list(kinds)
    unknown = sorted(set(wanted) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kinds {unknown}; known: {', '.join(KINDS)}")
    found: dict[str, KindAge] = {}
    async with engine.connect() as conn:
        for name in wanted:
            kind = KINDS[name]
            column = kind.table.c[kind.column]
            row = (
                await conn.execute(
                    select(func.count(), func.min(column))
                    .select_from(kind.table)
                    .where(*kind.where)
                )
            ).one()
            # min() keeps the column's type: UTCDateTime hands back aware UTC on both backends.
            found[name] = KindAge(name, kind.what, int(row[0]), row[1])
    return found
