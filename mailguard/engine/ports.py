"""The store port: what the engine (mailguard.engine.service) needs from persistence.

The engine processes one message as two store calls inside one transaction:

1. a *read phase* on a :class:`UnitOfWork`: :meth:`UnitOfWork.lock_customers` (create the
   customer rows if missing, lock them, return their serialised policy state),
   :meth:`UnitOfWork.is_recorded` (idempotency) and :meth:`UnitOfWork.find_thread`;
2. pure work (classification was done before; ``decide`` runs now);
3. a *write phase*: one :meth:`UnitOfWork.apply` call carrying everything the decision requires
   (the message row, the thread, the new customer states, escalations opened/resolved/notified,
   outbox actions, held raw bytes, the decision log), committed together with the locks taken
   in step 1.

Two ways to get a unit of work:

* :meth:`Store.unit_of_work` - one transaction for one event (the daemon). Entering begins the
  transaction, leaving normally commits, leaving by an exception rolls back everything done
  through it, including rows created by ``lock_customers``.
* :meth:`Store.batch` - many events per transaction (the offline audit, which replays 100,000
  messages and must reach >= 1000 msgs/s on SQLite). Per-event async round trips to the
  database are too slow for that, so a batch may keep an in-process cache and buffer writes,
  flushing every ``flush_every`` applied events and on exit. Reads through a batch MUST see the
  effect of every earlier ``apply`` in the same batch, flushed or not.

Everything the store keeps about the policy is opaque JSON produced by
``CustomerState.to_dict()`` (one JSON column), so the store never imports the policy.

Serialisation per customer (issue 4: concurrent events for one customer never lose updates):
on PostgreSQL ``lock_customers`` does ``INSERT .. ON CONFLICT DO NOTHING`` then
``SELECT .. FOR UPDATE`` on the customer rows, in ascending (mailbox, address) order so that two
transactions locking the same customers in several mailboxes cannot deadlock; on SQLite the
store allows one writing transaction at a time (e.g. ``BEGIN IMMEDIATE`` or a process-wide
lock held from entering the unit of work to commit).

All datetimes crossing this port are timezone-aware UTC; the store returns aware UTC too.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from mailguard.domain.model import Direction, Source

T = TypeVar("T")

JsonDict = dict[str, Any]
"""A JSON object as produced by ``json.loads`` (str keys; str/int/float/bool/None/list/dict)."""


@dataclass(frozen=True, slots=True)
class MessageKey:
    """What makes a message unique: the same key seen twice is one message (idempotency).

    ``message_id`` is the Message-ID without angle brackets or, when the message has none, a
    stable id the engine derives from a hash of its header block (``"mg-<hex>@derived"``), so a
    message without a Message-ID seen by the proxy and again in Sent is still one message.
    """

    mailbox: str
    message_id: str
    direction: Direction


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """One customer: a normalised external address within one guarded mailbox."""

    mailbox: str
    address: str


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """The "messages seen" row for one processed message.

    ``customer`` is None for mail that concerns no customer (internal mail, mail between the
    company's own addresses); such messages have no thread (``thread_root`` None).
    ``evidence`` is a JSON list of ``{"rule", "matched", "weight"}`` objects.
    """

    key: MessageKey
    source: Source
    customer: str | None
    thread_root: str | None
    kind: str
    automated: bool
    evidence: list[JsonDict]
    frustration: float
    at: datetime
    size: int
    subject: str
    sender: str | None


@dataclass(frozen=True, slots=True)
class ThreadWrite:
    """A thread to create or touch.

    A thread is identified by (mailbox, customer, root); ``root`` is the Message-ID of the
    first message the engine saw in it. ``message_ids`` are ids to index for the thread (the
    message's own id, its In-Reply-To and References).
    """

    mailbox: str
    customer: str
    root: str
    subject_key: str
    message_ids: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class StateWrite:
    """The new serialised policy state of one customer.

    ``next_due`` is the earliest time at which the policy wants a time-driven evaluation
    (an SLA deadline) for this customer, or None; :meth:`Store.due_for_tick` selects on it.
    """

    customer: CustomerRef
    state: JsonDict
    next_due: datetime | None


@dataclass(frozen=True, slots=True)
class EscalationOpen:
    """Open an escalation for a customer.

    ``rule`` is the policy rule name (e.g. "automated_streak"), ``evidence`` a JSON list of
    evidence objects. Escalations with the same non-None ``link_key`` are linked to each other
    (the referral ring escalates the customer in two mailboxes at once); the store stores the
    link (e.g. as a linked escalation id on each row).
    """

    customer: CustomerRef
    thread_root: str | None
    rule: str
    reason: str
    evidence: list[JsonDict]
    opened_at: datetime
    link_key: str | None = None
    notify_level: str = "primary"


@dataclass(frozen=True, slots=True)
class EscalationResolve:
    """Resolve every open escalation of a customer.

    ``resolved_by`` says what resolved it: "human_reply:<message-id>" or "handled:<who>".
    """

    customer: CustomerRef
    resolved_at: datetime
    resolved_by: str


@dataclass(frozen=True, slots=True)
class EscalationNotify:
    """Record that agents were (re-)notified about a customer's open escalations.

    Sets ``notify_level`` ("primary" or "secondary") and ``last_notified`` on every open
    escalation of the customer.
    """

    customer: CustomerRef
    level: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxAction:
    """An effect for the executor, written in the same transaction as the decision.

    ``kind`` is one of "escalate", "file_follow_up", "hold_outbound", "circuit_break",
    "notify", "resolve"
    (the executor maps them to IMAP moves/tags, notification mail, releases). ``target`` is
    what it acts on (a customer address, a counterpart address, a Message-ID).
    ``idempotency_key`` is unique across the outbox: enqueueing an action whose key already
    exists does nothing (a repeated event or a crash-and-retry never doubles an effect).
    """

    kind: str
    target: str
    idempotency_key: str
    payload: JsonDict
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """Raw bytes of an outbound message the policy holds, so nothing is lost.

    The envelope fields are known only for mail from the SMTP proxy; they are empty otherwise.
    """

    key: MessageKey
    raw: bytes
    reason: str
    held_at: datetime
    mail_from: str | None = None
    rcpt_tos: tuple[str, ...] = ()
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeferredMessage:
    """An automated reply from the proxy whose decision waits for the message it answers.

    Stored with its raw bytes and envelope like held mail (state "deferred"), so it survives
    a restart; decided once ``awaits`` (a Message-ID) is recorded in the same mailbox, or at
    ``decide_by`` without it (:mod:`mailguard.domain.deferral`).
    """

    key: MessageKey
    raw: bytes
    awaits: str
    decide_by: datetime
    at: datetime
    mail_from: str | None = None
    rcpt_tos: tuple[str, ...] = ()
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """The decision log entry for one message or tick, so every decision can be explained.

    ``message`` is None for a time-driven evaluation (SLA tick) or an agent's "handled" signal.
    ``rule_hits`` is a JSON list of ``{"rule", "evidence": [...], "detail"}`` objects.
    """

    customer: CustomerRef | None
    message: MessageKey | None
    rule_hits: list[JsonDict]
    explain: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EventWrite:
    """Everything one event changes, applied atomically by :meth:`UnitOfWork.apply`."""

    message: MessageRecord | None
    decision: DecisionRecord
    thread: ThreadWrite | None = None
    states: tuple[StateWrite, ...] = ()
    opened: tuple[EscalationOpen, ...] = ()
    resolved: tuple[EscalationResolve, ...] = ()
    notified: tuple[EscalationNotify, ...] = ()
    actions: tuple[OutboxAction, ...] = ()
    held: HeldMessage | None = None


DSN_PENDING = "pending"
"""A receipt's delivery status notification still to send."""


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """A relayed message's receipt to record (the proxy's, ``mailguard.smtp.receipts``;
    stored by ``mailguard.store.receipts``): the upstream's reply and refused recipients,
    with the delivery status notification still to send (state ``pending``)."""

    mailbox: str
    message_id: str
    direction: Direction
    envelope: str
    reply: str
    refused: Mapping[str, tuple[int, str]]
    now: datetime
    dsn: bytes | None = None
    dsn_to: str | None = None

    def values(self) -> dict[str, object]:
        """The row's values."""
        return {
            "mailbox": self.mailbox,
            "message_id": self.message_id,
            "direction": self.direction,
            "envelope": self.envelope,
            "reply": self.reply,
            "refused": {rcpt: [code, text] for rcpt, (code, text) in self.refused.items()},
            "relayed_at": self.now,
            "dsn": self.dsn,
            "dsn_to": self.dsn_to,
            "dsn_state": DSN_PENDING if self.dsn is not None else None,
            "dsn_attempts": 0,
        }


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message whose processing raised: kept with its raw bytes so it is never lost."""

    key: MessageKey
    source: Source
    raw: bytes
    error: str
    at: datetime


@dataclass(frozen=True, slots=True)
class LockedCustomers:
    """The result of :meth:`UnitOfWork.lock_customers`: serialised states per mailbox.

    ``states[mailbox]`` is the JSON last saved for (mailbox, address), or None for a customer
    row that was just created (or never had a state saved).
    """

    address: str
    states: Mapping[str, JsonDict | None] = field(default_factory=dict)


class UnitOfWork(Protocol):
    """One transaction (or, from :meth:`Store.batch`, a stream of buffered events)."""

    async def lock_customers(
        self, address: str, mailboxes: Sequence[str], now: datetime
    ) -> LockedCustomers:
        """Create missing customer rows for ``address`` in each of ``mailboxes`` and lock them.

        Rows are created with ``first_seen = now`` (and no state) if absent and then locked
        until the unit of work ends, in ascending (mailbox, address) order whatever the order
        of ``mailboxes``. Returns every requested mailbox in ``states``. Calling it again in
        the same unit of work for rows already locked is allowed and returns current states
        (including states written by ``apply`` earlier in the same unit of work/batch).
        """
        ...

    async def is_recorded(self, key: MessageKey) -> bool:
        """True if a message with exactly this (mailbox, message_id, direction) was recorded.

        Includes messages applied earlier in the same unit of work or batch. The engine calls
        it after ``lock_customers``, so for customer mail the answer cannot change before
        commit. Failed messages (``Store.record_failure``) do NOT count as recorded, so a
        retry of a failed message is processed.
        """
        ...

    async def find_thread(
        self,
        customer: CustomerRef,
        message_ids: Sequence[str],
        subject_key: str,
        active_since: datetime,
    ) -> str | None:
        """Return the root of the customer's thread this message belongs to, or None.

        1. If any of ``message_ids`` is indexed for a thread of this customer (same mailbox and
           address), return that thread's root; if several threads match, the one with the
           latest activity.
        2. Otherwise, if ``subject_key`` is not empty, return the root of the customer's thread
           with exactly this subject_key whose last activity is >= ``active_since``; if
           several, the one with the latest activity.
        3. Otherwise None (the engine then starts a new thread rooted at the message's id).
        Threads and ids written by ``apply`` earlier in the same unit of work/batch count.
        """
        ...

    async def apply(self, write: EventWrite) -> bool:
        """Apply one event's effects; return False if its message was already recorded.

        Order and semantics:
        1. If ``write.message`` is not None, insert it; if a message with the same key exists
           already, apply NOTHING else and return False.
        2. ``write.thread``: create the thread (mailbox, customer, root) if missing with
           ``subject_key`` and first/last activity ``at``; otherwise set its last activity to
           max(last activity, at). Index every id in ``message_ids`` for the thread (ids
           already indexed for the same customer and mailbox are left as they are).
        3. ``states``: save each serialised state and ``next_due`` on its customer row
           (creating the row if missing) and set the row's ``last_seen`` to the decision time.
        4. ``resolved`` before ``opened``: resolve all open escalations of each customer in
           ``resolved``, then open each escalation in ``opened`` (linking equal
           ``link_key``s, including to escalations opened in earlier events).
        5. ``notified``: update notify level / last notified of open escalations.
        6. ``actions``: enqueue each; a duplicate idempotency key is silently skipped.
        7. ``held``: store the raw bytes with state "held" (skip if already stored for the key,
           except that a deferred row for the key becomes held: see :meth:`defer`).
        8. ``decision``: append to the decision log.
        Returns True. In a unit of work nothing is visible to others until commit. In a batch
        the effects may be buffered but must be visible to later reads in the batch.
        """
        ...

    async def is_seen(self, mailbox: str, message_id: str) -> bool:
        """True if a message with this Message-ID was recorded in ``mailbox`` (either
        direction), or recorded as failed there: the watcher has seen it either way."""
        ...

    async def is_deferred(self, key: MessageKey) -> bool:
        """True if a message with this key is stored and waiting for its decision."""
        ...

    async def defer(self, deferred: DeferredMessage) -> None:
        """Store a reply whose decision waits (state "deferred"), unless the key is stored.

        A later ``apply`` of the same key with ``held`` turns the row "held" in that
        transaction; any other outcome leaves it to the proxy's deferral worker.
        """
        ...


class Store(Protocol):
    """Persistence for the engine. Implemented by ``mailguard.store``."""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """One transaction: commit on normal exit, roll back everything on an exception.

        Concurrent units of work for the same customer serialise on ``lock_customers``;
        units of work for different customers may run concurrently (PostgreSQL) or one after
        the other (SQLite).
        """
        ...

    async def transact(self, work: Callable[[UnitOfWork], Coroutine[Any, Any, T]]) -> T:
        """Run ``work(uow)`` on one unit of work and commit; roll back all of it if it raises.

        The same transaction as :meth:`unit_of_work`, in the shape the engine uses for its
        own work: the store may run the whole of it elsewhere (the SQL store runs a SQLite
        transaction on a thread of its own, in one hop of the event loop), so ``work`` must
        await nothing but the unit of work it is given.
        """
        ...

    def batch(self, *, flush_every: int = 1000) -> AbstractAsyncContextManager[UnitOfWork]:
        """Many events with buffered writes, committed every ``flush_every`` applied events.

        For offline replay (the audit) where nothing else writes the database. A normal exit
        flushes and commits the remainder. An exception escaping the batch rolls back only
        the unflushed part. The engine only calls ``apply`` for an event after all of that
        event's work succeeded, so an event that fails in the engine leaves no trace in the
        batch (``lock_customers`` on a fresh row may still have created an empty customer
        row, which is harmless).
        """
        ...

    async def due_for_tick(self, now: datetime, limit: int = 500) -> Sequence[CustomerRef]:
        """Customers whose saved ``next_due`` is <= ``now``, earliest first, at most ``limit``.

        Read-only, no locks: the engine locks each one in its own unit of work and
        re-evaluates, which writes a new ``next_due`` (possibly None).
        """
        ...

    async def record_failure(self, failure: FailedMessage) -> None:
        """Persist a message whose processing failed, with its raw bytes, in its own commit.

        Never raises for a duplicate: recording the same key again updates the error text and
        time. Failed messages are kept where a person can see them (e.g. held messages with
        state "failed"); they are not "recorded" for ``is_recorded``.
        """
        ...
