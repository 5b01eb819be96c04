"""Retention in the daemon: every maintenance round applies the bounds of ``retention:``.

In this order: escalations open longer than ``retention.escalations`` are closed as stale
(through the store's unit of work, like an agent's "handled": the escalation rows, the
customer's policy state and a ``resolve`` and a ``notify`` action in one transaction); the
agents are told about held and failed items that expire within ``retention.notice``; what is
past its bound is removed; and the history older than ``retention.history`` is purged.
Everything is logged with counts (and, for dropped robot replies, their Message-IDs) and
counted in ``mailguard_retention_*`` metrics. The rules are in
:mod:`mailguard.domain.retention`, the queries in :mod:`mailguard.store.retention`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from prometheus_client import Counter

from mailguard.domain.policy import Policy
from mailguard.domain.retention import RetentionPolicy, decide_stale
from mailguard.domain.state import CustomerState
from mailguard.engine.ports import CustomerRef, UnitOfWork
from mailguard.engine.writes import tick_write
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.retention")

REMOVED = Counter(
    "mailguard_retention_removed",
    "Items removed by retention, by kind (held, deferred, settled_held, failed_messages, "
    "failed_actions) and escalations closed as stale (stale_escalations)",
    ["kind"],
)
NOTICES = Counter(
    "mailguard_retention_notices",
    "Notices to the agents that held or failed items expire soon, by kind",
    ["kind"],
)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one round did."""

    stale_closed: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    purged: dict[str, int] = field(default_factory=dict)


class Retention:
    """Applies the retention bounds to one store (see the module docstring)."""

    def __init__(self, store: SqlStore, policy: Policy, bounds: RetentionPolicy) -> None:
        self._store = store
        self._policy = policy
        self._bounds = bounds

    async def run_once(self, now: datetime) -> RetentionReport:
        """One round at ``now``."""
        closed = await self.close_stale(now)
        notices = await self._store.give_notices(self._bounds, now)
        for kind, n in notices.items():
            NOTICES.labels(kind).inc(n)
        if any(notices.values()):
            log.info("retention_noticed", **{k: n for k, n in notices.items() if n})
        expired = await self._store.expire(self._bounds, now)
        for mailbox, message_id in expired.dropped:
            # Never sent: a robot's answer weeks late helps nobody (the agents were told).
            log.warning("held_reply_expired", mailbox=mailbox, message_id=message_id)
        for kind, n in expired.counts.items():
            REMOVED.labels(kind).inc(n)
        if any(expired.counts.values()):
            log.info("retention_expired", **{k: n for k, n in expired.counts.items() if n})
        purged = await self._store.purge_older_than(now - self._bounds.history)
        return RetentionReport(closed, notices, expired.counts, purged)

    async def close_stale(self, now: datetime) -> int:
        """Close every escalation open longer than ``retention.escalations``; how many."""
        closed = 0
        for ref, since in await self._store.stale_escalations(now - self._bounds.escalations):
            work = functools.partial(self._close, ref=ref, since=since, now=now)
            if await self._store.transact(work):
                closed += 1
                REMOVED.labels("stale_escalations").inc()
                log.info(
                    "escalation_closed_stale",
                    mailbox=ref.mailbox,
                    customer=ref.address,
                    opened_at=since.isoformat(),
                )
        return closed

    async def _close(
        self, uow: UnitOfWork, *, ref: CustomerRef, since: datetime, now: datetime
    ) -> bool:
        locked = await uow.lock_customers(ref.address, (ref.mailbox,), now)
        state = CustomerState.from_dict(locked.states.get(ref.mailbox))
        decision = decide_stale(state, now, ref.mailbox, self._bounds.escalations, since)
        if decision is None:
            return False
        prefix = f"stale:{ref.mailbox}:{ref.address}:{now.isoformat()}"
        await uow.apply(tick_write(ref, decision, self._policy, now, prefix=prefix))
        return True
