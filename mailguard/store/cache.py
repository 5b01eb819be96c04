"""In-memory copies of the rows a unit of work or batch has read or written.

The entries are mutable on purpose: they are the transaction's working copy of a row,
updated in place by ``apply``, marked changed in the :class:`WorkCache`, and written
back by ``Work.flush``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from mailguard.store import tables as t

JsonDict = dict[str, Any]


@dataclass(slots=True)
class CustomerEntry:
    """The working copy of one ``customers`` row."""

    id: int
    mailbox: str
    address: str
    state: JsonDict | None
    next_due: datetime | None
    last_seen: datetime
    human_in: int = 0
    automated_in: int = 0
    human_out: int = 0
    automated_out: int = 0
    escalations: int = 0
    escalated: bool = False

    @staticmethod
    def columns() -> tuple[ColumnElement[Any], ...]:
        """The columns :meth:`from_row` reads, in order."""
        c = t.customers.c
        return (
            c.id,
            c.mailbox,
            c.address,
            c.policy_state,
            c.next_due,
            c.last_seen_at,
            c.human_in,
            c.automated_in,
            c.human_out,
            c.automated_out,
            c.escalations,
            c.state,
        )

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> CustomerEntry:
        """Build from a row selected with :meth:`columns`."""
        return cls(
            id=row[0],
            mailbox=row[1],
            address=row[2],
            state=row[3],
            next_due=row[4],
            last_seen=row[5],
            human_in=row[6],
            automated_in=row[7],
            human_out=row[8],
            automated_out=row[9],
            escalations=row[10],
            escalated=row[11] == "escalated",
        )

    @classmethod
    def new(cls, id_: int, mailbox: str, address: str, now: datetime) -> CustomerEntry:
        """The entry of a row just inserted with zero counters and no state."""
        return cls(id_, mailbox, address, None, None, now)

    @staticmethod
    def insert_values(mailbox: str, address: str, now: datetime) -> dict[str, Any]:
        """The column values of a new customer row, first and last seen ``now``."""
        return {
            "mailbox": mailbox,
            "address": address,
            "state": "ok",
            "human_in": 0,
            "automated_in": 0,
            "human_out": 0,
            "automated_out": 0,
            "escalations": 0,
            "policy_state": None,
            "next_due": None,
            "first_seen_at": now,
            "last_seen_at": now,
        }

    def count(self, *, inbound: bool, automated: bool) -> None:
        """Add one message to the summary counters."""
        if inbound:
            if automated:
                self.automated_in += 1
            else:
                self.human_in += 1
        elif automated:
            self.automated_out += 1
        else:
            self.human_out += 1

    def update_params(self) -> dict[str, Any]:
        """Bind parameters for the bulk ``UPDATE customers`` statement."""
        return {
            "b_id": self.id,
            "b_state": "escalated" if self.escalated else "ok",
            "b_human_in": self.human_in,
            "b_automated_in": self.automated_in,
            "b_human_out": self.human_out,
            "b_automated_out": self.automated_out,
            "b_escalations": self.escalations,
            "b_policy_state": self.state,
            "b_next_due": self.next_due,
            "b_last_seen": self.last_seen,
        }


@dataclass(slots=True)
class ThreadEntry:
    """The working copy of one ``threads`` row."""

    id: int
    customer_id: int
    root: str
    subject_key: str
    last_activity: datetime

    @staticmethod
    def columns() -> tuple[ColumnElement[Any], ...]:
        """The columns :meth:`from_row` reads, in order."""
        c = t.threads.c
        return (c.id, c.customer_id, c.root_message_id, c.subject_key, c.last_activity_at)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ThreadEntry:
        """Build from a row selected with :meth:`columns`."""
        return cls(*row)


@dataclass(slots=True)
class WorkCache:
    """Everything one unit of work or batch knows, plus the rows waiting for a flush."""

    customers: dict[tuple[str, str], CustomerEntry] = field(default_factory=dict)
    threads: dict[tuple[int, str], ThreadEntry] = field(default_factory=dict)
    by_subject: dict[tuple[int, str], list[ThreadEntry]] = field(default_factory=dict)
    # customer id -> Message-ID -> the thread the id is indexed for. Nested rather
    # than keyed by tuples: a replay indexes a few hundred thousand ids, and the
    # tuples alone would cost tens of megabytes.
    ids: dict[int, dict[str, ThreadEntry]] = field(default_factory=dict)
    # (mailbox, direction value) -> Message-IDs of every message recorded by this work.
    recorded: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    action_keys: set[str] = field(default_factory=set)
    # Entries changed since the last flush, by id.
    changed_customers: dict[int, CustomerEntry] = field(default_factory=dict)
    changed_threads: dict[int, ThreadEntry] = field(default_factory=dict)
    # Ids a batch allocates itself for new rows (it is the only writer).
    next_customer_id: int = 1
    next_thread_id: int = 1
    # Rows buffered for the next flush; new parents are written before the rest.
    new_customers: list[dict[str, Any]] = field(default_factory=list)
    new_threads: list[dict[str, Any]] = field(default_factory=list)
    thread_ids: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)

    def customer_changed(self, entry: CustomerEntry) -> None:
        """Schedule the customer row's update for the next flush."""
        self.changed_customers[entry.id] = entry

    def thread_changed(self, entry: ThreadEntry) -> None:
        """Schedule the thread row's update for the next flush."""
        self.changed_threads[entry.id] = entry

    def add_customer(self, entry: CustomerEntry) -> None:
        """Remember a customer row read or created by this work."""
        self.customers[(entry.mailbox, entry.address)] = entry

    def new_customer(self, mailbox: str, address: str, now: datetime) -> CustomerEntry:
        """Allocate an id for a new customer row, buffer its insert, remember it."""
        entry = CustomerEntry.new(self.next_customer_id, mailbox, address, now)
        self.next_customer_id += 1
        self.new_customers.append(
            {"id": entry.id, **CustomerEntry.insert_values(mailbox, address, now)}
        )
        self.add_customer(entry)
        return entry

    def allocate_thread(self, values: dict[str, Any]) -> int:
        """Allocate an id for a new thread row with ``values`` and buffer its insert."""
        new_id = self.next_thread_id
        self.next_thread_id += 1
        self.new_threads.append({"id": new_id, **values})
        return new_id

    def adopt_thread(self, entry: ThreadEntry) -> ThreadEntry:
        """Remember a thread row; an entry already held wins (it has newer values)."""
        key = (entry.customer_id, entry.root)
        held = self.threads.get(key)
        if held is not None:
            return held
        self.threads[key] = entry
        self.by_subject.setdefault((entry.customer_id, entry.subject_key), []).append(entry)
        return entry

    def is_recorded(self, mailbox: str, message_id: str, direction: str) -> bool:
        """True if this work recorded the message."""
        return message_id in self.recorded.get((mailbox, direction), ())

    def record(self, mailbox: str, message_id: str, direction: str) -> None:
        """Remember that this work recorded the message."""
        self.recorded.setdefault((mailbox, direction), set()).add(message_id)

    def clear_buffers(self) -> None:
        """Forget the rows a flush has written."""
        self.thread_ids.clear()
        self.messages.clear()
        self.actions.clear()
        self.decisions.clear()
        self.held.clear()
        self.changed_customers.clear()
        self.changed_threads.clear()
