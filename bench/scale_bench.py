"""How the engine's cost grows with mailboxes, stored customers and stored messages (PostgreSQL).

    PYTHONPATH=. python bench/scale_bench.py [--postgres ADMIN_URL] [--messages 1000]
        [--customers 100000] [--stored 10]

Three databases, each made fresh and filled with SQL (``generate_series``) as a long-running
installation would have it, then the same ``--messages`` new messages (replies from stored
customers to their stored threads, and a few new customers) decided through
``Engine.process_many`` in FETCH-sized batches of 50, as the IMAP catch-up does:

- ``small``: 1 mailbox, 1,000 customers, ``--stored`` messages each;
- ``customers``: 1 mailbox, ``--customers`` customers, ``--stored`` messages each;
- ``mailboxes``: 100 mailboxes and ``--customers`` customers. The engine keeps a customer row
  per guarded mailbox (it locks the customer in every mailbox for the referral ring), so the
  database holds mailboxes x customers customer rows, as the engine itself would leave them.

For each it prints msgs/s and the ratio to ``small``, and for the largest it runs EXPLAIN
(ANALYZE) on the engine's and the operators' queries with real parameters and names every
sequential scan of a table with more than 10,000 rows: an index that is missing shows there.
(The privacy export and erasure search every text column for an address with LIKE, a scan
by design for a rare command; they are not among these queries.)
Target: every ratio >= 0.5 (the cost of a message does not depend on the size of the
database beyond a factor 2) and no sequential scan; the last line says "met" or "MISSED".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from mailguard.domain.identity import CompanyIdentity  # noqa: E402
from mailguard.domain.model import Source  # noqa: E402
from mailguard.domain.policy import Policy  # noqa: E402
from mailguard.engine.factory import EngineSettings, build_engine  # noqa: E402
from mailguard.engine.service import Incoming  # noqa: E402
from mailguard.store.repository import SqlStore  # noqa: E402
from mailguard.store.schema import upgrade  # noqa: E402

DEFAULT_ADMIN = os.environ.get(
    "MAILGUARD_TEST_PG_URL",
    "postgresql://mailguard_test:mailguard_test@127.0.0.1:5432/mailguard_test",
)
RATIO_TARGET = 0.5
BATCH = 50
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def mailbox(k: int) -> str:
    return f"desk{k:03d}"


async def fill(url: str, mailboxes: int, customers: int, stored: int) -> float:
    """Customers in every mailbox, a thread each, ``stored`` messages each (in desk000)."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            INSERT INTO customers (mailbox, address, state, human_in, automated_in, human_out,
                automated_out, escalations, policy_state, next_due, first_seen_at, last_seen_at)
            SELECT 'desk' || lpad(m::text, 3, '0'), 'c' || n || '@customer.example', 'ok',
                $3, 0, 0, 0, 0, NULL, NULL, $4::timestamptz - interval '90 days',
                $4::timestamptz - (n % 90) * interval '1 day'
            FROM generate_series(0, $1 - 1) AS m, generate_series(0, $2 - 1) AS n
            """,
            mailboxes,
            customers,
            stored,
            NOW,
        )
        await conn.execute(
            """
            INSERT INTO threads (customer_id, root_message_id, subject_key, created_at,
                last_activity_at)
            SELECT id, 'root-' || address, 'order ' || address, first_seen_at, last_seen_at
            FROM customers WHERE mailbox = 'desk000'
            """
        )
        await conn.execute(
            """
            INSERT INTO messages (mailbox, message_id, direction, source, customer_id,
                thread_id, kind, automated, evidence, frustration, sender, subject, sent_at, size)
            SELECT 'desk000', 'm' || s || '-' || c.address, 'in', 'imap', c.id, t.id, 'human',
                false, '[]', 0.0, c.address, 'Order', c.last_seen_at - s * interval '1 hour',
                2048
            FROM customers c JOIN threads t ON t.customer_id = c.id,
                generate_series(0, $1 - 1) AS s
            WHERE c.mailbox = 'desk000'
            """,
            stored,
        )
        await conn.execute(
            """
            INSERT INTO thread_message_ids (customer_id, message_id, thread_id)
            SELECT customer_id, message_id, thread_id FROM messages WHERE mailbox = 'desk000'
            """
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


def new_messages(count: int, customers: int, seed: int = 5) -> list[bytes]:
    """Replies of stored customers to their stored thread; every tenth from a new customer."""
    rng = random.Random(seed)
    result = []
    for n in range(count):
        who = f"new{n}" if n % 10 == 0 else f"c{rng.randrange(customers)}"
        address = f"{who}@customer.example"
        at = NOW + timedelta(seconds=n)
        refs = f"In-Reply-To: <m0-{address}>\r\nReferences: <root-{address}>\r\n"
        result.append(
            (
                f"From: {address}\r\nTo: desk000@example.com\r\nSubject: Re: Order\r\n"
                f"Date: {format_datetime(at)}\r\n"
                f"Message-ID: <bench-{n}-{seed}@customer.example>\r\n"
                f"{refs}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                "Hello,\r\n\r\nany news about my order? Thank you.\r\n"
            ).encode()
        )
    return result


async def decide(url: str, mailboxes: int, raws: list[bytes]) -> float:
    """Seconds to decide ``raws`` through process_many in batches of ``BATCH``."""
    identity = CompanyIdentity(
        own_domains=frozenset({"example.com"}),
        mailboxes=tuple(
            (mailbox(k), frozenset({f"{mailbox(k)}@example.com"})) for k in range(mailboxes)
        ),
    )
    store = SqlStore.from_url(url)
    try:
        engine = build_engine(store, EngineSettings(identity, Policy()))
        items = [Incoming(raw, Source.IMAP, NOW + timedelta(hours=1)) for raw in raws]
        await engine.process_many(items[:1])  # classifier compiled, pool warm
        started = time.perf_counter()
        for start in range(1, len(items), BATCH):
            await engine.process_many(items[start : start + BATCH])
        return time.perf_counter() - started
    finally:
        await store.close()


QUERIES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "lock a customer": (
        "SELECT * FROM customers WHERE mailbox = $1 AND address = $2 FOR UPDATE",
        ("desk050", "c777@customer.example"),
    ),
    "find a thread by ids": (
        "SELECT thread_id FROM thread_message_ids WHERE customer_id = $1 AND message_id = $2",
        (5, "m0-c4@customer.example"),
    ),
    "find a thread by subject": (
        "SELECT id FROM threads WHERE customer_id = $1 AND subject_key = $2 "
        "AND last_activity_at >= $3 ORDER BY last_activity_at DESC LIMIT 1",
        (5, "order c4@customer.example", NOW - timedelta(days=14)),
    ),
    "is recorded": (
        "SELECT 1 FROM messages WHERE mailbox = $1 AND message_id = $2 AND direction = 'in'",
        ("desk000", "m3-c9@customer.example"),
    ),
    "due for the SLA tick": (
        "SELECT mailbox, address FROM customers WHERE next_due <= $1 "
        "ORDER BY next_due, id LIMIT 500",
        (NOW,),
    ),
    "a customer's messages (status, privacy)": (
        "SELECT * FROM messages WHERE customer_id = $1 ORDER BY sent_at",
        (5,),
    ),
    "a customer in every mailbox (privacy, handled)": (
        "SELECT id FROM customers WHERE address = $1",
        ("c777@customer.example",),
    ),
    "status: the recently active customers (a page)": (
        "SELECT customer_id, sent_at, id FROM messages WHERE customer_id IS NOT NULL "
        "ORDER BY sent_at DESC, id DESC LIMIT 500",
        (),
    ),
    "retention: old messages": (
        "SELECT count(*) FROM messages WHERE sent_at < $1",
        (NOW - timedelta(days=365),),
    ),
}


async def explain(url: str) -> list[str]:
    """Each query's plan line; sequential scans of big tables are returned as problems."""
    conn = await asyncpg.connect(url)
    problems = []
    try:
        sizes = {
            r["relname"]: r["n_live_tup"]
            for r in await conn.fetch("SELECT relname, n_live_tup FROM pg_stat_user_tables")
        }
        for name, (sql, params) in QUERIES.items():
            async with conn.transaction():
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}", *params)
            plan = [r[0] for r in rows]
            timing = next((p for p in plan if p.startswith("Execution Time")), "")
            scans = [p.strip() for p in plan if "Seq Scan on" in p]
            print(f"  {name:<46} {timing}")
            for scan in scans:
                table = scan.split("Seq Scan on ")[1].split()[0]
                if sizes.get(table, 0) > 10_000:
                    problems.append(f"{name}: {scan} ({sizes[table]} rows)")
                    print(f"    SEQUENTIAL: {scan}")
    finally:
        await conn.close()
    return problems


async def fresh_database(admin: str, name: str) -> str:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> int:
    setups = [
        ("small", 1, 1000),
        ("customers", 1, args.customers),
        ("mailboxes", args.mailboxes, args.customers),
    ]
    raws = new_messages(args.messages, 1000)
    rates: dict[str, float] = {}
    problems: list[str] = []
    print(f"scale_bench: {args.messages} new messages, batches of {BATCH}, PostgreSQL")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, mailboxes, customers in setups:
        name = f"mailguard_scale_{os.getpid()}_{label}"
        url = await fresh_database(args.postgres, name)
        try:
            await upgrade(url)
            filled = await fill(url, mailboxes, customers, args.stored)
            seconds = await decide(url, mailboxes, raws[: args.messages])
            rates[label] = (args.messages - 1) / seconds
            rows = mailboxes * customers
            print(
                f"{label:<10} {mailboxes:>4} mailboxes, {customers:>7} customers "
                f"({rows} customer rows), {customers * args.stored} messages stored "
                f"(filled in {filled:.0f} s): {rates[label]:.0f} msgs/s, "
                f"{rates[label] / rates['small']:.2f} x small"
            )
            if label == "mailboxes":
                problems = await explain(url)
        finally:
            await drop_database(args.postgres, name)
    ratios = {label: rate / rates["small"] for label, rate in rates.items()}
    worst = min(ratios.values())
    met = worst >= RATIO_TARGET and not problems
    print(
        f"targets: every ratio to small >= {RATIO_TARGET} (worst {worst:.2f}), "
        f"no sequential scan of a big table ({len(problems)}): {'met' if met else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=DEFAULT_ADMIN, help="admin URL (CREATEDB)")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--mailboxes", type=int, default=100)
    parser.add_argument("--stored", type=int, default=10, help="stored messages per customer")
    sys.exit(asyncio.run(main(parser.parse_args())))
