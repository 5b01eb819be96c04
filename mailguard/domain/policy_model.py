"""The loop policy's vocabulary: its knobs, the events it sees, and the decisions it makes.

The knob names are the YAML names (``automated_streak``, ``repeat_contact``, ...); the config
loader maps YAML onto these frozen dataclasses one to one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from mailguard.domain.model import Direction, Evidence, Kind, Source
from mailguard.domain.state import CustomerState


@dataclass(frozen=True, slots=True)
class StreakRule:
    """``automated_streak``: N human messages in a row answered only by automation."""

    enabled: bool = True
    min_messages: int = 2
    window: timedelta = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class RepeatContactRule:
    """``repeat_contact``: M human messages without any human reply, automation or not."""

    enabled: bool = True
    min_messages: int = 3
    window: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class PingPongRule:
    """``bot_ping_pong``: automation answering automation; circuit-break after K exchanges."""

    enabled: bool = True
    max_exchanges: int = 3
    window: timedelta = timedelta(hours=24)
    cooldown: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class ReferralRingRule:
    """``referral_ring``: two robots sending the customer to each other."""

    enabled: bool = True
    window: timedelta = timedelta(days=14)
    partner_addresses: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FrustrationRule:
    """``frustration``: an angry human message goes to a person at once."""

    enabled: bool = True
    threshold: float = 0.6


@dataclass(frozen=True, slots=True)
class AsksForHumanRule:
    """``asks_for_human``: a customer who asks for a person goes to one at once."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class SlaRule:
    """``sla``: re-notify after ``first``; notify the secondary address after ``second`` more."""

    enabled: bool = True
    first: timedelta = timedelta(hours=8)
    second: timedelta = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Policy:
    """All loop-policy knobs, with the defaults of issue 4."""

    automated_streak: StreakRule = StreakRule()
    repeat_contact: RepeatContactRule = RepeatContactRule()
    bot_ping_pong: PingPongRule = PingPongRule()
    referral_ring: ReferralRingRule = ReferralRingRule()
    frustration: FrustrationRule = FrustrationRule()
    asks_for_human: AsksForHumanRule = AsksForHumanRule()
    sla: SlaRule = SlaRule()
    thread_window: timedelta = timedelta(days=14)
    fold_plus_tags: bool = True
    escalated_outbound: str = "hold"
    """What happens to an automated reply to an escalated customer: hold, rewrite or divert."""

    @property
    def retention(self) -> timedelta:
        """How far back a customer's state must remember: the largest rule window."""
        return max(
            self.automated_streak.window,
            self.repeat_contact.window,
            self.bot_ping_pong.window,
            self.referral_ring.window,
        )


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's name and what it means, for ``mailguard explain`` and the audit report."""

    name: str
    description: str


RULES: Mapping[str, RuleInfo] = {
    info.name: info
    for info in (
        RuleInfo(
            "automated_streak",
            "The customer sent several messages in a row and every one was answered only by "
            "automated replies, with no human reply in between.",
        ),
        RuleInfo(
            "repeat_contact",
            "The customer wrote several times within a short period and no person answered, "
            "whether or not automation replied.",
        ),
        RuleInfo(
            "bot_ping_pong",
            "Automation answering automation: such replies are held (RFC 3834 section 2), and "
            "after repeated exchanges the counterpart is circuit-broken for a cool-down.",
        ),
        RuleInfo(
            "referral_ring",
            "Automated replies send the customer to another mailbox or partner, which answers "
            "only automatically too; escalated in both places, linked.",
        ),
        RuleInfo(
            "frustration",
            "A customer's message reads as angry or desperate: it goes to a person at once.",
        ),
        RuleInfo(
            "asks_for_human",
            'A customer asks for a person (a human, an agent, a call back, "not a robot"): '
            "the message goes to a person at once.",
        ),
        RuleInfo(
            "sla",
            "An escalation got no human reply in time: agents are reminded, then the secondary "
            "address is notified.",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Peer:
    """The same customer address in another guarded mailbox (for the referral ring)."""

    mailbox: str
    addresses: frozenset[str]
    state: CustomerState


@dataclass(frozen=True, slots=True)
class Event:
    """One message between the company and a customer, as the policy sees it.

    ``counterpart`` is the customer's address (the external side). ``mentioned`` are addresses
    named in the message text, ``recipients`` the other addresses it was sent or copied to.
    ``mailbox_addresses`` are the addresses of the guarded mailbox the event belongs to and
    ``peers`` the customer's state in the company's other guarded mailboxes; the engine fills
    both so the referral ring can see across mailboxes.
    """

    direction: Direction
    automated: bool
    at: datetime
    thread: str
    message_id: str
    counterpart: str
    kind: Kind = Kind.HUMAN
    frustration: float = 0.0
    frustration_evidence: tuple[Evidence, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    mentioned: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    mailbox: str = ""
    source: Source = Source.IMAP
    mailbox_addresses: frozenset[str] = frozenset()
    peers: tuple[Peer, ...] = ()


class NotifyLevel(StrEnum):
    """Who is told about an escalation."""

    PRIMARY = "primary"
    SECONDARY = "secondary"


@dataclass(frozen=True, slots=True)
class Escalate:
    """Hand the customer to a person (IMAP move/tag and a notification)."""

    rule: str
    reason: str
    mailbox: str
    thread: str
    link_key: str | None = None
    kind: str = "escalate"


@dataclass(frozen=True, slots=True)
class HoldOutbound:
    """Do not deliver this outbound automated message; keep it for a person."""

    message_id: str
    reason: str
    kind: str = "hold_outbound"


@dataclass(frozen=True, slots=True)
class RewriteOutbound:
    """Deliver this automated reply, but handed over: rewritten, or diverted to the agents.

    The proxy performs it while the client waits (``divert`` False: headers, subject prefix
    and a handover sentence; True: sent to the agents' address instead of the customer, with
    ``kind`` "divert_outbound").
    """

    message_id: str
    reason: str
    divert: bool = False
    kind: str = "rewrite_outbound"


@dataclass(frozen=True, slots=True)
class CircuitBreak:
    """Hold all outbound automated mail to ``counterpart`` until ``until``."""

    counterpart: str
    until: datetime
    reason: str
    kind: str = "circuit_break"


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell agents (primary) or the secondary address about a customer."""

    level: NotifyLevel
    reason: str
    mailbox: str
    rule: str = ""
    kind: str = "notify"


@dataclass(frozen=True, slots=True)
class Resolve:
    """The customer's escalations are resolved (a person answered or marked it handled)."""

    by: str
    mailbox: str
    reason: str
    kind: str = "resolve"


@dataclass(frozen=True, slots=True)
class FileFollowUp:
    """The escalated customer wrote again: file the new message where the agents now work.

    Unlike :class:`Escalate` it opens nothing and adds no note or notification: the message
    joins the escalation (folder, keyword, flag) so it does not sit unseen in the inbox.
    """

    message_id: str
    mailbox: str
    thread: str
    reason: str
    kind: str = "file_follow_up"


Action = Escalate | HoldOutbound | RewriteOutbound | CircuitBreak | Notify | Resolve | FileFollowUp


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired for this event, with the evidence that made it fire."""

    rule: str
    evidence: tuple[Evidence, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy decided for one event: the new state, actions and why.

    ``peer_states`` holds new states for the same customer in other guarded mailboxes
    (mailbox -> state) when a rule, the referral ring, changed them too.
    """

    state: CustomerState
    actions: tuple[Action, ...] = ()
    hits: tuple[RuleHit, ...] = ()
    explain: str = ""
    peer_states: Mapping[str, CustomerState] = field(default_factory=dict)
    duplicate: bool = False

    @property
    def escalated(self) -> bool:
        """True if this decision opens an escalation."""
        return any(isinstance(a, Escalate) for a in self.actions)

    @property
    def held(self) -> bool:
        """True if this decision holds the event's outbound message."""
        return any(isinstance(a, HoldOutbound) for a in self.actions)

    @property
    def rewrite(self) -> RewriteOutbound | None:
        """How this decision hands the outbound message over instead of holding it, if so."""
        return next((a for a in self.actions if isinstance(a, RewriteOutbound)), None)

    @property
    def resolved(self) -> bool:
        """True if this decision resolves the customer's escalations."""
        return any(isinstance(a, Resolve) for a in self.actions)
