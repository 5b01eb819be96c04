"""SQLAlchemy 2 declarative models: everything mailguard remembers between messages.

One table per thing the engine reasons about. Every constraint is named through the
MetaData naming convention, so migrations can drop and alter them by name on both
SQLite and PostgreSQL. Timestamps are :class:`UTCDateTime` (aware UTC in and out).

The schema itself is owned by the Alembic migrations in ``mailguard/migrations``; a
test compares this metadata with the migrated schema so the two cannot drift apart.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mailguard.domain.model import Direction, Source
from mailguard.store.types import UTCDateTime

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# RFC 5322 §2.1.1 caps a line at 998 characters, so no header value (a Message-ID,
# an address) can be longer; this keeps the unique indexes bounded.
HEADER_LEN = 998
ADDRESS_LEN = 320  # RFC 5321 §4.5.3.1: 64 local-part + "@" + 255 domain
NAME_LEN = 200


class OutboxState(enum.StrEnum):
    """Lifecycle of an outbox action: the executor moves it out of ``pending``."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class HeldState(enum.StrEnum):
    """Lifecycle of a message the SMTP proxy held instead of relaying.

    ``deferred``: an automated reply stored until the watcher has recorded the message it
    answers (``awaits``); then decided, it becomes ``held`` or, relayed, ``released``.
    """

    HELD = "held"
    RELEASED = "released"
    DISCARDED = "discarded"
    DEFERRED = "deferred"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    # Stored as VARCHAR plus a named CHECK constraint rather than a native PostgreSQL
    # ENUM: adding a value later is then a plain constraint swap in a migration, and
    # the same DDL works on SQLite.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base carrying the shared, naming-conventioned metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # none_as_null: Python None is SQL NULL, not the JSON text "null", so that
    # "no policy state yet" can be found with IS NULL.
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(none_as_null=True),
        list[Any]: JSON(none_as_null=True),
    }


class SyncCheckpoint(Base):
    """How far the IMAP watcher has read one folder of one mailbox (RFC 3501, RFC 7162)."""

    __tablename__ = "sync_checkpoints"
    __table_args__ = (UniqueConstraint("mailbox", "folder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    folder: Mapped[str] = mapped_column(String(HEADER_LEN))
    # UIDVALIDITY and UIDs are unsigned 32-bit, MODSEQ 63-bit: only BIGINT holds them.
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime]


class ServerLimit(Base):
    """What a mailbox's IMAP server lacks (no keywords, no IDLE, ...) or where Sent is.

    Kept for ``mailguard status``; replaced by the watcher whenever it learns something new
    about the server, so a mailbox has at most a handful of rows.
    """

    __tablename__ = "server_limits"
    __table_args__ = (UniqueConstraint("mailbox", "feature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    feature: Mapped[str] = mapped_column(String(NAME_LEN))
    detail: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Customer(Base):
    """A normalised external address within one guarded mailbox, with its policy state."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("mailbox", "address"),
        # A customer across the mailboxes (``mailguard status --customer``, "handled" in
        # every mailbox): without it a scan of mailboxes x customers rows (issue 23).
        Index("ix_customers_address", "address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    address: Mapped[str] = mapped_column(String(ADDRESS_LEN))
    # "ok" or "escalated" (an escalation is open). It and the counters are a queryable
    # summary the repository maintains for reports and operators; ``policy_state`` is
    # the policy's own serialised CustomerState, the only thing decide() reads back.
    state: Mapped[str] = mapped_column(String(32), default="ok")
    human_in: Mapped[int] = mapped_column(Integer, default=0)
    automated_in: Mapped[int] = mapped_column(Integer, default=0)
    human_out: Mapped[int] = mapped_column(Integer, default=0)
    automated_out: Mapped[int] = mapped_column(Integer, default=0)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    policy_state: Mapped[dict[str, Any] | None]
    # When the policy next wants a time-driven evaluation (an SLA deadline).
    next_due: Mapped[datetime | None] = mapped_column(index=True)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Thread(Base):
    """A conversation of one customer, identified by the first Message-ID seen in it."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("customer_id", "root_message_id"),
        # Fallback threading looks up "same customer, same subject, recently active".
        Index("ix_threads_customer_subject", "customer_id", "subject_key", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    root_message_id: Mapped[str] = mapped_column(String(HEADER_LEN))
    subject_key: Mapped[str] = mapped_column(String(HEADER_LEN), default="")
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]


class ThreadMessageId(Base):
    """Maps each Message-ID seen in a customer's thread to it, so References find it."""

    __tablename__ = "thread_message_ids"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    message_id: Mapped[str] = mapped_column(String(HEADER_LEN), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)


class Message(Base):
    """One message mailguard has processed; the unique key makes processing idempotent."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "message_id", "direction"),
        Index("ix_messages_customer_sent", "customer_id", "sent_at"),
        # Retention purges by age across all mailboxes.
        Index("ix_messages_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    message_id: Mapped[str] = mapped_column(String(HEADER_LEN))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    source: Mapped[Source] = mapped_column(_enum(Source, "source"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(
        ForeignKey("threads.id", ondelete="SET NULL"), index=True
    )
    # The classifier owns the list of kinds, so a new kind needs no migration here.
    kind: Mapped[str] = mapped_column(String(32))
    automated: Mapped[bool] = mapped_column(Boolean)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    frustration: Mapped[float] = mapped_column(Float, default=0.0)
    sender: Mapped[str | None] = mapped_column(String(ADDRESS_LEN))
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime]
    size: Mapped[int] = mapped_column(Integer, default=0)


class Escalation(Base):
    """A thread handed to a person, why, and whether (and by whom) it was resolved."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_customer_resolved", "customer_id", "resolved_at"),
        # Retention and the operators' "open escalations" view scan by resolution.
        Index("ix_escalations_resolved_opened", "resolved_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(HEADER_LEN))
    # The referral ring escalates one person in two mailboxes at once: both rows carry
    # the same link key and point at each other.
    link_key: Mapped[str | None] = mapped_column(String(HEADER_LEN), index=True)
    linked_escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL")
    )
    notify_level: Mapped[str] = mapped_column(String(16), default="primary")
    last_notified_at: Mapped[datetime | None]


class OutboxAction(Base):
    """An effect a decision requires, written in the decision's transaction (outbox)."""

    __tablename__ = "outbox_actions"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_actions_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(HEADER_LEN))
    # A crash between performing and marking done repeats the action; the key lets
    # the writer and the executor recognise the repeat (DESIGN.md "Effects").
    idempotency_key: Mapped[str] = mapped_column(String(HEADER_LEN))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[OutboxState] = mapped_column(
        _enum(OutboxState, "outbox_state"), default=OutboxState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the agents were told that this failed action is about to expire (retention).
    noticed_at: Mapped[datetime | None]


class HeldMessage(Base):
    """An outbound message the policy held instead of relaying: raw bytes, so none is lost."""

    __tablename__ = "held_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "message_id", "direction"),
        Index("ix_held_messages_state_held", "state", "held_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    message_id: Mapped[str] = mapped_column(String(HEADER_LEN))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    # The SMTP envelope (RFC 5321 MAIL FROM / RCPT TO and their ESMTP parameters) is
    # needed to release the message exactly as it was submitted; IMAP mail has none.
    envelope_sender: Mapped[str | None] = mapped_column(String(ADDRESS_LEN))
    envelope_recipients: Mapped[list[Any]] = mapped_column(default=list)
    mail_options: Mapped[list[Any]] = mapped_column(default=list)
    rcpt_options: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[HeldState] = mapped_column(_enum(HeldState, "held_state"), default=HeldState.HELD)
    held_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A deferred reply: the Message-ID it waits for and when it is decided without it.
    awaits: Mapped[str | None] = mapped_column(String(HEADER_LEN))
    decide_by: Mapped[datetime | None]
    # A replica deciding a deferred reply claims it until then (the others skip it); a
    # claim left by a process that died expires, and the reply is picked up again.
    claimed_until: Mapped[datetime | None]
    # When the agents were told that this held reply is about to be dropped (retention).
    noticed_at: Mapped[datetime | None]


class FailedMessage(Base):
    """A message whose processing raised, kept with its raw bytes where a person sees it."""

    __tablename__ = "failed_messages"
    __table_args__ = (UniqueConstraint("mailbox", "message_id", "direction"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    message_id: Mapped[str] = mapped_column(String(HEADER_LEN))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    source: Mapped[Source] = mapped_column(_enum(Source, "source"))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    # When the agents were told that this failed message is about to expire (retention).
    noticed_at: Mapped[datetime | None]


class DecisionRecord(Base):
    """Why the engine did what it did for one event: the rules that hit, with evidence."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_customer_decided", "customer_id", "decided_at"),
        # `mailguard explain <message-id>` looks decisions up by message.
        Index("ix_decisions_mailbox_message", "mailbox", "message_id"),
        Index("ix_decisions_decided_at", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str | None] = mapped_column(String(NAME_LEN))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # The message is referenced by its natural key rather than a foreign key: the
    # decision log outlives purged messages and explains ticks that have no message.
    message_id: Mapped[str | None] = mapped_column(String(HEADER_LEN))
    direction: Mapped[Direction | None] = mapped_column(_enum(Direction, "direction"))
    rule_hits: Mapped[list[Any]] = mapped_column(default=list)
    explain: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime]


class RelayReceipt(Base):
    """The upstream's 250 for a message the proxy relayed, written before the client's 250.

    A client that retries a message already relayed (its 250 was lost to a crash or a
    dropped connection) is answered 250 from here instead of relaying the message again.
    ``envelope`` is a digest of the sender and the recipients, so the same Message-ID sent
    to other recipients is relayed. ``dsn``: the delivery status notification (RFC 3464) for
    recipients the upstream refused for good, until it was sent (``dsn_state``).
    """

    __tablename__ = "relay_receipts"
    __table_args__ = (
        UniqueConstraint("mailbox", "message_id", "direction", "envelope"),
        Index("ix_relay_receipts_dsn_state", "dsn_state"),
        Index("ix_relay_receipts_relayed_at", "relayed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(NAME_LEN))
    message_id: Mapped[str] = mapped_column(String(HEADER_LEN))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    envelope: Mapped[str] = mapped_column(String(64))
    reply: Mapped[str] = mapped_column(Text)
    refused: Mapped[dict[str, Any]] = mapped_column(default=dict)
    relayed_at: Mapped[datetime]
    dsn: Mapped[bytes | None] = mapped_column(LargeBinary)
    dsn_to: Mapped[str | None] = mapped_column(String(ADDRESS_LEN))
    dsn_state: Mapped[str | None] = mapped_column(String(16))
    dsn_attempts: Mapped[int] = mapped_column(Integer, default=0)
