"""``Engine.process_many`` decides as ``Engine.process`` does one at a time (issue 23).

The same history is processed one message per transaction and then, on the emptied
database, in batches of one transaction each: every result and every row (ids aside) must
be the same. Histories: the generated support mailbox of the audit bench and the
scenario files of tests/data/scenarios; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailguard.engine.service import Status
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.many_support import (
    empty,
    engine_on,
    generated_history,
    in_batches,
    incoming,
    one_at_a_time,
    outcome,
    scenario_history,
    snapshot,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"


async def _equivalent(store: SqlStore, items: list, sizes: tuple[int, ...]) -> None:
    engine = engine_on(store)
    single = await one_at_a_time(engine, items)
    rows = await snapshot(store)
    assert {r.status for r in single} <= {Status.PROCESSED, Status.NO_CUSTOMER}
    for size in sizes:
        await empty(store)
        engine = engine_on(store)  # a fresh engine: nothing cached from the run before
        batched = await in_batches(engine, items, size)
        for index, (one, many) in enumerate(zip(single, batched, strict=True)):
            assert outcome(many) == outcome(one), f"message {index} in batches of {size}"
        assert await snapshot(store) == rows, f"rows differ in batches of {size}"


async def test_generated_history_same_decisions_and_rows(store: SqlStore, tmp_path: Path) -> None:
    items = incoming(generated_history(tmp_path / "export", 600, seed=11))
    assert len(items) >= 500
    await _equivalent(store, items, (200, 37))


@pytest.mark.parametrize("folder", sorted(p.name for p in SCENARIOS.iterdir() if p.is_dir()))
async def test_scenarios_same_decisions_and_rows(store: SqlStore, folder: str) -> None:
    items = incoming(scenario_history(SCENARIOS / folder))
    await _equivalent(store, items, (len(items), 2))


async def test_a_message_that_fails_is_isolated(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One message whose decision raises is recorded as failed; the others are decided as
    if it were absent, in order, and nothing of the failed attempt stays behind."""
    items = incoming(generated_history(tmp_path / "export", 200, seed=3))[:60]
    bad = items[25].raw
    engine = engine_on(store)
    without = await one_at_a_time(engine, [i for i in items if i.raw != bad])
    expected = await snapshot(store)
    await empty(store)
    engine = engine_on(store)
    real = engine.process_prepared

    async def flaky(uow, prepared, now):  # type: ignore[no-untyped-def]
        if prepared.raw == bad:
            raise RuntimeError("injected")
        return await real(uow, prepared, now)

    monkeypatch.setattr(engine, "process_prepared", flaky)
    results = await engine.process_many(items)
    assert results[25].status is Status.FAILED and "injected" in (results[25].error or "")
    others = [r for i, r in enumerate(results) if i != 25]
    assert [outcome(r) for r in others] == [outcome(r) for r in without]
    rows = await snapshot(store)
    assert len(rows.pop("failed_messages")) == 1
    expected.pop("failed_messages")
    assert rows == expected


async def test_a_failing_commit_fails_the_whole_batch(
    store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure outside any message (the commit) raises: nothing is acknowledged."""
    items = incoming(generated_history(tmp_path / "export", 200, seed=3))[:30]
    engine = engine_on(store)
    from mailguard.store.work import Work

    async def broken(self: Work) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(Work, "flush", broken)
    with pytest.raises(OSError, match="disk gone"):
        await engine.process_many(items)
    async with store._engine.connect() as conn:  # noqa: SLF001
        assert (await conn.execute(select(func.count()).select_from(t.messages))).scalar() == 0
        assert (await conn.execute(select(func.count()).select_from(t.customers))).scalar() == 0


async def test_two_writers_at_once(db_url: str, tmp_path: Path) -> None:
    """Two writers (two stores, as two processes) batch the same history at once, one
    forwards, one backwards: no deadlock, no failure, every message recorded once, and
    every customer's counters agree with its messages."""
    from mailguard.store.schema import upgrade

    items = incoming(generated_history(tmp_path / "export", 400, seed=7))
    await upgrade(db_url)
    first, second = SqlStore.from_url(db_url), SqlStore.from_url(db_url)
    try:
        batches = [items[i : i + 40] for i in range(0, len(items), 40)]

        async def run(store: SqlStore, order: list) -> list:
            engine = engine_on(store)
            results = []
            for batch in order:
                results += await engine.process_many(batch)
            return results

        import asyncio

        from mailguard.engine.many import BATCH_SPLITS

        splits = BATCH_SPLITS._value.get()
        ahead, behind = await asyncio.gather(
            run(first, batches), run(second, list(reversed(batches)))
        )
        results = ahead + behind
        # Every customer locked up front, in one order: no deadlock had to be undone.
        assert BATCH_SPLITS._value.get() == splits
        assert not [r for r in results if r.status is Status.FAILED]
        recorded = [r.key for r in results if r.status is not Status.DUPLICATE]
        assert len(recorded) == len(set(recorded)) == len({r.key for r in results})
        c, m = t.customers.c, t.messages.c
        async with first._engine.connect() as conn:  # noqa: SLF001
            assert (await conn.execute(select(func.count()).select_from(t.messages))).scalar() == (
                len(recorded)
            )
            counted = {
                row.id: row.human_in + row.automated_in + row.human_out + row.automated_out
                for row in await conn.execute(
                    select(c.id, c.human_in, c.automated_in, c.human_out, c.automated_out)
                )
            }
            rows = await conn.execute(
                select(m.customer_id, func.count())
                .where(m.customer_id.is_not(None))
                .group_by(m.customer_id)
            )
            per_customer = dict(rows.all())
        assert per_customer == {k: v for k, v in counted.items() if v}
    finally:
        await first.close()
        await second.close()
