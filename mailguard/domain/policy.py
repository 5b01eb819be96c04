"""The loop policy: ``decide(state, event, policy, now) -> Decision``, pure and clock-free.

Semantics (issue 4):

* A customer's counters are the history since the last reset. A human outbound reply to the
  customer, or an agent's "handled" signal, resolves every open escalation of the customer in
  that mailbox and resets the history. Escalations and counters are per customer, not per
  thread: the rules describe a customer who is stuck, whichever subject they write under, and
  a person who writes to the customer has seen them.
* At most one escalation per customer is open at a time: while one is open, further rule hits
  are recorded in the decision (with evidence) but do not notify again; the SLA clock of the
  open escalation keeps running. Automated outbound mail to an escalated customer is held,
  including the reply that completed the streak, so the customer's next answer is a person's.
* The same message (Message-ID and direction) decided twice changes nothing.
* ``decide_tick`` is the time-driven evaluation (SLA) the daemon runs periodically for the
  customers whose ``next_due`` has passed; ``decide`` catches up on overdue SLA stages too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from mailguard.domain.model import Direction, Evidence
from mailguard.domain.policy_model import (
    RULES,
    Action,
    AsksForHumanRule,
    CircuitBreak,
    Decision,
    Escalate,
    Event,
    FileFollowUp,
    FrustrationRule,
    HoldOutbound,
    Notify,
    NotifyLevel,
    Peer,
    PingPongRule,
    Policy,
    ReferralRingRule,
    RepeatContactRule,
    Resolve,
    RewriteOutbound,
    RuleHit,
    RuleInfo,
    SlaRule,
    StreakRule,
)
from mailguard.domain.policy_rules import (
    asks_for_human,
    automated_streak,
    bot_ping_pong,
    entry_refs,
    frustration,
    referral_ring,
    repeat_contact,
    span,
)
from mailguard.domain.state import Breaker, CustomerState, Entry, OpenEscalation

__all__ = [
    "RULES",
    "Action",
    "AsksForHumanRule",
    "CircuitBreak",
    "CustomerState",
    "Decision",
    "Escalate",
    "Event",
    "FileFollowUp",
    "FrustrationRule",
    "HoldOutbound",
    "Notify",
    "NotifyLevel",
    "Peer",
    "PingPongRule",
    "Policy",
    "ReferralRingRule",
    "RepeatContactRule",
    "Resolve",
    "RewriteOutbound",
    "RuleHit",
    "RuleInfo",
    "SlaRule",
    "StreakRule",
    "decide",
    "decide_handled",
    "decide_tick",
    "next_due",
]


def next_due(state: CustomerState, policy: Policy) -> datetime | None:
    """When the SLA next needs a look at this customer, or None."""
    if not policy.sla.enabled:
        return None
    dues = []
    for esc in state.escalations:
        if esc.stage == 0:
            dues.append(esc.opened_at + policy.sla.first)
        elif esc.stage == 1:
            dues.append(esc.opened_at + policy.sla.first + policy.sla.second)
    return min(dues, default=None)


def _sla(
    state: CustomerState, policy: Policy, now: datetime, mailbox: str
) -> tuple[CustomerState, list[RuleHit], list[Action]]:
    """Advance overdue SLA stages of open escalations (reminder, then secondary)."""
    rule = policy.sla
    if not rule.enabled or not state.escalations:
        return state, [], []
    hits: list[RuleHit] = []
    actions: list[Action] = []
    updated: list[OpenEscalation] = []
    for esc in state.escalations:
        second_due = esc.opened_at + rule.first + rule.second
        if esc.stage < 2 and now >= second_due:
            level, stage = NotifyLevel.SECONDARY, 2
        elif esc.stage < 1 and now >= esc.opened_at + rule.first:
            level, stage = NotifyLevel.PRIMARY, 1
        else:
            updated.append(esc)
            continue
        waited = now - esc.opened_at
        ev = Evidence(
            "sla", f"{esc.rule} escalation opened {esc.opened_at.isoformat()}, no human reply"
        )
        hits.append(RuleHit("sla", (ev,), f"no human reply {span(waited)} after escalation"))
        actions.append(
            Notify(level, f"{esc.rule} escalation unanswered for {span(waited)}", mailbox, "sla")
        )
        updated.append(replace(esc, stage=stage, notified_at=now))
    return replace(state, escalations=tuple(updated)), hits, actions


def _reset(state: CustomerState, at: datetime) -> CustomerState:
    return replace(state, history=(), escalations=(), last_human_reply=at)


def _resolve(
    state: CustomerState, by: str, mailbox: str, reason: str, at: datetime
) -> tuple[CustomerState, list[Action]]:
    actions: list[Action] = [Resolve(by, mailbox, reason)] if state.escalations else []
    return _reset(state, at), actions


def _resolve_linked(
    state: CustomerState, peers: tuple[Peer, ...], by: str, at: datetime
) -> tuple[dict[str, CustomerState], list[Action]]:
    """Resolve and reset the peers whose escalations are linked to this customer's.

    A referral ring escalates in two mailboxes, linked; once a person answers in one of
    them the ring is broken, so the linked escalation in the other mailbox is resolved too.
    """
    links = {e.link_key for e in state.escalations if e.link_key}
    peer_states: dict[str, CustomerState] = {}
    actions: list[Action] = []
    for peer in peers:
        if links and any(e.link_key in links for e in peer.state.escalations):
            peer_states[peer.mailbox] = _reset(peer.state, at)
            actions.append(Resolve(by, peer.mailbox, "linked escalation resolved"))
    return peer_states, actions


def _explain(event: Event | None, hits: list[RuleHit], actions: list[Action], head: str) -> str:
    lines = [head]
    if event is not None:
        who = "automated" if event.automated else "human"
        lines[0] = (
            f"{event.direction.value} {who} {event.kind.value} {event.message_id} "
            f"at {event.at.isoformat()} in thread {event.thread}"
        )
    lines += [f"hit {h.rule}: {h.detail}" for h in hits]
    lines += [f"action {a.kind}: {getattr(a, 'reason', '')}" for a in actions]
    if not hits and not actions:
        lines.append("no rule hit")
    return "\n".join(lines)


def _open(
    state: CustomerState, hit: RuleHit, thread: str, now: datetime, link: str | None
) -> CustomerState:
    esc = OpenEscalation(hit.rule, hit.detail, now, thread, 0, now, link)
    return replace(state, escalations=(*state.escalations, esc))


def _escalation_hits(
    state: CustomerState, event: Event, policy: Policy, now: datetime
) -> tuple[list[RuleHit], tuple[Peer, ...]]:
    """Every escalating rule that hits, in priority order (the first one opens)."""
    hits: list[RuleHit] = []
    peers: tuple[Peer, ...] = ()
    # A customer's own words come first: asking for a person, then anger.
    for found in (
        asks_for_human(event, policy.asks_for_human),
        frustration(event, policy.frustration),
    ):
        if found:
            hits.append(found)
    ring = referral_ring(state, event, policy.referral_ring, now)
    if ring:
        hits.append(ring.hit)
        peers = ring.peers
    for hit in (
        automated_streak(state, policy.automated_streak, now),
        repeat_contact(state, policy.repeat_contact, now),
    ):
        if hit:
            hits.append(hit)
    return hits, peers


def _escalate(
    state: CustomerState, event: Event, policy: Policy, now: datetime
) -> tuple[CustomerState, list[RuleHit], list[Action], dict[str, CustomerState]]:
    hits, peers = _escalation_hits(state, event, policy, now)
    actions: list[Action] = []
    peer_states: dict[str, CustomerState] = {}
    if not hits:
        return state, hits, actions, peer_states
    first = hits[0]
    link = None
    if first.rule == "referral_ring" and peers:
        boxes = sorted({event.mailbox, *(p.mailbox for p in peers)})
        link = f"referral_ring:{event.counterpart}:{'+'.join(boxes)}:{now.isoformat()}"
    if not state.escalations:
        state = _open(state, first, event.thread, now, link)
        actions += [
            Escalate(first.rule, first.detail, event.mailbox, event.thread, link),
            Notify(NotifyLevel.PRIMARY, first.detail, event.mailbox, first.rule),
        ]
    if first.rule == "referral_ring":
        for peer in peers:
            if peer.state.escalations:
                continue
            thread = peer.state.history[-1].thread if peer.state.history else event.thread
            peer_states[peer.mailbox] = _open(peer.state, first, thread, now, link)
            actions += [
                Escalate(first.rule, first.detail, peer.mailbox, thread, link),
                Notify(NotifyLevel.PRIMARY, first.detail, peer.mailbox, first.rule),
            ]
    return state, hits, actions, peer_states


def _outbound_automation(
    state: CustomerState, event: Event, policy: Policy, now: datetime
) -> tuple[CustomerState, list[RuleHit], list[Action]]:
    """RFC 3834 holds and the circuit breaker for an outbound automated message."""
    outcome = bot_ping_pong(state, event, policy.bot_ping_pong, now)
    if outcome is None:
        return state, [], []
    actions: list[Action] = [HoldOutbound(event.message_id, outcome.hit.detail)]
    if outcome.trip:
        until = now + policy.bot_ping_pong.cooldown
        breakers = (
            *(b for b in state.breakers if b.counterpart != event.counterpart),
            Breaker(event.counterpart, until),
        )
        state = replace(state, breakers=breakers)
        actions += [
            CircuitBreak(event.counterpart, until, outcome.hit.detail),
            Notify(NotifyLevel.PRIMARY, outcome.hit.detail, event.mailbox, "bot_ping_pong"),
        ]
    return state, [outcome.hit], actions


def decide(state: CustomerState, event: Event, policy: Policy, now: datetime) -> Decision:
    """Decide what one message means for its customer (see the module docstring)."""
    if state.has_seen(event.message_id, event.direction):
        return Decision(state, explain=f"{event.message_id} already processed", duplicate=True)
    state = state.pruned(now, policy.retention)
    if event.direction is Direction.OUTBOUND and not event.automated:
        by = f"human_reply:{event.message_id}"
        peer_states, linked = _resolve_linked(state, event.peers, by, event.at)
        seen = (*state.seen, (event.message_id, event.direction.value, event.at))
        state, actions = _resolve(
            replace(state, seen=seen),
            by,
            event.mailbox,
            "a person replied to the customer",
            event.at,
        )
        actions += linked
        explain = _explain(event, [], actions, "")
        return Decision(state, tuple(actions), (), explain, peer_states)
    entry = Entry(
        at=event.at,
        direction=event.direction,
        automated=event.automated,
        kind=event.kind,
        thread=event.thread,
        message_id=event.message_id,
        counterpart=event.counterpart,
        refs=entry_refs(event, policy.referral_ring.partner_addresses),
    )
    state = state.with_entry(entry)
    state, hits, actions = _sla(state, policy, now, event.mailbox)
    state, pp_hits, pp_actions = _outbound_automation(state, event, policy, now)
    escalated_before = state.escalations
    state, esc_hits, esc_actions, peer_states = _escalate(state, event, policy, now)
    if event.direction is Direction.INBOUND and escalated_before:
        # The customer wrote again while a person has the case: the message goes where the
        # agents work instead of waiting unseen in the inbox (no second note or alert).
        esc = escalated_before[0]
        reason = f"customer escalated ({esc.rule}) wrote again"
        esc_actions.append(FileFollowUp(event.message_id, event.mailbox, esc.thread, reason))
    hits += pp_hits + esc_hits
    actions += pp_actions + esc_actions
    if (
        event.direction is Direction.OUTBOUND
        and state.escalations
        and not any(isinstance(a, HoldOutbound | RewriteOutbound) for a in actions)
    ):
        esc = state.escalations[0]
        ev = Evidence("escalation_open", f"{esc.rule} since {esc.opened_at.isoformat()}")
        mode = policy.escalated_outbound
        done = {"rewrite": "rewritten", "divert": "diverted to the agents"}.get(mode, "held")
        hits.append(RuleHit(esc.rule, (ev,), f"automated reply {done}: customer is with a person"))
        reason = f"customer escalated ({esc.rule})"
        if mode in ("rewrite", "divert"):
            divert = mode == "divert"
            kind = "divert_outbound" if divert else "rewrite_outbound"
            actions.append(RewriteOutbound(event.message_id, reason, divert, kind))
        else:
            actions.append(HoldOutbound(event.message_id, reason))
    return Decision(
        state, tuple(actions), tuple(hits), _explain(event, hits, actions, ""), peer_states
    )


def decide_tick(state: CustomerState, policy: Policy, now: datetime, mailbox: str) -> Decision:
    """Time-driven evaluation: advance overdue SLA stages of the customer's escalations."""
    new_state, hits, actions = _sla(state, policy, now, mailbox)
    return Decision(
        new_state, tuple(actions), tuple(hits), _explain(None, hits, actions, f"tick {now}")
    )


def decide_handled(
    state: CustomerState,
    policy: Policy,
    now: datetime,
    mailbox: str,
    by: str,
    peers: tuple[Peer, ...] = (),
) -> Decision:
    """An agent marked the customer handled: resolve the escalations and reset the counters.

    Escalations in ``peers`` linked to this customer's (the referral ring) are resolved too.
    """
    peer_states, linked = _resolve_linked(state, peers, f"handled:{by}", now)
    new_state, actions = _resolve(
        state.pruned(now, policy.retention), f"handled:{by}", mailbox, "marked handled", now
    )
    actions += linked
    explain = _explain(None, [], actions, f"handled by {by}")
    return Decision(new_state, tuple(actions), (), explain, peer_states)
