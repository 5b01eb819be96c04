"""Typed rows the store hands to the adapters (IMAP watcher, outbox executor, SMTP
release, ``mailguard explain``), so none of them needs to know the ORM or the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailguard.domain.model import Direction

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far the IMAP watcher has read one folder (RFC 3501 UIDs, RFC 7162 MODSEQ).

    A checkpoint is only valid while the folder's UIDVALIDITY is unchanged; the watcher
    compares it and starts the folder over when the server reports a new one.
    """

    mailbox: str
    folder: str
    uidvalidity: int
    last_uid: int
    highestmodseq: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class PendingAction:
    """An outbox action waiting for the executor."""

    id: int
    kind: str
    target: str
    idempotency_key: str
    payload: JsonDict
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HeldMail:
    """A held message with everything needed to release it as it was submitted."""

    id: int
    mailbox: str
    message_id: str
    direction: Direction
    raw: bytes
    envelope_sender: str | None
    envelope_recipients: tuple[str, ...]
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]
    reason: str
    state: str
    held_at: datetime
    awaits: str | None = None
    """A deferred reply: the Message-ID it waits for."""
    decide_by: datetime | None = None
    """A deferred reply: when it is decided without that message."""
    updated_at: datetime | None = None
    """When its state last changed (for a released one: when it was claimed)."""


@dataclass(frozen=True, slots=True)
class DeferredMail:
    """A deferred reply due for its decision: ``seen`` says whether the message it answers
    was recorded (else its time is up)."""

    held: HeldMail
    seen: bool


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One entry of the decision log, as ``mailguard explain`` shows it."""

    mailbox: str | None
    customer: str | None
    message_id: str | None
    direction: Direction | None
    rule_hits: list[JsonDict]
    explain: str
    decided_at: datetime
