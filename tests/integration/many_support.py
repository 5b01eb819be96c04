"""Helpers for the ``Engine.process_many`` tests: histories, replays both ways, table snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from mailguard.audit.mbox import header_date
from mailguard.audit.sources import RawMessage, scan_paths
from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.model import Source
from mailguard.domain.policy import Policy, ReferralRingRule
from mailguard.engine.factory import EngineSettings, build_engine
from mailguard.engine.service import Engine, Incoming, ProcessResult
from mailguard.store import tables as t
from mailguard.store.models import Base
from mailguard.store.repository import SqlStore
from tests.scripts_support import load_script

PARTNER = "service@voucher-partner.example.net"
IDENTITY = CompanyIdentity(
    own_domains=frozenset({"example.com"}),
    mailboxes=(
        ("gutscheine", frozenset({"gutscheine@example.com"})),
        ("shop", frozenset({"shop@example.com"})),
        ("support", frozenset({"support@example.com"})),
    ),
)
POLICY = Policy(referral_ring=ReferralRingRule(partner_addresses=frozenset({PARTNER})))


def generated_history(out: Path, messages: int, seed: int) -> list[RawMessage]:
    """A generated support mailbox (bench/gen_mailbox.py), in date order as the audit reads it."""
    load_script("bench/gen_mailbox.py").generate(out, messages, "mbox", seed=seed, days=30)
    return list(scan_paths([out]))


def scenario_history(folder: Path) -> list[RawMessage]:
    """A scenario folder of tests/data/scenarios in file order."""
    return [RawMessage(p.read_bytes(), str(p), None, None) for p in sorted(folder.glob("*.eml"))]


def incoming(history: Sequence[RawMessage]) -> list[Incoming]:
    """Each message at its own date (the clock never runs backwards), as a catch-up sees it."""
    clock = datetime(2000, 1, 1, tzinfo=UTC)
    items = []
    for message in history:
        date = message.date or header_date(message.raw)
        if date is not None and date > clock:
            clock = date
        items.append(Incoming(message.raw, Source.IMAP, clock))
    return items


def engine_on(store: SqlStore) -> Engine:
    return build_engine(store, EngineSettings(IDENTITY, POLICY))


async def one_at_a_time(engine: Engine, items: Sequence[Incoming]) -> list[ProcessResult]:
    return [
        await engine.process(i.raw, source=i.source, now=i.now, mailbox=i.mailbox) for i in items
    ]


async def in_batches(engine: Engine, items: Sequence[Incoming], size: int) -> list[ProcessResult]:
    results: list[ProcessResult] = []
    for start in range(0, len(items), size):
        results += await engine.process_many(items[start : start + size])
    return results


def outcome(result: ProcessResult) -> tuple[Any, ...]:
    """What a result says, without timings."""
    return (
        result.status,
        result.key,
        result.customer,
        result.thread,
        result.classification,
        result.decisions,
        result.error,
        result.awaits,
    )


async def snapshot(store: SqlStore) -> dict[str, list[str]]:
    """Every engine-written table's rows, with ids replaced by what they stand for."""
    async with store._engine.connect() as conn:  # noqa: SLF001 - a test looks at every row
        customers = {
            row.id: (row.mailbox, row.address)
            for row in await conn.execute(
                select(t.customers.c.id, t.customers.c.mailbox, t.customers.c.address)
            )
        }
        threads = {
            row.id: (customers[row.customer_id], row.root_message_id)
            for row in await conn.execute(select(t.threads))
        }
        escalations = {
            row.id: (customers[row.customer_id], row.rule, str(row.opened_at))
            for row in await conn.execute(select(t.escalations))
        }
        names = {"customer_id": customers, "thread_id": threads}
        tables: dict[str, list[str]] = {}
        for table in Base.metadata.sorted_tables:
            if table.name in {"alembic_version", "checkpoints"}:
                continue
            rows = []
            for row in await conn.execute(select(table)):
                values = dict(row._mapping)
                values.pop("id", None)
                for column, value in list(values.items()):
                    if column in names and value is not None:
                        values[column] = names[column][value]
                    elif column.endswith("escalation_id") and value is not None:
                        values[column] = escalations[value]
                rows.append(repr(sorted(values.items())))
            tables[table.name] = sorted(rows)
    return tables


async def empty(store: SqlStore) -> None:
    """Delete every row the engine wrote (children first)."""
    async with store._engine.begin() as conn:  # noqa: SLF001 - a test resets the database
        for table in reversed(Base.metadata.sorted_tables):
            await conn.execute(delete(table))
