"""The statements and row builders the unit of work executes.

Every statement is built once per dialect and executed with bound parameters, so
SQLAlchemy compiles it once and serves it from its cache afterwards; a statement
built per call with ``.values(...)`` would be re-compiled every time, which at
thousands of events a second costs more than the database does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from sqlalchemy import (
    CompoundSelect,
    Executable,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from mailguard.engine.ports import DecisionRecord as DecisionWrite
from mailguard.engine.ports import (
    DeferredMessage,
    EscalationOpen,
    HeldMessage,
    MessageRecord,
    OutboxAction,
)
from mailguard.store import tables as t
from mailguard.store.cache import CustomerEntry, ThreadEntry

JsonDict = dict[str, Any]


class Rows(Protocol):
    """What the unit of work reads from a statement's result."""

    def __iter__(self) -> Iterator[Any]: ...

    def first(self) -> Any: ...

    def one(self) -> Any: ...

    def scalar(self) -> Any: ...

    def scalar_one(self) -> Any: ...


class Db(Protocol):
    """The connection a unit of work talks to: an ``AsyncConnection``, or an
    :class:`~mailguard.store.inline.InlineConnection` on the store's SQLite thread."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> Rows: ...

    async def exec_driver_sql(self, statement: str, parameters: Any = None) -> Rows: ...


def insert_ignore(dialect: str, table: Table, *index_elements: str) -> Insert:
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for ``dialect``."""
    elements = list(index_elements)
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=elements)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=elements)


def _b(name: str) -> Any:
    return bindparam(name)


@dataclass(frozen=True, slots=True)
class Statements:
    """Every statement of :class:`mailguard.store.work.Work`, for one dialect."""

    insert_customer: Insert
    insert_customers: Insert
    select_customer: Select[Any]
    lock_customer: Select[Any]
    update_customers: Update
    is_recorded: Select[Any]
    insert_new_thread: Insert
    insert_threads: Insert
    thread_by_root: Select[Any]
    threads_by_ids: Select[Any]
    threads_by_ids_or_subject: CompoundSelect[Any]
    thread_by_subject_row: Select[Any]
    update_threads: Update
    insert_thread_ids: Insert
    insert_message: Insert
    insert_messages: Insert
    set_message_thread: Update
    insert_actions: Insert
    insert_decisions: Insert
    insert_escalation: Insert
    insert_escalations: Insert
    resolve_by_id: Update
    notify_by_id: Update
    link_back: Update
    link_partner: Select[Any]
    resolve: Update
    notify: Update
    insert_held: Insert
    insert_deferred: Insert
    is_seen: Select[Any]
    is_deferred: Select[Any]
    max_ids: Select[Any]


@cache
def statements(dialect: str) -> Statements:
    """The statements for ``dialect`` ("sqlite" or "postgresql"), built once."""
    cust, thr, ids, msg, esc = (
        t.customers.c,
        t.threads.c,
        t.thread_message_ids.c,
        t.messages.c,
        t.escalations.c,
    )
    customer_by_key = select(*CustomerEntry.columns()).where(
        cust.mailbox == _b("b_mailbox"), cust.address == _b("b_address")
    )
    threads_by_ids = (
        select(ids.message_id, *ThreadEntry.columns())
        .join(t.threads, ids.thread_id == thr.id)
        .where(
            ids.customer_id == _b("b_customer"),
            ids.message_id.in_(bindparam("b_ids", expanding=True)),
        )
    )
    thread_by_subject = (
        select(*ThreadEntry.columns())
        .where(
            thr.customer_id == _b("b_customer"),
            thr.subject_key == _b("b_subject"),
            thr.last_activity_at >= _b("b_since"),
        )
        .order_by(thr.last_activity_at.desc(), thr.id.desc())
        .limit(1)
    )
    latest_by_subject = thread_by_subject.subquery()
    return Statements(
        insert_customer=insert_ignore(dialect, t.customers, "mailbox", "address").returning(
            cust.id
        ),
        insert_customers=t.customers.insert(),
        select_customer=customer_by_key,
        # SELECT … FOR UPDATE serialises events for one customer on PostgreSQL; SQLite
        # renders no lock clause: its single writer holds the database lock.
        lock_customer=customer_by_key.with_for_update(),
        update_customers=update(t.customers)
        .where(cust.id == _b("b_id"))
        .values(
            state=_b("b_state"),
            human_in=_b("b_human_in"),
            automated_in=_b("b_automated_in"),
            human_out=_b("b_human_out"),
            automated_out=_b("b_automated_out"),
            escalations=_b("b_escalations"),
            policy_state=_b("b_policy_state"),
            next_due=_b("b_next_due"),
            last_seen_at=_b("b_last_seen"),
        ),
        is_recorded=select(msg.id)
        .where(
            msg.mailbox == _b("b_mailbox"),
            msg.message_id == _b("b_message_id"),
            msg.direction == _b("b_direction"),
        )
        .limit(1),
        # A unit of work inserts a new thread without looking first: a thread with the
        # same root (made by another writer meanwhile, or kept although retention purged
        # its ids) makes it insert nothing and read that row instead.
        insert_new_thread=insert_ignore(
            dialect, t.threads, "customer_id", "root_message_id"
        ).returning(thr.id),
        insert_threads=t.threads.insert(),
        thread_by_root=select(*ThreadEntry.columns()).where(
            thr.customer_id == _b("b_customer"), thr.root_message_id == _b("b_root")
        ),
        threads_by_ids=threads_by_ids,
        # Both lookups of find_thread in one statement: the threads the ids are indexed
        # for (with the id), then the latest active thread with the subject (id NULL).
        threads_by_ids_or_subject=union_all(
            threads_by_ids,
            select(null().label("message_id"), *latest_by_subject.c),
        ),
        # The subject's part alone, in the same row shape (for a lookup without ids).
        thread_by_subject_row=select(null().label("message_id"), *latest_by_subject.c),
        update_threads=update(t.threads)
        .where(thr.id == _b("b_id"))
        .values(last_activity_at=_b("b_last")),
        insert_thread_ids=insert_ignore(dialect, t.thread_message_ids, "customer_id", "message_id"),
        insert_message=insert_ignore(
            dialect, t.messages, "mailbox", "message_id", "direction"
        ).returning(msg.id),
        insert_messages=t.messages.insert(),
        set_message_thread=update(t.messages)
        .where(msg.id == _b("b_id"))
        .values(thread_id=_b("b_thread")),
        insert_actions=insert_ignore(dialect, t.outbox_actions, "idempotency_key"),
        insert_decisions=t.decisions.insert(),
        insert_escalation=t.escalations.insert().returning(esc.id),
        insert_escalations=t.escalations.insert(),
        resolve_by_id=update(t.escalations)
        .where(esc.id == _b("b_id"), esc.resolved_at.is_(None))
        .values(resolved_at=_b("b_at"), resolved_by=_b("b_by")),
        notify_by_id=update(t.escalations)
        .where(esc.id == _b("b_id"))
        .values(notify_level=_b("b_level"), last_notified_at=_b("b_at")),
        # Point the earlier escalation of a ring back at the new one unless it is
        # linked already.
        link_back=update(t.escalations)
        .where(esc.id == _b("b_id"), esc.linked_escalation_id.is_(None))
        .values(linked_escalation_id=_b("b_link")),
        link_partner=select(func.max(esc.id)).where(esc.link_key == _b("b_key")),
        resolve=update(t.escalations)
        .where(esc.customer_id == _b("b_customer"), esc.resolved_at.is_(None))
        .values(resolved_at=_b("b_at"), resolved_by=_b("b_by")),
        notify=update(t.escalations)
        .where(esc.customer_id == _b("b_customer"), esc.resolved_at.is_(None))
        .values(notify_level=_b("b_level"), last_notified_at=_b("b_at")),
        insert_held=_insert_held(dialect),
        insert_deferred=insert_ignore(
            dialect, t.held_messages, "mailbox", "message_id", "direction"
        ),
        # Recorded, or recorded as failed (the watcher saw it and could not judge it).
        is_seen=union_all(
            select(msg.id).where(
                msg.mailbox == _b("b_mailbox"), msg.message_id == _b("b_message_id")
            ),
            select(t.failed_messages.c.id).where(
                t.failed_messages.c.mailbox == _b("b_mailbox"),
                t.failed_messages.c.message_id == _b("b_message_id"),
            ),
        )
        .subquery()
        .select()
        .limit(1),
        is_deferred=select(t.held_messages.c.id)
        .where(
            t.held_messages.c.mailbox == _b("b_mailbox"),
            t.held_messages.c.message_id == _b("b_message_id"),
            t.held_messages.c.direction == _b("b_direction"),
            t.held_messages.c.state == literal_column("'deferred'"),
        )
        .limit(1),
        max_ids=select(
            select(func.coalesce(func.max(cust.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(thr.id), 0)).scalar_subquery(),
            select(func.coalesce(func.max(esc.id), 0)).scalar_subquery(),
        ),
    )


def _insert_held(dialect: str) -> Insert:
    """Insert a held message; a deferred row with its key becomes held (the decision came).

    Any other existing row stays as it is: a message is held once. The state in the WHERE is
    a literal so that the statement's only parameters are the row's columns (executemany).
    """
    h = t.held_messages
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(h)
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=["mailbox", "message_id", "direction"],
        set_={
            "state": stmt.excluded.state,
            "reason": stmt.excluded.reason,
            "updated_at": stmt.excluded.updated_at,
            "claimed_until": null(),
        },
        where=h.c.state == literal_column("'deferred'"),
    )
    return upsert


@dataclass(frozen=True, slots=True)
class _Positional:
    sql: str
    names: tuple[str, ...]
    # (position, bind processor) for the parameters whose type converts values.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]


_positional_cache: dict[tuple[Insert | Update, str, tuple[str, ...]], _Positional] = {}


def _positional(statement: Insert | Update, dialect: Dialect, keys: tuple[str, ...]) -> _Positional:
    cache_key = (statement, dialect.name, keys)
    found = _positional_cache.get(cache_key)
    if found is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = tuple(compiled.positiontup or ())
        processors = []
        for position, name in enumerate(names):
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors.append((position, processor))
        found = _Positional(compiled.string, names, tuple(processors))
        _positional_cache[cache_key] = found
    return found


async def executemany(conn: Db, statement: Insert | Update, rows: Sequence[JsonDict]) -> None:
    """Execute ``statement`` once per row of ``rows`` (dicts with identical keys).

    Equivalent to ``conn.execute(statement, rows)``, but binds each row through the
    column types' own bind processors into a positional tuple, instead of SQLAlchemy's
    general per-row parameter machinery: that machinery, not the database, was most of
    the cost of a batch flush.
    """
    if not rows:
        return
    plan = _positional(statement, conn.dialect, tuple(rows[0]))
    names, processors = plan.names, plan.processors
    params: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[name] for name in names]
        for position, processor in processors:
            values[position] = processor(values[position])
        params.append(tuple(values))
    await conn.exec_driver_sql(plan.sql, params)


def message_row(message: MessageRecord, customer_id: int | None, thread_id: int | None) -> JsonDict:
    """The ``messages`` row of a message record."""
    return {
        "mailbox": message.key.mailbox,
        "message_id": message.key.message_id,
        "direction": message.key.direction,
        "source": message.source,
        "customer_id": customer_id,
        "thread_id": thread_id,
        "kind": message.kind,
        "automated": message.automated,
        "evidence": message.evidence,
        "frustration": message.frustration,
        "sender": message.sender,
        "subject": message.subject,
        "sent_at": message.at,
        "size": message.size,
    }


def action_row(action: OutboxAction) -> JsonDict:
    """The ``outbox_actions`` row of a new, pending action."""
    return {
        "kind": action.kind,
        "target": action.target,
        "idempotency_key": action.idempotency_key,
        "payload": action.payload,
        "state": "pending",
        "attempts": 0,
        "last_error": None,
        "created_at": action.created_at,
        "updated_at": action.created_at,
    }


def decision_row(decision: DecisionWrite, customer_id: int | None) -> JsonDict:
    """The ``decisions`` row of a decision log entry."""
    key = decision.message
    mailbox = key.mailbox if key is not None else None
    if mailbox is None and decision.customer is not None:
        mailbox = decision.customer.mailbox
    return {
        "mailbox": mailbox,
        "customer_id": customer_id,
        "message_id": None if key is None else key.message_id,
        "direction": None if key is None else key.direction,
        "rule_hits": decision.rule_hits,
        "explain": decision.explain,
        "decided_at": decision.at,
    }


def escalation_row(
    opening: EscalationOpen, customer_id: int, thread_id: int | None, partner: int | None
) -> JsonDict:
    """The ``escalations`` row of a new escalation."""
    return {
        "customer_id": customer_id,
        "thread_id": thread_id,
        "rule": opening.rule,
        "reason": opening.reason,
        "evidence": opening.evidence,
        "opened_at": opening.opened_at,
        "resolved_at": None,
        "resolved_by": None,
        "link_key": opening.link_key,
        "linked_escalation_id": partner,
        "notify_level": opening.notify_level,
        "last_notified_at": None,
    }


def held_row(held: HeldMessage) -> JsonDict:
    """The ``held_messages`` row of a newly held message."""
    return {
        "mailbox": held.key.mailbox,
        "message_id": held.key.message_id,
        "direction": held.key.direction,
        "raw": held.raw,
        "envelope_sender": held.mail_from,
        "envelope_recipients": list(held.rcpt_tos),
        "mail_options": list(held.mail_options),
        "rcpt_options": list(held.rcpt_options),
        "reason": held.reason,
        "state": "held",
        "held_at": held.held_at,
        "updated_at": held.held_at,
    }


def deferred_row(deferred: DeferredMessage) -> JsonDict:
    """The ``held_messages`` row of a reply stored until the message it answers is seen."""
    return {
        "mailbox": deferred.key.mailbox,
        "message_id": deferred.key.message_id,
        "direction": deferred.key.direction,
        "raw": deferred.raw,
        "envelope_sender": deferred.mail_from,
        "envelope_recipients": list(deferred.rcpt_tos),
        "mail_options": list(deferred.mail_options),
        "rcpt_options": list(deferred.rcpt_options),
        "reason": f"deferred: waiting for <{deferred.awaits}>",
        "state": "deferred",
        "held_at": deferred.at,
        "updated_at": deferred.at,
        "awaits": deferred.awaits,
        "decide_by": deferred.decide_by,
        "claimed_until": None,
    }


async def is_empty(conn: Db) -> bool:
    """True when the database holds no customer, message, thread or escalation yet."""
    for table in ("customers", "messages", "threads", "escalations"):
        # Table names are constants from this module, never input.
        found = await conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))  # noqa: S608
        if found.first() is not None:
            return False
    return True
