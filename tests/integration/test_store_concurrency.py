"""Concurrent events for one customer never lose an update (issue 4), on both backends."""

from __future__ import annotations

import asyncio

import pytest

from mailguard.domain.model import Source
from mailguard.store.repository import SqlStore
from tests.integration.store_support import CUSTOMER, MAILBOX, T0, at, event

TASKS = 24


async def _bump(store: SqlStore, i: int, mailboxes: list[str]) -> None:
    async with store.unit_of_work() as uow:
        locked = await uow.lock_customers(CUSTOMER, mailboxes, T0)
        current = locked.states[MAILBOX] or {}
        seen = int(current.get("n", 0))
        # Yield while holding the lock: without serialisation every task would read
        # the same count here and all but one increment would be lost.
        await asyncio.sleep(0.005)
        await uow.apply(event(f"{i}@x", at(i), state={"n": seen + 1}))


async def _final_count(store: SqlStore) -> int:
    async with store.unit_of_work() as uow:
        state = (await uow.lock_customers(CUSTOMER, [MAILBOX], T0)).states[MAILBOX]
    assert state is not None
    return int(state["n"])


async def test_concurrent_events_for_one_customer_lose_no_update(store: SqlStore) -> None:
    await asyncio.gather(*(_bump(store, i, [MAILBOX]) for i in range(TASKS)))
    assert await _final_count(store) == TASKS


async def test_locking_several_mailboxes_in_any_order_cannot_deadlock(store: SqlStore) -> None:
    orders = [[MAILBOX, "partner", "shop"], ["shop", "partner", MAILBOX]]
    await asyncio.gather(*(_bump(store, i, orders[i % 2]) for i in range(TASKS)))
    assert await _final_count(store) == TASKS


@pytest.mark.postgres
async def test_different_customers_do_not_wait_for_each_other(postgres_url: str) -> None:
    from mailguard.store import schema

    await schema.upgrade(postgres_url)
    store = SqlStore.from_url(postgres_url)
    inside = asyncio.Event()

    async def first() -> None:
        async with store.unit_of_work() as uow:
            await uow.lock_customers("a@example.org", [MAILBOX], T0)
            inside.set()
            # Holds a's row lock until b's unit of work has committed.
            await asyncio.wait_for(second_done.wait(), timeout=10)

    async def second() -> None:
        await inside.wait()
        async with store.unit_of_work() as uow:
            await uow.lock_customers("b@example.org", [MAILBOX], T0)
            await uow.apply(event("b1@x", at(1), customer="b@example.org"))
        second_done.set()

    second_done = asyncio.Event()
    try:
        await asyncio.gather(first(), second())
    finally:
        await store.close()


async def test_two_processes_share_one_sqlite_file(sqlite_url: str) -> None:
    """Two stores (as two processes would have) on one file: one writer at a time."""
    from mailguard.store import schema

    await schema.upgrade(sqlite_url)
    stores = [SqlStore.from_url(sqlite_url), SqlStore.from_url(sqlite_url)]
    try:
        await asyncio.gather(*(_bump(stores[i % 2], i, [MAILBOX]) for i in range(TASKS)))
        assert await _final_count(stores[0]) == TASKS
    finally:
        for store in stores:
            await store.close()


async def test_nested_sqlite_write_fails_loudly_instead_of_hanging(sqlite_url: str) -> None:
    from mailguard.engine.ports import FailedMessage
    from mailguard.store import schema
    from tests.integration.store_support import key

    await schema.upgrade(sqlite_url)
    store = SqlStore.from_url(sqlite_url)
    try:
        async with store.unit_of_work():
            failure = FailedMessage(key("x@x"), Source.IMAP, b"raw", "boom", T0)
            # asyncio.timeout, unlike wait_for, stays in this task.
            with pytest.raises(RuntimeError, match="inside another one"):
                async with asyncio.timeout(5):
                    await store.record_failure(failure)
        # Outside, the same call works.
        await store.record_failure(failure)
    finally:
        await store.close()
