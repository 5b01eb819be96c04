"""The store port's semantics (mailguard/ports.py) on SQLite and PostgreSQL.

Most tests run three times per backend: through a unit of work per event, through one
batch (the audit), whose buffered writes must read back the same way, and as the engine's
``Store.transact`` runs a unit of work (on SQLite: on a synchronous connection with the
inline statement plans of mailguard.store.inline; on PostgreSQL a unit of work).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from mailguard.domain.model import Direction, Source
from mailguard.engine.ports import (
    CustomerRef,
    DecisionRecord,
    EscalationNotify,
    EscalationOpen,
    EscalationResolve,
    EventWrite,
    FailedMessage,
    HeldMessage,
    UnitOfWork,
)
from mailguard.store import tables as t
from mailguard.store.engine import sqlite_writer_engine
from mailguard.store.inline import InlineConnection
from mailguard.store.repository import SqlStore
from mailguard.store.work import Work
from tests.integration.store_support import CUSTOMER, MAILBOX, T0, action, at, event, key

Opener = Callable[[], AbstractAsyncContextManager[UnitOfWork]]
REF = CustomerRef(MAILBOX, CUSTOMER)


@asynccontextmanager
async def _inline(store: SqlStore) -> AsyncIterator[UnitOfWork]:
    """The unit of work ``SqlStore.transact`` runs on its SQLite thread, here on the loop:
    its awaits never suspend, so the test's own code can drive it."""
    engine = sqlite_writer_engine(store.engine)
    assert engine is not None
    raw = engine.raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    try:
        driver.execute("BEGIN IMMEDIATE")
        work = Work(InlineConnection(engine.dialect, driver))
        try:
            yield work
            await work.flush()
        except BaseException:
            driver.rollback()
            raise
        driver.commit()
    finally:
        raw.close()
        engine.dispose()


@pytest.fixture(params=["unit_of_work", "batch", "transact"])
def work(request: pytest.FixtureRequest, store: SqlStore) -> Opener:
    """Opens a unit of work, a batch flushing every 2 events (to cross flushes), or the
    unit of work of ``transact``."""
    if request.param == "unit_of_work":
        return store.unit_of_work
    if request.param == "transact":
        if store.engine.dialect.name == "sqlite":
            return lambda: _inline(store)
        return store.unit_of_work  # transact on PostgreSQL is a unit of work
    return lambda: store.batch(flush_every=2)


async def _count(store: SqlStore, table: Any, *where: Any) -> int:
    async with store.engine.connect() as conn:
        return int(
            (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def _rows(store: SqlStore, table: Any, *where: Any) -> list[Any]:
    async with store.engine.connect() as conn:
        return list(await conn.execute(select(table).where(*where).order_by(table.c.id)))


async def test_lock_customers_creates_rows_and_returns_saved_states(
    work: Opener, store: SqlStore
) -> None:
    async with work() as uow:
        locked = await uow.lock_customers(CUSTOMER, ["support", "partner"], T0)
        assert locked.address == CUSTOMER
        assert dict(locked.states) == {"support": None, "partner": None}
        await uow.apply(event("m1@x", at(1), state={"n": 1}))
        again = await uow.lock_customers(CUSTOMER, ["support"], T0)
        assert again.states["support"] == {"n": 1}
    async with work() as uow:
        locked = await uow.lock_customers(CUSTOMER, ["partner", "support"], at(5))
        assert dict(locked.states) == {"support": {"n": 1}, "partner": None}
    rows = await _rows(store, t.customers)
    # Rows are created (and locked) in ascending mailbox order, whatever the order asked.
    assert [(r.mailbox, r.first_seen_at) for r in rows] == [("partner", T0), ("support", T0)]


async def test_an_event_is_applied_once(work: Opener, store: SqlStore) -> None:
    write = event("m1@x", at(1), state={"n": 1}, actions=(action("a1"),))
    async with work() as uow:
        assert not await uow.is_recorded(key("m1@x"))
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(1))
        assert await uow.apply(write) is True
        assert await uow.is_recorded(key("m1@x"))
        assert not await uow.is_recorded(key("m1@x", Direction.OUTBOUND))
        assert await uow.apply(write) is False
    async with work() as uow:
        assert await uow.is_recorded(key("m1@x"))
        changed = event("m1@x", at(2), state={"n": 99}, actions=(action("a2"),))
        assert await uow.apply(changed) is False
        assert (await uow.lock_customers(CUSTOMER, [MAILBOX], at(2))).states[MAILBOX] == {"n": 1}
    assert await _count(store, t.messages) == 1
    assert await _count(store, t.decisions) == 1
    assert await _count(store, t.outbox_actions) == 1


async def test_mail_without_customer_is_recorded_once(work: Opener, store: SqlStore) -> None:
    async with work() as uow:
        assert await uow.apply(event("int@x", at(1), customer=None)) is True
    async with work() as uow:
        assert await uow.apply(event("int@x", at(1), customer=None)) is False
    rows = await _rows(store, t.messages)
    assert [(r.customer_id, r.thread_id) for r in rows] == [(None, None)]


async def test_find_thread_by_references_then_by_subject(work: Opener) -> None:
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
        await uow.apply(event("a@x", at(0), subject_key="gutschein", refs=("old@x",)))
        await uow.apply(event("b@x", at(10), subject_key="lieferung"))
        await uow.apply(event("c@x", at(20), root="b@x", subject_key="lieferung"))
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], at(30))
        # Any id indexed for a thread finds it, the root's as well as a Reference.
        assert await uow.find_thread(REF, ["zzz@x", "old@x"], "", T0) == "a@x"
        assert await uow.find_thread(REF, ["c@x"], "gutschein", T0) == "b@x"
        # Two threads match by id: the one with the latest activity wins.
        assert await uow.find_thread(REF, ["a@x", "c@x"], "", T0) == "b@x"
        # No id matches: the subject within the window.
        assert await uow.find_thread(REF, ["new@x"], "gutschein", at(-1)) == "a@x"
        assert await uow.find_thread(REF, ["new@x"], "gutschein", at(1)) is None
        assert await uow.find_thread(REF, ["new@x"], "lieferung", at(20)) == "b@x"
        assert await uow.find_thread(REF, ["new@x"], "", T0) is None
        # Threads belong to one customer in one mailbox.
        other = CustomerRef(MAILBOX, "someone@example.net")
        assert await uow.find_thread(other, ["a@x"], "gutschein", T0) is None
        assert await uow.find_thread(CustomerRef("partner", CUSTOMER), ["a@x"], "", T0) is None


async def test_thread_activity_and_subject_fallback_see_unflushed_writes(work: Opener) -> None:
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
        await uow.apply(event("a@x", at(0), subject_key="s"))
        await uow.apply(event("b@x", at(1), subject_key="s"))
        await uow.apply(event("c@x", at(50), root="a@x", subject_key="s"))
        # a@x was active at minute 50, b@x only at minute 1.
        assert await uow.find_thread(REF, [], "s", at(2)) == "a@x"
        assert await uow.find_thread(REF, ["a@x", "b@x"], "", T0) == "a@x"


async def test_states_next_due_and_ticks(work: Opener, store: SqlStore) -> None:
    async with work() as uow:
        for n, name in enumerate(["a", "b", "c"]):
            address = f"{name}@example.org"
            await uow.lock_customers(address, [MAILBOX], T0)
            due = at(60 - n) if name != "b" else None
            await uow.apply(
                event(f"{name}@x", at(n), customer=address, state={"k": name}, next_due=due)
            )
    due = await store.due_for_tick(at(60))
    assert due == [CustomerRef(MAILBOX, "c@example.org"), CustomerRef(MAILBOX, "a@example.org")]
    assert await store.due_for_tick(at(59), limit=1) == [CustomerRef(MAILBOX, "c@example.org")]
    assert await store.due_for_tick(at(0)) == []
    rows = {r.address: r for r in await _rows(store, t.customers)}
    assert rows["b@example.org"].policy_state == {"k": "b"}
    assert rows["b@example.org"].last_seen_at == at(1)


async def test_counters_summarise_the_customer(work: Opener, store: SqlStore) -> None:
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
        await uow.apply(event("1@x", at(0)))
        await uow.apply(event("2@x", at(1), direction=Direction.OUTBOUND, automated=True))
        await uow.apply(event("3@x", at(2)))
        await uow.apply(event("4@x", at(3), direction=Direction.OUTBOUND))
    (row,) = await _rows(store, t.customers)
    assert (row.human_in, row.automated_in, row.human_out, row.automated_out) == (2, 0, 1, 1)
    assert row.last_seen_at == at(3)


async def test_escalations_open_link_notify_and_resolve(work: Opener, store: SqlStore) -> None:
    def opening(mailbox: str, when: int) -> EscalationOpen:
        return EscalationOpen(
            customer=CustomerRef(mailbox, CUSTOMER),
            thread_root=f"{mailbox}-1@x",
            rule="referral_ring",
            reason="each side names the other",
            evidence=[{"rule": "names_other_address", "matched": mailbox}],
            opened_at=at(when),
            link_key="ring:kunde",
        )

    async with work() as uow:
        await uow.lock_customers(CUSTOMER, ["support", "partner"], T0)
        await uow.apply(event("support-1@x", at(0), opened=(opening("support", 0),)))
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, ["support", "partner"], T0)
        ring = event("partner-1@x", at(1), mailbox="partner", opened=(opening("partner", 1),))
        await uow.apply(ring)
        notify = EscalationNotify(CustomerRef("partner", CUSTOMER), "secondary", at(500))
        await uow.apply(event("partner-2@x", at(500), mailbox="partner", notified=(notify,)))
    first, second = await _rows(store, t.escalations)
    assert (first.linked_escalation_id, second.linked_escalation_id) == (second.id, first.id)
    assert first.thread_id is not None and second.thread_id is not None
    assert (first.notify_level, first.last_notified_at) == ("primary", None)
    assert (second.notify_level, second.last_notified_at) == ("secondary", at(500))
    customers = {r.mailbox: r for r in await _rows(store, t.customers)}
    assert {r.state for r in customers.values()} == {"escalated"}

    resolve = EscalationResolve(CustomerRef("support", CUSTOMER), at(600), "human_reply:r@x")
    reopen = EscalationOpen(REF, None, "frustration", "angry", [], at(600))
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, ["support"], at(600))
        # Resolution is applied before opening: the new escalation stays open.
        await uow.apply(event("r@x", at(600), resolved=(resolve,), opened=(reopen,)))
    rows = await _rows(store, t.escalations, t.escalations.c.customer_id == customers["support"].id)
    assert [(r.rule, r.resolved_at, r.resolved_by) for r in rows] == [
        ("referral_ring", at(600), "human_reply:r@x"),
        ("frustration", None, None),
    ]
    resolve_all = EscalationResolve(REF, at(700), "handled:agent")
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, ["support"], at(700))
        tick = EventWrite(
            None, DecisionRecord(REF, None, [], "handled", at(700)), resolved=(resolve_all,)
        )
        await uow.apply(tick)
    (support,) = await _rows(store, t.customers, t.customers.c.mailbox == "support")
    assert (support.state, support.escalations) == ("ok", 2)
    assert await _count(store, t.escalations, t.escalations.c.resolved_at.is_(None)) == 1


async def test_outbox_keys_are_unique_and_held_mail_is_kept_once(
    work: Opener, store: SqlStore
) -> None:
    held = HeldMessage(
        key=key("out@x", Direction.OUTBOUND),
        raw=b"From: bot\r\n\r\n\xff",
        reason="bot_ping_pong",
        held_at=at(1),
        mail_from="bot@company.example",
        rcpt_tos=(CUSTOMER,),
        mail_options=("BODY=8BITMIME",),
    )
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
        await uow.apply(event("1@x", at(0), actions=(action("k1"), action("k1"), action("k2"))))
        await uow.apply(
            event("out@x", at(1), direction=Direction.OUTBOUND, actions=(action("k2"),), held=held)
        )
        await uow.apply(event("out2@x", at(2), direction=Direction.OUTBOUND, held=held))
    async with work() as uow:
        await uow.apply(event("2@x", at(3), actions=(action("k1"), action("k3"))))
    assert [r.idempotency_key for r in await _rows(store, t.outbox_actions)] == ["k1", "k2", "k3"]
    (row,) = await _rows(store, t.held_messages)
    assert (row.raw, row.state, row.envelope_recipients) == (held.raw, "held", [CUSTOMER])
    assert (row.envelope_sender, row.mail_options, row.rcpt_options) == (
        held.mail_from,
        ["BODY=8BITMIME"],
        [],
    )


async def test_decisions_are_logged_with_their_rules(work: Opener, store: SqlStore) -> None:
    hits = [
        {"rule": "frustration", "evidence": [{"rule": "caps", "matched": "!!!"}], "detail": "0.9"}
    ]
    write = event("1@x", at(0))
    write = EventWrite(
        write.message,
        DecisionRecord(REF, key("1@x"), hits, "frustration 0.9: escalate", at(0)),
        write.thread,
    )
    async with work() as uow:
        await uow.apply(write)
        await uow.apply(EventWrite(None, DecisionRecord(REF, None, [], "sla tick", at(9))))
    first, tick = await _rows(store, t.decisions)
    assert (first.mailbox, first.message_id, first.direction) == (MAILBOX, "1@x", Direction.INBOUND)
    assert (first.rule_hits, first.explain) == (hits, "frustration 0.9: escalate")
    assert (tick.mailbox, tick.message_id, tick.decided_at) == (MAILBOX, None, at(9))


async def test_failures_roll_back_everything(store: SqlStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.unit_of_work() as uow:
            await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
            await uow.apply(event("1@x", at(0), actions=(action("k1"),)))
            raise RuntimeError("crash before commit")
    for table in (t.customers, t.messages, t.threads, t.outbox_actions, t.decisions):
        assert await _count(store, table) == 0


async def test_batch_commits_each_flush_and_loses_only_the_rest(store: SqlStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.batch(flush_every=3) as uow:
            for n in range(5):
                await uow.lock_customers(CUSTOMER, [MAILBOX], at(n))
                await uow.apply(event(f"{n}@x", at(n), state={"n": n}))
            raise RuntimeError("crash in the replay")
    assert [r.message_id for r in await _rows(store, t.messages)] == ["0@x", "1@x", "2@x"]
    (row,) = await _rows(store, t.customers)
    assert row.policy_state == {"n": 2}
    # A later batch (on a database that is no longer empty) continues from there.
    async with store.batch() as uow:
        assert await uow.is_recorded(key("2@x"))
        assert not await uow.is_recorded(key("3@x"))
        assert (await uow.lock_customers(CUSTOMER, [MAILBOX], at(9))).states[MAILBOX] == {"n": 2}
        assert await uow.find_thread(REF, ["1@x"], "", T0) == "1@x"
    with pytest.raises(ValueError, match="flush_every"):
        async with store.batch(flush_every=0):
            pass


async def test_failed_messages_are_kept_and_not_recorded(store: SqlStore) -> None:
    failure = FailedMessage(key("bad@x"), Source.SMTP, b"\xff\xfe", "boom", at(0))
    await store.record_failure(failure)
    await store.record_failure(
        FailedMessage(key("bad@x"), Source.IMAP, b"raw2", "boom again", at(5))
    )
    (row,) = await _rows(store, t.failed_messages)
    assert (row.raw, row.error, row.attempts) == (b"raw2", "boom again", 2)
    assert (row.first_failed_at, row.last_failed_at, row.source) == (at(0), at(5), Source.IMAP)
    async with store.unit_of_work() as uow:
        assert not await uow.is_recorded(key("bad@x"))


async def test_locking_an_existing_customer_burns_no_ids(store: SqlStore) -> None:
    for minute in range(5):
        async with store.unit_of_work() as uow:
            await uow.lock_customers(CUSTOMER, [MAILBOX], at(minute))
    async with store.unit_of_work() as uow:
        await uow.lock_customers("second@example.org", [MAILBOX], at(9))
    rows = await _rows(store, t.customers)
    assert [(r.id, r.address) for r in rows] == [(1, CUSTOMER), (2, "second@example.org")]


async def test_a_customer_without_state_has_sql_null(work: Opener, store: SqlStore) -> None:
    async with work() as uow:
        await uow.lock_customers(CUSTOMER, [MAILBOX], T0)
        await uow.apply(event("1@x", at(0)))
    assert await _count(store, t.customers, t.customers.c.policy_state.is_(None)) == 1
