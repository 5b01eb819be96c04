"""The individual loop-policy rules, each a pure function of the state, the event and ``now``.

Every rule returns a :class:`RuleHit` carrying the evidence that made it fire (or None), so a
decision never escalates without evidence. The orchestration (which hit opens an escalation,
resets, SLA) lives in :mod:`mailguard.domain.policy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailguard.domain.model import Direction, Evidence
from mailguard.domain.policy_model import (
    AsksForHumanRule,
    Event,
    FrustrationRule,
    Peer,
    PingPongRule,
    ReferralRingRule,
    RepeatContactRule,
    RuleHit,
    StreakRule,
)
from mailguard.domain.state import CustomerState, Entry


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def span(delta: timedelta) -> str:
    """A duration as people write it: "14 d", "48 h", "9 h 54 min"."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days and not rest:
        return f"{days} d"
    hours += days * 24
    return f"{hours} h {mins} min" if mins else f"{hours} h"


def _recent(history: Iterable[Entry], since: datetime) -> list[Entry]:
    return [e for e in history if e.at >= since]


def automated_streak(state: CustomerState, rule: StreakRule, now: datetime) -> RuleHit | None:
    """N human messages within the window, each answered only by an automated reply.

    A human message counts as answered when an automated reply follows it before the
    customer's next message; a message the customer sends twice before the robot answers
    counts once. The history holds no human reply (a human reply resets it).
    """
    if not rule.enabled:
        return None
    pairs: list[tuple[Entry, Entry]] = []
    pending: Entry | None = None
    for entry in _recent(state.history, now - rule.window):
        if entry.human_inbound:
            pending = entry
        elif entry.auto_outbound and pending is not None:
            pairs.append((pending, entry))
            pending = None
    if len(pairs) < rule.min_messages:
        return None
    evidence = tuple(
        Evidence(
            "automated_streak",
            f"customer message {h.message_id} at {_stamp(h.at)} answered only by "
            f"{a.kind.value} {a.message_id} at {_stamp(a.at)}",
        )
        for h, a in pairs
    )
    return RuleHit(
        "automated_streak",
        evidence,
        f"{len(pairs)} customer messages answered only by automation "
        f"(threshold {rule.min_messages} within {span(rule.window)})",
    )


def repeat_contact(state: CustomerState, rule: RepeatContactRule, now: datetime) -> RuleHit | None:
    """M human messages from the customer within the window and no human reply."""
    if not rule.enabled:
        return None
    mine = [e for e in _recent(state.history, now - rule.window) if e.human_inbound]
    if len(mine) < rule.min_messages:
        return None
    evidence = tuple(
        Evidence("repeat_contact", f"customer message {e.message_id} at {_stamp(e.at)}")
        for e in mine
    )
    return RuleHit(
        "repeat_contact",
        evidence,
        f"{len(mine)} customer messages without a human reply "
        f"(threshold {rule.min_messages} within {span(rule.window)})",
    )


def frustration(event: Event, rule: FrustrationRule) -> RuleHit | None:
    """An inbound human message whose frustration score reaches the threshold."""
    if not rule.enabled or event.direction is not Direction.INBOUND or event.automated:
        return None
    if event.frustration < rule.threshold:
        return None
    evidence = event.frustration_evidence or (
        Evidence("frustration_score", f"{event.frustration:.2f}", event.frustration),
    )
    return RuleHit(
        "frustration",
        evidence,
        f"frustration {event.frustration:.2f} >= {rule.threshold:.2f} in {event.message_id}",
    )


def asks_for_human(event: Event, rule: AsksForHumanRule) -> RuleHit | None:
    """An inbound human message in which the customer asks for a person.

    The classifier records the phrase as evidence ``asks_for_human`` (see
    ``mailguard.domain.frustration``); a message with it escalates at once.
    """
    if not rule.enabled or event.direction is not Direction.INBOUND or event.automated:
        return None
    found = tuple(e for e in event.evidence if e.rule == "asks_for_human")
    if not found:
        return None
    return RuleHit(
        "asks_for_human",
        found,
        f"the customer asks for a person ({found[0].matched!r}) in {event.message_id}",
    )


@dataclass(frozen=True, slots=True)
class PingPongOutcome:
    """What ``bot_ping_pong`` found for an outbound automated message."""

    hit: RuleHit
    hold: bool
    trip: bool


def _exchanges(history: Sequence[Entry], counterpart: str, since: datetime) -> list[Entry]:
    """Automated replies of ours that answered an automated message of ``counterpart``."""
    answers: list[Entry] = []
    pending = False
    for entry in _recent(history, since):
        if entry.counterpart != counterpart:
            continue
        if entry.direction is Direction.INBOUND:
            pending = entry.automated
        elif entry.automated and pending:
            answers.append(entry)
            pending = False
    return answers


def bot_ping_pong(
    state: CustomerState, event: Event, rule: PingPongRule, now: datetime
) -> PingPongOutcome | None:
    """Outbound automation answering inbound automation (the state already holds ``event``).

    RFC 3834 section 2: automatic responses must not be sent to automatically generated mail,
    so such a reply is held. Reaching ``max_exchanges`` such replies to one counterpart within
    the window trips the circuit breaker. While a breaker is open every outbound automated
    message to the counterpart is held.
    """
    if not rule.enabled or event.direction is not Direction.OUTBOUND or not event.automated:
        return None
    cp = event.counterpart
    breaker = state.breaker_for(cp, now)
    if breaker is not None:
        ev = Evidence("circuit_open", f"{cp} circuit-broken until {breaker.until.isoformat()}")
        return PingPongOutcome(
            RuleHit("bot_ping_pong", (ev,), f"automated mail to {cp} held: circuit open"),
            hold=True,
            trip=False,
        )
    earlier = [e for e in state.history if e.at <= event.at and e.message_id != event.message_id]
    last_in = next(
        (e for e in reversed(earlier) if e.direction is Direction.INBOUND and e.counterpart == cp),
        None,
    )
    if last_in is None or not last_in.automated:
        return None
    exchanges = _exchanges(state.history, cp, now - rule.window)
    evidence = tuple(
        Evidence("automated_exchange", f"automated reply {e.message_id} at {_stamp(e.at)}")
        for e in exchanges
    )
    evidence = (
        Evidence("rfc3834_auto_to_auto", f"{last_in.kind.value} {last_in.message_id} from {cp}"),
        *evidence,
    )
    trip = len(exchanges) >= rule.max_exchanges
    detail = f"automated reply to automated {last_in.kind.value} from {cp} held (RFC 3834 §2)"
    if trip:
        detail += f"; {len(exchanges)} exchanges within {span(rule.window)}: circuit-broken"
    return PingPongOutcome(RuleHit("bot_ping_pong", evidence, detail), hold=True, trip=trip)


def _stuck(entries: Sequence[Entry]) -> bool:
    """The customer wrote and got only automated answers (the history has no human reply)."""
    return any(e.human_inbound for e in entries) and any(e.auto_outbound for e in entries)


def _referrals(entries: Iterable[Entry]) -> dict[str, Entry]:
    """Addresses our automated replies sent the customer to, with the first such reply."""
    found: dict[str, Entry] = {}
    for entry in entries:
        if entry.auto_outbound:
            for ref in entry.refs:
                found.setdefault(ref, entry)
    return found


@dataclass(frozen=True, slots=True)
class RingOutcome:
    """A referral ring: the hit and the peer mailboxes to escalate in as well."""

    hit: RuleHit
    peers: tuple[Peer, ...]


def _ring_with_peer(
    mine: Sequence[Entry], event: Event, peer: Peer, since: datetime
) -> tuple[Evidence, ...]:
    theirs = _recent(peer.state.history, since)
    if not _stuck(theirs):
        return ()
    ours_named = {a: e for a, e in _referrals(mine).items() if a in peer.addresses}
    theirs_named = {a: e for a, e in _referrals(theirs).items() if a in event.mailbox_addresses}
    if not ours_named and not theirs_named:
        return ()
    evidence = [
        Evidence("referral", f"automated reply {e.message_id} here names {addr}")
        for addr, e in ours_named.items()
    ]
    evidence += [
        Evidence("referral", f"automated reply {e.message_id} in {peer.mailbox} names {addr}")
        for addr, e in theirs_named.items()
    ]
    evidence.append(
        Evidence("answered_only_automatically", f"{peer.mailbox}: no human reply either")
    )
    return tuple(evidence)


def _ring_with_partner(
    mine: Sequence[Entry], event: Event, rule: ReferralRingRule
) -> tuple[Evidence, ...]:
    partners = {a.lower() for a in rule.partner_addresses}
    named = {a: e for a, e in _referrals(mine).items() if a in partners}
    if not named:
        return ()
    first = min(e.at for e in named.values())
    # Proof that the customer went to the partner and came back: a later message of theirs
    # copies or names the partner, or names our own address (a forwarded partner reply
    # "please contact the shop at support@...").
    back = [
        e
        for e in mine
        if e.human_inbound and e.at > first and set(e.refs) & (partners | event.mailbox_addresses)
    ]
    if not back:
        return ()
    evidence = [
        Evidence("referral", f"automated reply {e.message_id} names partner {addr}")
        for addr, e in named.items()
    ]
    evidence += [
        Evidence("returned", f"customer message {e.message_id} names {', '.join(e.refs)}")
        for e in back
    ]
    return tuple(evidence)


def referral_ring(
    state: CustomerState, event: Event, rule: ReferralRingRule, now: datetime
) -> RingOutcome | None:
    """Automation sends the customer to another guarded mailbox or partner and back.

    Fires when the customer, within the window, got only automated answers here, and either
    (a) also only automated answers in another guarded mailbox, with an automated reply on
    either side naming the other mailbox's address; or (b) an automated reply here named a
    configured partner address and a later message of the customer shows they went there.
    """
    if not rule.enabled:
        return None
    since = now - rule.window
    mine = _recent(state.history, since)
    if not _stuck(mine):
        return None
    evidence: list[Evidence] = []
    peers: list[Peer] = []
    for peer in event.peers:
        found = _ring_with_peer(mine, event, peer, since)
        if found:
            evidence.extend(found)
            peers.append(peer)
    evidence.extend(_ring_with_partner(mine, event, rule))
    if not evidence:
        return None
    where = ", ".join(p.mailbox for p in peers) or "partner"
    return RingOutcome(
        RuleHit("referral_ring", tuple(evidence), f"customer bounced between robots ({where})"),
        tuple(peers),
    )


def entry_refs(event: Event, partners: frozenset[str]) -> tuple[str, ...]:
    """The ring-relevant addresses an event names or copies (see :class:`Entry`)."""
    relevant = set(event.mailbox_addresses) | {a.lower() for a in partners}
    for peer in event.peers:
        relevant |= peer.addresses
    named = {a for a in event.mentioned if a in relevant}
    if event.direction is Direction.INBOUND and not event.automated:
        named |= {a for a in event.recipients if a in partners}
    return tuple(sorted(named))
