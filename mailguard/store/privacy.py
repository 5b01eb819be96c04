"""Everything the database holds about one person: found, exported, or erased at once.

GDPR Art. 15 (access) and Art. 17 (erasure) for ``mailguard privacy export|erase``. A row
belongs to the person when it is linked to one of their customer rows (any guarded mailbox;
the address with its plus-tag and case variants, :class:`~mailguard.domain.privacy.
AddressVariants`), or when any of its text, JSON or raw mail names them: a message they
sent, or one recorded under ``<message-id>#<address>``; a decision or an escalation whose
evidence quotes them; an outbox action or notification for them; held, deferred and failed
mail addressed to or from them, or naming them in its headers or text; the proxy's relay
receipts of their messages or refusing their address. Decisions and outbox
actions about a message that goes are part of it (they name its Message-ID).

:func:`find` decides that once, so the export lists exactly what the erasure removes. Each
candidate is first found with ``LIKE`` on the lower-cased column and then confirmed in
Python; raw mail (held, deferred, failed) is read in chunks and searched as it is and
decoded. Reading every table is what an Art. 15/17 request costs: seconds for a large
database, and an operator's command, not the daemon's path.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

import structlog
from sqlalchemy import Table, Text, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from mailguard.domain.privacy import AddressVariants
from mailguard.errors import MailguardError
from mailguard.store import tables as t
from mailguard.store.models import HeldState
from mailguard.store.operations import StoreOperations

# The order a deletion follows (rows that reference others first); also the export's order.
TABLES: tuple[str, ...] = (
    "decisions",
    "messages",
    "escalations",
    "thread_message_ids",
    "threads",
    "customers",
    "outbox_actions",
    "held_messages",
    "failed_messages",
    "relay_receipts",
)
log = structlog.get_logger("mailguard.store.privacy")

_CHUNK = 500
_RAW_CHUNK = 50
WAITING = (HeldState.HELD, HeldState.DEFERRED)

Row = dict[str, Any]


@dataclass
class Found:
    """The rows of each table that belong to the person, by primary key."""

    customers: list[int] = field(default_factory=list)
    ids: dict[str, list[int]] = field(default_factory=dict)
    waiting: list[int] = field(default_factory=list)
    """Held or deferred mail for the person that still waits for a decision."""

    def count(self, table: str) -> int:
        return len(self.ids.get(table, ()))


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _naming(variants: AddressVariants, columns: Iterable[Any]) -> Any:
    """SQL: some column's lower-cased text matches one of the person's LIKE patterns."""
    return or_(
        *(
            func.lower(cast(column, Text)).like(pattern, escape="\\")
            for column in columns
            for pattern in variants.like_patterns()
        )
    )


def _names_any(variants: AddressVariants, row: Any, columns: Sequence[str]) -> bool:
    return any(variants.names_json(row._mapping[name]) for name in columns)


async def _text_matches(
    conn: AsyncConnection, table: Table, variants: AddressVariants, columns: Sequence[str]
) -> list[int]:
    """Ids of rows whose ``columns`` name the person (LIKE first, then confirmed)."""
    c = table.c
    rows = await conn.execute(
        select(c.id, *(c[name] for name in columns)).where(
            _naming(variants, (c[name] for name in columns))
        )
    )
    return [row.id for row in rows if _names_any(variants, row, columns)]


async def _linked(conn: AsyncConnection, table: Table, customers: Sequence[int]) -> list[int]:
    found: list[int] = []
    for part in _chunks(customers):
        rows = await conn.execute(select(table.c.id).where(table.c.customer_id.in_(part)))
        found += [row.id for row in rows]
    return found


async def _by_message_id(
    conn: AsyncConnection, table: Table, keys: set[tuple[str, str]], column: str = "message_id"
) -> list[int]:
    """Ids of rows about one of ``keys`` (mailbox, Message-ID)."""
    found: list[int] = []
    ids = sorted({mid for _, mid in keys})
    for part in _chunks(ids):
        rows = await conn.execute(
            select(table.c.id, table.c.mailbox, table.c[column]).where(table.c[column].in_(part))
        )
        found += [row.id for row in rows if (row.mailbox, row[2]) in keys]
    return found


async def _raw_matches(
    conn: AsyncConnection, table: Table, check: Callable[[bytes], bool]
) -> list[int]:
    """Ids of rows whose raw bytes ``check`` accepts, reading the bytes in chunks."""
    every = [row.id for row in await conn.execute(select(table.c.id).order_by(table.c.id))]
    found: list[int] = []
    for part in _chunks(every, _RAW_CHUNK):
        rows = await conn.execute(select(table.c.id, table.c.raw).where(table.c.id.in_(part)))
        found += [row.id for row in rows if check(bytes(row.raw))]
    return found


async def find(conn: AsyncConnection, variants: AddressVariants, *, lock: bool = False) -> Found:
    """Every row that belongs to the person (see the module docstring).

    ``lock`` row-locks the person's customer rows (PostgreSQL ``FOR UPDATE``) so that no
    message of theirs is decided while an erasure runs.
    """
    c = t.customers.c
    query = select(c.id, c.address).where(_naming(variants, [c.address])).order_by(c.id)
    if lock:
        query = query.with_for_update()
    customers = [r.id for r in await conn.execute(query) if variants.matches(r.address)]
    found = Found(customers=customers)
    ids = found.ids
    ids["customers"] = customers
    ids["threads"] = await _linked(conn, t.threads, customers)
    ids["thread_message_ids"] = []  # keyed by (customer, Message-ID): removed by customer
    messages = set(await _linked(conn, t.messages, customers))
    messages |= set(
        await _text_matches(
            conn, t.messages, variants, ("message_id", "sender", "subject", "evidence")
        )
    )
    ids["messages"] = sorted(messages)
    keys: set[tuple[str, str]] = set()
    for part in _chunks(ids["messages"]):
        m = t.messages.c
        rows = await conn.execute(select(m.mailbox, m.message_id).where(m.id.in_(part)))
        keys |= {(row.mailbox, row.message_id) for row in rows}
    decisions = set(await _linked(conn, t.decisions, customers))
    decisions |= set(
        await _text_matches(conn, t.decisions, variants, ("message_id", "rule_hits", "explain"))
    )
    decisions |= set(await _by_message_id(conn, t.decisions, keys))
    ids["decisions"] = sorted(decisions)
    escalations = set(await _linked(conn, t.escalations, customers))
    escalations |= set(
        await _text_matches(
            conn, t.escalations, variants, ("reason", "evidence", "link_key", "resolved_by")
        )
    )
    ids["escalations"] = sorted(escalations)
    held = set(await _by_message_id(conn, t.held_messages, keys))
    held |= set(
        await _text_matches(
            conn,
            t.held_messages,
            variants,
            ("message_id", "envelope_sender", "envelope_recipients", "awaits", "reason"),
        )
    )
    held |= set(await _raw_matches(conn, t.held_messages, variants.names_bytes))
    ids["held_messages"] = sorted(held)
    failed = set(await _text_matches(conn, t.failed_messages, variants, ("message_id", "error")))
    failed |= set(await _raw_matches(conn, t.failed_messages, variants.names_bytes))
    ids["failed_messages"] = sorted(failed)
    keys |= await _keys(conn, t.held_messages, ids["held_messages"])
    keys |= await _keys(conn, t.failed_messages, ids["failed_messages"])
    ids["outbox_actions"] = await _actions(conn, variants, keys)
    # The proxy's relay receipts: of the person's messages, or refusing their address.
    receipts = set(await _by_message_id(conn, t.relay_receipts, keys))
    receipts |= set(
        await _text_matches(conn, t.relay_receipts, variants, ("message_id", "refused", "dsn_to"))
    )
    ids["relay_receipts"] = sorted(receipts)
    found.waiting = await _waiting(conn, ids["held_messages"], lock=lock)
    return found


async def _keys(conn: AsyncConnection, table: Table, ids: Sequence[int]) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for part in _chunks(ids):
        rows = await conn.execute(
            select(table.c.mailbox, table.c.message_id).where(table.c.id.in_(part))
        )
        keys |= {(row.mailbox, row.message_id) for row in rows}
    return keys


async def _actions(
    conn: AsyncConnection, variants: AddressVariants, keys: set[tuple[str, str]]
) -> list[int]:
    """Outbox actions naming the person, or acting on one of the person's messages."""
    o = t.outbox_actions.c
    found = set(
        await _text_matches(
            conn, t.outbox_actions, variants, ("target", "idempotency_key", "payload", "last_error")
        )
    )
    ids = sorted({mid for _, mid in keys})
    boxes = {mid: {box for box, m in keys if m == mid} for mid in ids}
    for part in _chunks(ids):
        rows = await conn.execute(
            select(o.id, o.target, o.payload, o.idempotency_key).where(o.target.in_(part))
        )
        for row in rows:
            payload = row.payload if isinstance(row.payload, dict) else {}
            box = payload.get("mailbox") or row.idempotency_key.split(":", 1)[0]
            if box in boxes[row.target]:
                found.add(row.id)
    return sorted(found)


async def _waiting(conn: AsyncConnection, held: Sequence[int], *, lock: bool) -> list[int]:
    h = t.held_messages.c
    waiting: list[int] = []
    for part in _chunks(held):
        query = select(h.id).where(h.id.in_(part), h.state.in_(WAITING))
        if lock:
            query = query.with_for_update()
        waiting += [row.id for row in await conn.execute(query)]
    return sorted(waiting)


def _jsonable(name: str, value: Any) -> tuple[str, Any]:
    if isinstance(value, bytes | bytearray | memoryview):
        return f"{name}_base64", base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return name, value.isoformat()
    if isinstance(value, Enum):
        return name, value.value
    return name, value


async def read(conn: AsyncConnection, found: Found) -> dict[str, list[Row]]:
    """The found rows, every column, as JSON-ready dicts (bytes as base64), by table."""
    tables: dict[str, list[Row]] = {}
    for name in TABLES:
        table = t.tables_by_name[name]
        rows: list[Row] = []
        if name == "thread_message_ids":
            parts = [(table.c.customer_id, p) for p in _chunks(found.customers)]
        else:
            parts = [(table.c.id, p) for p in _chunks(found.ids.get(name, []))]
        for column, part in parts:
            result = await conn.execute(select(table).where(column.in_(part)))
            rows += [dict(_jsonable(k, v) for k, v in row._mapping.items()) for row in result]
        tables[name] = sorted(rows, key=lambda r: (str(r.get("id", "")), str(r)))
    return tables


async def erase(conn: AsyncConnection, found: Found) -> dict[str, int]:
    """Delete the found rows (in the caller's transaction); rows removed per table."""
    removed: dict[str, int] = {}
    for name in TABLES:
        table = t.tables_by_name[name]
        count = 0
        if name == "thread_message_ids":
            for part in _chunks(found.customers):
                result = await conn.execute(delete(table).where(table.c.customer_id.in_(part)))
                count += max(result.rowcount, 0)
        else:
            for part in _chunks(found.ids.get(name, [])):
                result = await conn.execute(delete(table).where(table.c.id.in_(part)))
                count += max(result.rowcount, 0)
        removed[name] = count
    return removed


class ErasureRefused(MailguardError):
    """Held or deferred mail for the person still waits for a decision."""

    def __init__(self, held_ids: Sequence[int]) -> None:
        self.held_ids = tuple(held_ids)
        super().__init__(str(self))

    def __str__(self) -> str:
        listed = ", ".join(str(i) for i in self.held_ids)
        return (
            f"{len(self.held_ids)} held or deferred message(s) for this customer still wait "
            "for a decision "
            f"(held ids {listed}: mailguard held show ID). Release or drop them first, or give "
            "--drop-held to drop them (never sent) with the rest"
        )


@dataclass(frozen=True, slots=True)
class PersonData:
    """What the database holds about one person, table by table (see :func:`read`)."""

    variants: AddressVariants
    tables: dict[str, list[Row]]

    @property
    def empty(self) -> bool:
        return not any(self.tables.values())


async def export_person(store: StoreOperations, variants: AddressVariants) -> PersonData:
    """Everything about the person, read in one transaction (one consistent snapshot)."""
    async with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            found = await find(conn, variants)
            return PersonData(variants, await read(conn, found))


async def erase_person(
    store: StoreOperations, variants: AddressVariants, *, drop_held: bool
) -> dict[str, int]:
    """Delete everything about the person in one transaction; rows removed per table.

    Raises :class:`ErasureRefused` (and changes nothing) while held or deferred mail for
    them waits for a decision, unless ``drop_held``: then it goes with the rest, never sent.
    """
    async with store.write_transaction() as conn:
        found = await find(conn, variants, lock=True)
        if found.waiting and not drop_held:
            raise ErasureRefused(found.waiting)
        removed = await erase(conn, found)
    if store.engine.dialect.name == "sqlite" and any(removed.values()):
        await _checkpoint(store)
    return {**removed, "held_dropped": len(found.waiting)}


async def _checkpoint(store: StoreOperations) -> None:
    """Copy the erasure into the SQLite file and empty the WAL.

    The deleted rows are zeroed (``secure_delete``, :mod:`mailguard.store.engine`) in the
    pages the erasure wrote to the WAL; until a checkpoint the file still holds the old
    pages, and the WAL's older frames the rows as they were written. ``TRUNCATE`` waits
    (``busy_timeout``) for the daemon's readers and writers to step aside.
    """
    async with store.engine.connect() as conn:
        row = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    if row is not None and row[0]:
        log.warning(
            "erasure_checkpoint_busy",
            detail="the SQLite WAL keeps the erased rows until its next checkpoint",
        )
