"""RFC 3834 between the company's own addresses: the internal mail loop, with no customer.

The loop helpdesks report most often has no customer in it: the support inbox's
auto-responder answers a company address that is itself a robot (the shop's no-reply order
notifier, a monitoring sender, the inbox's own address), which writes again. RFC 3834
section 2 applies whoever the counterpart is: an automatic response must not be sent to
automatically generated mail. So an automated message answering automated mail between
company addresses is held (when it passes through the proxy), every such exchange is a
``bot_ping_pong`` hit in the decision log (the audit reports it), and after
``max_exchanges`` within the window the counterpart is circuit-broken like any other.

The state of an internal conversation is kept like a customer's, keyed by the *counterpart*
(:func:`internal_party`): the other company address as seen from the guarded mailbox, or,
when the mailbox's own addresses are unknown (an audit given only ``--own-domain``), the
pair ``a <-> b``. Each history entry's ``counterpart`` holds the entry's *sender*, so the
rule can tell which side wrote what. Only automated internal mail is followed: people
mailing each other inside the company are none of the policy's business.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from mailguard.domain.model import Evidence
from mailguard.domain.policy_model import (
    CircuitBreak,
    Decision,
    Event,
    HoldOutbound,
    Notify,
    NotifyLevel,
    Policy,
    RuleHit,
)
from mailguard.domain.policy_rules import span
from mailguard.domain.state import Breaker, CustomerState, Entry


@dataclass(frozen=True, slots=True)
class InternalParty:
    """Who an internal message is exchanged with (the state's key) and who sent it."""

    counterpart: str
    sender: str


def internal_party(
    sender: str | None, recipients: Sequence[str], mailbox_addresses: Collection[str]
) -> InternalParty | None:
    """The counterpart of a message between company addresses, or None if it has none.

    With the mailbox's addresses known: a message the mailbox sent is exchanged with its
    first other recipient (or with itself, when it writes to itself); a message to the
    mailbox, with its sender; mail that does not involve the mailbox has no counterpart.
    Without them, the two addresses form the key.
    """
    if not sender:
        return None
    sender = sender.lower()
    rcpts = [r.lower() for r in recipients]
    if mailbox_addresses:
        if sender in mailbox_addresses:
            other = next((r for r in rcpts if r not in mailbox_addresses), None)
            if other is None and sender in rcpts:
                other = sender  # the inbox answering itself
            return InternalParty(other, sender) if other else None
        if any(r in mailbox_addresses for r in rcpts):
            return InternalParty(sender, sender)
        return None
    other = next((r for r in rcpts if r != sender), sender if sender in rcpts else None)
    if other is None:
        return None
    low, high = sorted((sender, other))
    return InternalParty(low if low == high else f"{low} <-> {high}", sender)


def _answered(earlier: Sequence[Entry], sender: str, self_loop: bool) -> Entry | None:
    """The latest earlier message of the other side (of anyone, for a self-loop)."""
    for entry in reversed(earlier):
        if self_loop or entry.counterpart != sender:
            return entry
    return None


def _exchanges(history: Sequence[Entry], since: datetime, self_loop: bool) -> list[Entry]:
    """Automated messages within the window that answered automated mail of the other side."""
    found = []
    previous: Entry | None = None
    for entry in sorted(history, key=lambda e: e.at):
        if (
            previous is not None
            and entry.at >= since
            and entry.automated
            and previous.automated
            and (self_loop or previous.counterpart != entry.counterpart)
        ):
            found.append(entry)
        previous = entry
    return found


def decide_internal(
    state: CustomerState, event: Event, sender: str, policy: Policy, now: datetime
) -> Decision:
    """Decide one automated message between company addresses (see the module docstring).

    ``event.counterpart`` is the conversation's key (:func:`internal_party`), ``sender`` the
    address that wrote this message.
    """
    if state.has_seen(event.message_id, event.direction):
        return Decision(state, explain=f"{event.message_id} already processed", duplicate=True)
    state = state.pruned(now, policy.retention)
    earlier = [e for e in state.history if e.at <= event.at]
    state = state.with_entry(
        Entry(
            at=event.at,
            direction=event.direction,
            automated=event.automated,
            kind=event.kind,
            thread=event.thread,
            message_id=event.message_id,
            counterpart=sender,
        )
    )
    head = (
        f"internal {event.kind.value} {event.message_id} from {sender} "
        f"at {event.at.isoformat()} (counterpart {event.counterpart})"
    )
    rule = policy.bot_ping_pong
    if not rule.enabled or not event.automated:
        return Decision(state, explain=f"{head}\nno rule hit")
    cp = event.counterpart
    breaker = state.breaker_for(cp, now)
    if breaker is not None:
        ev = Evidence("circuit_open", f"{cp} circuit-broken until {breaker.until.isoformat()}")
        hit = RuleHit("bot_ping_pong", (ev,), f"automated mail with {cp} held: circuit open")
        hold = HoldOutbound(event.message_id, hit.detail)
        return Decision(state, (hold,), (hit,), f"{head}\nhit bot_ping_pong: {hit.detail}")
    self_loop = sender == cp
    answered = _answered(earlier, sender, self_loop)
    if answered is None or not answered.automated:
        return Decision(state, explain=f"{head}\nno rule hit")
    exchanges = _exchanges(state.history, now - rule.window, self_loop)
    evidence = (
        Evidence(
            "rfc3834_auto_to_auto",
            f"{answered.kind.value} {answered.message_id} from {answered.counterpart}",
        ),
        *(
            Evidence("automated_exchange", f"automated {e.message_id} from {e.counterpart}")
            for e in exchanges
        ),
    )
    detail = (
        f"automated reply from {sender} to automated {answered.kind.value} from "
        f"{answered.counterpart} held (RFC 3834 §2; company addresses, no customer)"
    )
    trip = len(exchanges) >= rule.max_exchanges
    if trip:
        detail += f"; {len(exchanges)} exchanges within {span(rule.window)}: circuit-broken"
    hit = RuleHit("bot_ping_pong", evidence, detail)
    actions: list[HoldOutbound | CircuitBreak | Notify] = [HoldOutbound(event.message_id, detail)]
    if trip:
        until = now + rule.cooldown
        breakers = (*(b for b in state.breakers if b.counterpart != cp), Breaker(cp, until))
        state = replace(state, breakers=breakers)
        actions += [
            CircuitBreak(cp, until, detail),
            Notify(NotifyLevel.PRIMARY, detail, event.mailbox, "bot_ping_pong"),
        ]
    lines = [head, f"hit bot_ping_pong: {detail}"]
    lines += [f"action {a.kind}: {a.reason}" for a in actions]
    return Decision(state, tuple(actions), (hit,), "\n".join(lines))
