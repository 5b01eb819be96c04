"""Throughput of the store's batch path, as the audit replay drives it.

Replays generated events through ``SqlStore.batch`` on a temporary SQLite file with
the engine's call pattern per message (lock_customers, is_recorded, find_thread,
apply) and prints messages per second and peak RSS. The store alone must leave room
for parsing and classification within the audit's >= 1000 msgs/s target.

    PYTHONPATH=. python bench/store_batch_bench.py [--messages 100000] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailguard.domain.model import Direction, Source
from mailguard.engine.ports import (
    CustomerRef,
    DecisionRecord,
    EventWrite,
    MessageKey,
    MessageRecord,
    OutboxAction,
    StateWrite,
    ThreadWrite,
)
from mailguard.store import schema
from mailguard.store.repository import SqlStore

MAILBOX = "support"
START = datetime(2025, 1, 1, tzinfo=UTC)


def _event(n: int, rng: random.Random, customers: int) -> tuple[str, EventWrite, list[str], str]:
    address = f"customer{rng.randrange(customers)}@example.org"
    conversation = rng.randrange(3)
    subject_key = f"order {address} {conversation}"
    root = f"root-{address}-{conversation}"
    message_id = f"m{n}@bench.example"
    direction = Direction.INBOUND if n % 2 == 0 else Direction.OUTBOUND
    automated = direction is Direction.OUTBOUND and rng.random() < 0.7
    at = START + timedelta(seconds=30 * n)
    key = MessageKey(MAILBOX, message_id, direction)
    ref = CustomerRef(MAILBOX, address)
    refs = [root, f"m{max(n - 1, 0)}@bench.example"]
    actions: tuple[OutboxAction, ...] = ()
    if rng.random() < 0.02:
        actions = (OutboxAction("escalate", address, f"escalate:{message_id}", {}, at),)
    write = EventWrite(
        message=MessageRecord(
            key=key,
            source=Source.AUDIT,
            customer=address,
            thread_root=root,
            kind="auto_reply" if automated else "human",
            automated=automated,
            evidence=[{"rule": "auto_submitted", "matched": "auto-replied", "weight": 1.0}],
            frustration=0.0,
            at=at,
            size=2048,
            subject=f"Re: {subject_key}",
            sender=address,
        ),
        decision=DecisionRecord(ref, key, [], "no rule hit", at),
        thread=ThreadWrite(MAILBOX, address, root, subject_key, (message_id, *refs), at),
        states=(StateWrite(ref, {"events": n, "streak": [n, n - 1]}, None),),
        actions=actions,
    )
    return address, write, refs, subject_key


async def run(url: str, messages: int, customers: int, flush_every: int) -> float:
    await schema.upgrade(url)
    store = SqlStore.from_url(url)
    rng = random.Random(4)  # noqa: S311 - reproducible load, not security
    started = time.perf_counter()
    generating = 0.0
    async with store.batch(flush_every=flush_every) as uow:
        for n in range(messages):
            # Events are made one at a time, as the audit streams a mailbox, so the
            # peak RSS is the store's; the time to make them is not counted.
            before = time.perf_counter()
            address, write, refs, subject_key = _event(n, rng, customers)
            generating += time.perf_counter() - before
            at = write.decision.at
            await uow.lock_customers(address, [MAILBOX], at)
            assert write.message is not None
            if await uow.is_recorded(write.message.key):
                continue
            await uow.find_thread(
                CustomerRef(MAILBOX, address), refs, subject_key, at - timedelta(days=14)
            )
            await uow.apply(write)
    elapsed = time.perf_counter() - started - generating
    await store.close()
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--flush-every", type=int, default=1000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        rate = asyncio.run(run(url, args.messages, args.customers, args.flush_every))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"store batch: {args.messages} msgs, {rate:,.0f} msgs/s, peak RSS {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
