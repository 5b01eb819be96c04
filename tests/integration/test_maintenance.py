"""The daemon's time-driven work: SLA re-notification and retention, through the real store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy.exc import OperationalError

from mailguard.app.daemon import Maintenance
from mailguard.domain.model import Source
from mailguard.domain.policy import Policy
from mailguard.domain.retention import RetentionPolicy
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import build_engine, mail, migrated_store, rows

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BOUNDS = RetentionPolicy(escalations=timedelta(days=365))

ANGRY = mail(
    sender="kunde@example.org",
    to="support@example.com",
    subject="Beschwerde",
    at=T0,
    message_id="angry-1@example.org",
    body="Ich schreibe jetzt zum dritten Mal! Das ist eine Frechheit, ich kündige sofort "
    "und gehe zum Anwalt.\n",
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _notify_levels(store: SqlStore) -> list[str]:
    return [r.payload["level"] for r in await rows(store, t.outbox_actions) if r.kind == "notify"]


async def test_sla_deadlines_renotify_then_reach_the_secondary(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        await engine.process(ANGRY, mailbox="support", source=Source.IMAP, now=T0)
        clock = Clock(T0 + timedelta(hours=7))
        maintenance = Maintenance(engine, store, BOUNDS, clock, policy=Policy())
        assert await maintenance.run_once() == 0
        clock.now = T0 + timedelta(hours=8, minutes=1)
        assert await maintenance.run_once() == 1
        assert await maintenance.run_once() == 0
        clock.now = T0 + timedelta(hours=16, minutes=2)
        assert await maintenance.run_once() == 1
        assert await _notify_levels(store) == ["primary", "primary", "secondary"]


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT", {}, Exception("database is locked")),
        # A driver error outside SQLAlchemy's wrapping (asyncpg: a dropped database's
        # connection "is closed"): it ended the loop and left /healthz's storage "ok".
        asyncpg.InterfaceError("connection is closed"),
        RuntimeError("unexpected"),
    ],
    ids=["sqlalchemy", "driver", "other"],
)
async def test_loop_survives_database_trouble_and_reports_it(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    async with migrated_store(sqlite_url) as store:
        engine = build_engine(store)
        maintenance = Maintenance(engine, store, BOUNDS, Clock(T0), policy=Policy())
        calls = 0

        async def broken(now: datetime, limit: int = 500) -> list[object]:
            nonlocal calls
            calls += 1
            raise error

        monkeypatch.setattr(store, "due_for_tick", broken)
        stop = asyncio.Event()
        task = asyncio.create_task(maintenance.loop(timedelta(seconds=0.05), stop))
        for _ in range(100):
            if calls >= 2:
                break
            await asyncio.sleep(0.02)
        assert calls >= 2, "the loop must keep trying after a failure"
        assert maintenance.healthy is False
        monkeypatch.undo()
        for _ in range(100):
            if maintenance.healthy:
                break
            await asyncio.sleep(0.02)
        assert maintenance.healthy is True
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_retention_purges_old_state(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store:
        engine = build_engine(store)
        await engine.process(ANGRY, mailbox="support", source=Source.IMAP, now=T0)
        resolved_reply = mail(
            sender="support@example.com",
            to="kunde@example.org",
            subject="Re: Beschwerde",
            at=T0 + timedelta(hours=1),
            message_id="reply-1@example.com",
            in_reply_to="angry-1@example.org",
            body="Guten Tag, das tut mir leid; ich kümmere mich persönlich darum.\n",
        )
        await engine.process(
            resolved_reply, mailbox="support", source=Source.SMTP, now=T0 + timedelta(hours=1)
        )
        assert len(await rows(store, t.messages)) == 2
        later = Clock(T0 + timedelta(days=100))
        await Maintenance(engine, store, BOUNDS, later, policy=Policy()).run_once()
        assert await rows(store, t.messages) == []
