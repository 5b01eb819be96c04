"""``Store.transact``: the engine's transactions, on SQLite whole on the store's own thread.

mailguard.store.inline runs a SQLite unit of work on one thread in one hop; these tests
hold it to the port's promises on both backends (commit, full roll-back, the result handed
back) and check what only the thread can get wrong: a work that suspends, the thread's
identity, a broken database, closing.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from mailguard.engine.ports import UnitOfWork
from mailguard.store import schema
from mailguard.store import tables as t
from mailguard.store.inline import run_inline
from mailguard.store.repository import SqlStore
from tests.integration.store_support import CUSTOMER, MAILBOX, action, at, event, key


async def _count(store: SqlStore, table: object) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_transact_commits_and_returns_the_result(store: SqlStore) -> None:
    async def work(uow: UnitOfWork) -> bool:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))
        return await uow.apply(event("m1@x", at(1), state={"n": 1}, actions=(action("a1"),)))

    assert await store.transact(work) is True
    assert await _count(store, t.messages) == 1
    assert await _count(store, t.outbox_actions) == 1
    assert await _count(store, t.decisions) == 1

    async def again(uow: UnitOfWork) -> tuple[bool, bool]:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(2))
        return await uow.is_recorded(key("m1@x")), await uow.apply(event("m1@x", at(2)))

    assert await store.transact(again) == (True, False)
    assert await _count(store, t.decisions) == 1


async def test_transact_rolls_back_everything_when_the_work_raises(store: SqlStore) -> None:
    async def work(uow: UnitOfWork) -> None:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))
        await uow.apply(event("m1@x", at(1), actions=(action("a1"),)))
        raise LookupError("injected fault after apply")

    with pytest.raises(LookupError, match="injected fault"):
        await store.transact(work)
    for table in (t.customers, t.messages, t.threads, t.outbox_actions, t.decisions):
        assert await _count(store, table) == 0

    # The store is usable afterwards (the thread's connection was rolled back, not lost).
    async def ok(uow: UnitOfWork) -> bool:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(2))
        return await uow.apply(event("m2@x", at(2)))

    assert await store.transact(ok) is True
    assert await _count(store, t.messages) == 1


async def test_sqlite_transactions_run_on_one_thread_of_the_store(sqlite_url: str) -> None:
    await schema.upgrade(sqlite_url)
    store = SqlStore.from_url(sqlite_url)
    seen: list[str] = []

    async def work(uow: UnitOfWork) -> None:
        seen.append(threading.current_thread().name)
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))

    try:
        await asyncio.gather(*(store.transact(work) for _ in range(5)))
    finally:
        await store.close()
    assert len(set(seen)) == 1
    assert seen[0].startswith("mailguard-sqlite")
    assert seen[0] != threading.current_thread().name


async def test_a_work_that_suspends_fails_loudly_and_writes_nothing(sqlite_url: str) -> None:
    await schema.upgrade(sqlite_url)
    store = SqlStore.from_url(sqlite_url)

    async def work(uow: UnitOfWork) -> None:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))
        await asyncio.sleep(0)  # not the unit of work: there is no event loop on the thread

    try:
        with pytest.raises(RuntimeError, match="awaited something that suspends"):
            await store.transact(work)
        assert await _count(store, t.customers) == 0
    finally:
        await store.close()


def test_run_inline_returns_the_value_of_a_coroutine_that_never_suspends() -> None:
    async def answer() -> int:
        return 42

    assert run_inline(answer()) == 42


async def test_a_database_without_schema_raises_and_the_next_call_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'late.db'}"
    store = SqlStore.from_url(url)

    async def work(uow: UnitOfWork) -> bool:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))
        return await uow.apply(event("m1@x", at(1)))

    try:
        # A driver error surfaces as SQLAlchemy's, as on every other path of the store.
        with pytest.raises(OperationalError, match="no such table"):
            await store.transact(work)
        await schema.upgrade(url)
        assert await store.transact(work) is True
    finally:
        await store.close()
