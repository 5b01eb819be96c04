"""Value types shared across the domain: message kinds, evidence and classifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """What sort of message this is, as far as a support desk cares."""

    HUMAN = "human"
    AUTO_REPLY = "auto_reply"
    OUT_OF_OFFICE = "out_of_office"
    BOUNCE = "bounce"
    BULK = "bulk"
    TICKET_ACK = "ticket_ack"
    NOTIFICATION = "notification"
    CHALLENGE_RESPONSE = "challenge_response"

    @property
    def automated(self) -> bool:
        """Every kind except ``human`` is written by a machine."""
        return self is not Kind.HUMAN


class Direction(StrEnum):
    """Whether a message came to the guarded mailbox or left it."""

    INBOUND = "in"
    OUTBOUND = "out"


class Source(StrEnum):
    """Where mailguard saw a message."""

    IMAP = "imap"
    SMTP = "smtp"
    AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One named rule that fired, with the text it matched and how much it weighs."""

    rule: str
    matched: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict on one message, with the evidence behind it."""

    kind: Kind
    automated: bool
    confidence: float
    language: str | None
    evidence: tuple[Evidence, ...] = ()
    frustration: float = 0.0
    frustration_evidence: tuple[Evidence, ...] = field(default=())
    malformed: bool = False
