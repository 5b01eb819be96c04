"""A tiny script language for policy tests: a list of steps at explicit hours from T0."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mailguard.domain.model import Direction, Evidence, Kind
from mailguard.domain.policy import Decision, Event, Peer, Policy, decide, decide_tick
from mailguard.domain.state import CustomerState

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CUSTOMER = "kunde@example.org"
SUPPORT = frozenset({"support@example.com"})


def at(hours: float) -> datetime:
    """T0 plus a number of hours."""
    return T0 + timedelta(hours=hours)


@dataclass(frozen=True)
class Step:
    """One message (or a tick when ``what`` is "tick") at ``hours`` after T0.

    ``what``: "in" (customer, human), "in-auto" (customer side automated), "out" (our human
    reply), "out-auto" (our automation), "tick".
    """

    hours: float
    what: str
    frustration: float = 0.0
    mentioned: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    counterpart: str = CUSTOMER
    kind: Kind | None = None
    peers: tuple[Peer, ...] = field(default=())


def event_for(step: Step, index: int, mailbox: str = "support") -> Event:
    """The policy Event a step stands for."""
    direction = Direction.INBOUND if step.what.startswith("in") else Direction.OUTBOUND
    automated = step.what.endswith("auto")
    kind = step.kind or (Kind.AUTO_REPLY if automated else Kind.HUMAN)
    evidence = (
        (Evidence("angry", "third time I am writing", step.frustration),)
        if step.frustration
        else ()
    )
    return Event(
        direction=direction,
        automated=automated,
        at=at(step.hours),
        thread="thread-1",
        message_id=f"{mailbox}-m{index}@example",
        counterpart=step.counterpart,
        kind=kind,
        frustration=step.frustration,
        frustration_evidence=evidence,
        mentioned=step.mentioned,
        recipients=step.recipients,
        mailbox=mailbox,
        mailbox_addresses=SUPPORT
        if mailbox == "support"
        else frozenset({f"{mailbox}@example.com"}),
        peers=step.peers,
    )


def run(
    steps: list[Step], policy: Policy, state: CustomerState | None = None, mailbox: str = "support"
) -> tuple[list[Decision], CustomerState]:
    """Feed the steps through decide/decide_tick, with ``now`` = the step's time."""
    current = state or CustomerState()
    decisions: list[Decision] = []
    for index, step in enumerate(steps):
        if step.what == "tick":
            decision = decide_tick(current, policy, at(step.hours), mailbox)
        else:
            decision = decide(current, event_for(step, index, mailbox), policy, at(step.hours))
        decisions.append(decision)
        current = decision.state
    return decisions, current


def escalated_at(decisions: list[Decision]) -> list[int]:
    """Indexes of the steps whose decision opened an escalation."""
    return [i for i, d in enumerate(decisions) if d.escalated]


def kinds(decision: Decision) -> list[str]:
    """The action kinds of one decision, in order."""
    return [a.kind for a in decision.actions]
