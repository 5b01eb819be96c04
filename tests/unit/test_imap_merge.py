"""The date-ordered turn of a mailbox's folders at the engine (mailguard.imap.merge)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mailguard.domain.facts import message_date, parse_facts
from mailguard.imap.merge import DateMerge, Step

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ROLES = ("inbox", "folders")


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _items(
    log: list[str], name: str, minutes: list[int | None]
) -> list[tuple[datetime | None, Step]]:
    def step(label: str) -> Step:
        async def decide() -> None:
            log.append(label)
            await asyncio.sleep(0)

        return decide

    return [(_at(m) if m is not None else None, step(f"{name}{i}")) for i, m in enumerate(minutes)]


async def test_two_folders_catching_up_are_decided_in_date_order_across_both() -> None:
    merge = DateMerge(ROLES, grace=5.0)
    stop = asyncio.Event()
    log: list[str] = []
    inbox = asyncio.create_task(merge.run("inbox", _items(log, "i", [1, 3, 5]), stop))
    await asyncio.sleep(0.05)
    assert log == []  # Sent is catching up too and has no batch in yet: wait for it
    sent = asyncio.create_task(merge.run("folders", _items(log, "s", [2, 4]), stop))
    await asyncio.wait_for(sent, 2)
    assert log == ["i0", "s0", "i1", "s1"]
    assert not inbox.done()  # i2 (minute 5) waits for Sent's next batch or its end
    merge.caught_up("folders")
    await asyncio.wait_for(inbox, 2)
    assert log == ["i0", "s0", "i1", "s1", "i2"]


async def test_a_batch_is_sorted_and_a_message_without_date_goes_as_it_comes() -> None:
    merge = DateMerge(ROLES, grace=5.0)
    merge.caught_up("folders")
    log: list[str] = []
    await merge.run("inbox", _items(log, "i", [7, 2, None, 5]), asyncio.Event())
    # i2 has no date: it keeps its place after i1 (minute 2).
    assert log == ["i1", "i2", "i3", "i0"]


async def test_live_folders_do_not_wait_for_each_other() -> None:
    merge = DateMerge(ROLES, grace=5.0)
    merge.caught_up("inbox")
    merge.caught_up("folders")
    log: list[str] = []
    await asyncio.wait_for(merge.run("inbox", _items(log, "i", [None, None]), asyncio.Event()), 2)
    assert log == ["i0", "i1"]


async def test_a_lost_folder_is_waited_for_during_its_grace_only() -> None:
    merge = DateMerge(ROLES, grace=0.3)
    merge.lost("folders")
    log: list[str] = []
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(merge.run("inbox", _items(log, "i", [1]), asyncio.Event()), 5)
    assert asyncio.get_running_loop().time() - started >= 0.25
    assert log == ["i0"]
    merge.connected("folders")  # back: it is waited for again
    waiting = asyncio.create_task(merge.run("inbox", _items(log, "j", [2]), asyncio.Event()))
    await asyncio.sleep(0.5)
    assert not waiting.done()
    merge.caught_up("folders")
    await asyncio.wait_for(waiting, 2)


async def test_an_error_is_raised_in_the_task_of_the_batch_it_belongs_to() -> None:
    merge = DateMerge(ROLES, grace=5.0)
    stop = asyncio.Event()
    log: list[str] = []

    async def broken() -> None:
        raise RuntimeError("database down")

    sent_items = [(_at(2), broken), *_items(log, "s", [3])]
    inbox = asyncio.create_task(merge.run("inbox", _items(log, "i", [1, 4]), stop))
    await asyncio.sleep(0.05)
    sent = asyncio.create_task(merge.run("folders", sent_items, stop))
    with pytest.raises(RuntimeError, match="database down"):
        await asyncio.wait_for(sent, 2)
    assert "s0" not in log  # the rest of the failed batch is left undecided
    merge.lost("folders")
    merge.caught_up("folders")
    await asyncio.wait_for(inbox, 2)
    assert log == ["i0", "i1"]


async def test_stop_leaves_the_rest_undecided_and_returns_at_once() -> None:
    merge = DateMerge(ROLES, grace=5.0)
    stop = asyncio.Event()
    log: list[str] = []
    inbox = asyncio.create_task(merge.run("inbox", _items(log, "i", [1, 2]), stop))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(inbox, 1)
    assert log == []


@pytest.mark.parametrize(
    "head",
    [
        b"Date: Sun, 1 Mar 2026 10:00:00 +0100\r\n",
        b"Date: Sun, 1 Mar 2026 10:00:00 -0000\r\n",
        b"Date:\r\n Sun, 1 Mar 2026\r\n 10:00:00 +0000\r\n",
        b"Date: not a date\r\n",
        b"",
    ],
)
def test_message_date_reads_the_date_as_the_facts_do(head: bytes) -> None:
    raw = b"From: a@customer.example\r\n" + head + b"Subject: x\r\n\r\nbody\r\n"
    assert message_date(raw) == parse_facts(raw).date


async def test_runs_before_the_other_folders_head_are_decided_together() -> None:
    """``decide`` gets the longest run of a batch due before the other folder's head; a
    batch whose last run the other task decides is handed back only once it is done."""
    merge = DateMerge(ROLES, grace=5.0)
    stop = asyncio.Event()
    runs: list[list[str]] = []
    finished: list[str] = []

    async def decide(run: list[str]) -> None:
        await asyncio.sleep(0.05)  # the other task may wake meanwhile
        runs.append(run)

    async def folder(role: str, items: list[tuple[datetime | None, str]]) -> None:
        await merge.run(role, items, stop, decide)
        merge.caught_up(role)
        finished.append(role)
        assert set(items_of[role]) <= {name for run in runs for name in run}

    items_of = {"inbox": ["i0", "i1", "i2"], "folders": ["s0", "s1", "s2"]}
    inbox_items = [(_at(m), n) for m, n in zip([1, 2, 3], items_of["inbox"], strict=True)]
    sent_items = [(_at(m), n) for m, n in zip([4, 5, 7], items_of["folders"], strict=True)]
    inbox = asyncio.create_task(folder("inbox", inbox_items))
    await asyncio.sleep(0.05)
    # Sent's task takes the turn and decides INBOX's whole batch: INBOX's task, woken
    # meanwhile, must not take its batch back before that run is done.
    sent = asyncio.create_task(folder("folders", sent_items))
    await asyncio.wait_for(inbox, 2)
    await asyncio.wait_for(sent, 2)
    assert runs == [["i0", "i1", "i2"], ["s0", "s1", "s2"]]
    assert finished == ["inbox", "folders"]


async def test_a_run_takes_both_folders_heads_in_date_order() -> None:
    """Batches that share ``decide`` are decided together across the folders, in date
    order, up to where a folder still catching up has run out of its batch."""
    merge = DateMerge(ROLES, grace=5.0)
    stop = asyncio.Event()
    runs: list[list[str]] = []

    async def decide(run: list[str]) -> None:
        runs.append(run)

    inbox = asyncio.create_task(
        merge.run("inbox", [(_at(1), "i0"), (_at(3), "i1"), (_at(5), "i2")], stop, decide)
    )
    await asyncio.sleep(0.05)
    sent = asyncio.create_task(merge.run("folders", [(_at(2), "s0"), (_at(4), "s1")], stop, decide))
    await asyncio.wait_for(sent, 2)
    assert runs == [["i0", "s0", "i1", "s1"]]  # i2 (minute 5) waits for Sent's next batch
    merge.caught_up("folders")
    await asyncio.wait_for(inbox, 2)
    assert runs == [["i0", "s0", "i1", "s1"], ["i2"]]
