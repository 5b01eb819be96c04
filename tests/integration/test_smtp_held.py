"""Releasing and dropping held mail in-process: once only, and nothing lost on failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from mailguard.config.model import RelayConfig
from mailguard.domain.model import Direction
from mailguard.engine.ports import DecisionRecord, EventWrite, HeldMessage, MessageKey
from mailguard.smtp import held
from mailguard.smtp.relay import Relay
from mailguard.store.repository import SqlStore
from tests.integration.smtp_support import (
    Sink,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RAW = b"From: support@example.com\r\nTo: carl@customer.example\r\nSubject: x\r\n\r\nhi\r\n"

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


async def hold_one(store: SqlStore) -> int:
    key = MessageKey("support", "held-1@example.com", Direction.OUTBOUND)
    async with store.unit_of_work() as uow:
        await uow.apply(
            EventWrite(
                message=None,
                decision=DecisionRecord(None, key, [], "test", NOW),
                held=HeldMessage(
                    key, RAW, "test hold", NOW, "support@example.com", ("carl@customer.example",)
                ),
            )
        )
    [record] = await store.held_mail()
    return record.id


def relay_to(port: int) -> Relay:
    return Relay(RelayConfig(host="127.0.0.1", port=port, timeout=timedelta(seconds=2)))


async def test_concurrent_releases_relay_once(store: SqlStore, sink: Sink) -> None:
    held_id = await hold_one(store)
    relay = relay_to(sink.port)
    results = await asyncio.gather(
        *(held.release(store, relay, held_id, NOW) for _ in range(3)), return_exceptions=True
    )
    await relay.close()
    assert sum(isinstance(r, held.Released) for r in results) == 1
    assert all(isinstance(r, held.Released | held.HeldError) for r in results)
    assert [r.raw for r in sink.received] == [RAW]


async def test_failed_release_stays_held(store: SqlStore, sink: Sink) -> None:
    held_id = await hold_one(store)
    sink.fail_next("DATA", "451 4.3.0 try later")
    relay = relay_to(sink.port)
    with pytest.raises(held.HeldError, match="still held"):
        await held.release(store, relay, held_id, NOW)
    assert [r.state for r in await store.held_mail()] == ["held"]
    await held.release(store, relay, held_id, NOW)
    await relay.close()
    assert len(sink.received) == 1
    assert await store.held_mail() == []


async def test_dropped_mail_cannot_be_released(store: SqlStore, sink: Sink) -> None:
    held_id = await hold_one(store)
    await held.drop(store, held_id, NOW)
    relay = relay_to(sink.port)
    with pytest.raises(held.HeldError, match="discarded"):
        await held.release(store, relay, held_id, NOW)
    with pytest.raises(held.HeldError, match="released mail only"):
        await held.release(store, relay, held_id, NOW, force=True)
    await relay.close()
    assert sink.received == []
    [record] = await store.held_mail(every_state=True)
    assert record.state == "discarded"


async def test_force_resends_a_released_message(store: SqlStore, sink: Sink) -> None:
    held_id = await hold_one(store)
    relay = relay_to(sink.port)
    await held.release(store, relay, held_id, NOW)
    await held.release(store, relay, held_id, NOW, force=True)
    await relay.close()
    assert len(sink.received) == 2
