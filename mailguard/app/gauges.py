"""The gauges that describe shared state: open escalations, held and deferred messages, and
how long the oldest of each has been waiting.

They are counted in the database, not in the process, so every replica reports the same
figure and a restart does not reset them. A count and a ``min()`` every ``maintenance_interval``
on the indexes ``ix_escalations_resolved_opened`` and ``ix_held_messages_state_held`` are cheap
beside the mail itself. An age is 0 when nothing waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mailguard.ops.metrics import (
    DEFERRED_MESSAGES,
    ESCALATIONS_OPEN,
    HELD_MESSAGES,
    OLDEST_DEFERRED,
    OLDEST_ESCALATION,
    OLDEST_HELD,
)
from mailguard.store.models import Escalation, HeldMessage, HeldState
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.gauges")


def _age(oldest: datetime | None, now: datetime) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (now - oldest).total_seconds())


async def update_gauges(store: SqlStore, now: datetime) -> tuple[int, int]:
    """Set the gauges from the database; returns (open escalations, held messages)."""
    open_ = Escalation.resolved_at.is_(None)
    async with store.engine.connect() as conn:
        escalations = (
            await conn.execute(select(func.count(), func.min(Escalation.opened_at)).where(open_))
        ).one()
        by_state = {
            state: (
                await conn.execute(
                    select(func.count(), func.min(HeldMessage.held_at)).where(
                        HeldMessage.state == state
                    )
                )
            ).one()
            for state in (HeldState.HELD, HeldState.DEFERRED)
        }
    held, deferred = by_state[HeldState.HELD], by_state[HeldState.DEFERRED]
    ESCALATIONS_OPEN.set(escalations[0] or 0)
    HELD_MESSAGES.set(held[0] or 0)
    DEFERRED_MESSAGES.set(deferred[0] or 0)
    OLDEST_ESCALATION.set(_age(escalations[1], now))
    OLDEST_HELD.set(_age(held[1], now))
    OLDEST_DEFERRED.set(_age(deferred[1], now))
    return int(escalations[0] or 0), int(held[0] or 0)


async def gauge_loop(
    store: SqlStore,
    stop: asyncio.Event,
    interval: timedelta,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Update the gauges until ``stop``; a database outage leaves the last figures standing
    (the database check in /readyz and the storage entry of /status report the outage)."""
    while not stop.is_set():
        try:
            await update_gauges(store, clock())
        except (SQLAlchemyError, OSError) as exc:
            log.warning("gauges_failed", error=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval.total_seconds()):
                await stop.wait()
