"""What the audit report needs to know about one replayed message.

The engine (``mailguard.engine.service``) produces much richer results; the audit only keeps
this flat, frozen summary so that a replay of 100,000 messages never has to hold the
engine's state objects. The policy side adapts its results into ``AuditRecord``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mailguard.domain.model import Direction, Kind


@dataclass(frozen=True, slots=True)
class RuleHit:
    """One named policy rule that hit on this message, with the evidence it recorded."""

    rule: str
    evidence: str


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """The outcome of replaying one message through the engine, as the report sees it.

    ``customer`` is None for mail that belongs to no customer (internal mail, mail
    between company addresses). ``escalated`` names the rule that opened an
    escalation for this customer in ``mailbox`` on this message; for the referral
    ring the same message may open linked escalations in other guarded mailboxes,
    listed in ``linked_mailboxes``. ``resolved`` is True when this message resolved
    the customer's open escalation (a human reply). ``held`` is True when the engine
    would have held this outbound message instead of sending it.
    """

    mailbox: str
    customer: str | None
    direction: Direction
    at: datetime
    kind: Kind
    automated: bool
    sender: str | None
    subject: str
    thread_id: str | None
    message_id: str | None
    rule_hits: tuple[RuleHit, ...] = ()
    escalated: str | None = None
    linked_mailboxes: tuple[str, ...] = ()
    resolved: bool = False
    held: bool = False
    frustration: float = 0.0
    origin: str = ""

    def __post_init__(self) -> None:
        # Naive datetimes would make every comparison in the report a TypeError or,
        # worse, silently compare local time with UTC; refuse them at the boundary.
        if self.at.tzinfo is None:
            raise ValueError("AuditRecord.at must be timezone-aware")
        if self.escalated is None and self.linked_mailboxes:
            raise ValueError("linked_mailboxes needs an escalation rule in 'escalated'")

    @property
    def at_utc(self) -> datetime:
        """The message time converted to UTC, the report's only time zone."""
        return self.at.astimezone(UTC)
