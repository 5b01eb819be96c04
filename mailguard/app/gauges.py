"""The gauges that describe shared state: open escalations, held and deferred messages.

They are counted in the database, not in the process, so every replica reports the same
figure and a restart does not reset them. A count every ``maintenance_interval`` (three indexed
``count(*)``: ``ix_escalations_resolved_opened``, ``ix_held_messages_state_held``) is cheap
beside the mail itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from mailguard.ops.metrics import DEFERRED_MESSAGES, ESCALATIONS_OPEN, HELD_MESSAGES
from mailguard.store.models import Escalation, HeldMessage, HeldState
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.gauges")


async def update_gauges(store: SqlStore) -> tuple[int, int]:
    """Set both gauges from the database; returns (open escalations, held messages)."""
    async with store.engine.connect() as conn:
        open_escalations = await conn.scalar(
            select(func.count()).select_from(Escalation).where(Escalation.resolved_at.is_(None))
        )
        held = await conn.scalar(
            select(func.count()).select_from(HeldMessage).where(HeldMessage.state == HeldState.HELD)
        )
        deferred = await conn.scalar(
            select(func.count())
            .select_from(HeldMessage)
            .where(HeldMessage.state == HeldState.DEFERRED)
        )
    ESCALATIONS_OPEN.set(open_escalations or 0)
    HELD_MESSAGES.set(held or 0)
    DEFERRED_MESSAGES.set(deferred or 0)
    return int(open_escalations or 0), int(held or 0)


async def gauge_loop(store: SqlStore, stop: asyncio.Event, interval: timedelta) -> None:
    """Update the gauges until ``stop``; a database outage leaves the last figures standing
    (the storage check in /healthz and /readyz reports the outage itself)."""
    while not stop.is_set():
        try:
            await update_gauges(store)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("gauges_failed", error=f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval.total_seconds()):
                await stop.wait()
