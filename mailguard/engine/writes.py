"""Turning a policy decision into the store's one-transaction write (:class:`EventWrite`).

Kept apart from :mod:`mailguard.engine.service` so the mapping from domain actions to escalation
rows and outbox entries can be read (and tested) on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from mailguard.domain.model import Classification, Evidence, Source
from mailguard.domain.policy import (
    Action,
    CircuitBreak,
    Decision,
    Escalate,
    FileFollowUp,
    HoldOutbound,
    Notify,
    Policy,
    Resolve,
    RewriteOutbound,
    RuleHit,
    next_due,
)
from mailguard.engine.ports import (
    CustomerRef,
    DecisionRecord,
    EscalationNotify,
    EscalationOpen,
    EscalationResolve,
    EventWrite,
    HeldMessage,
    MessageKey,
    MessageRecord,
    OutboxAction,
    StateWrite,
    ThreadWrite,
)


class Facts(Protocol):
    """What the engine reads from ``mailguard.domain.facts.MessageFacts``."""

    @property
    def message_id(self) -> str | None: ...
    @property
    def in_reply_to(self) -> tuple[str, ...]: ...
    @property
    def references(self) -> tuple[str, ...]: ...
    @property
    def subject(self) -> str: ...
    @property
    def from_addr(self) -> str | None: ...
    @property
    def to_addrs(self) -> tuple[str, ...]: ...
    @property
    def cc_addrs(self) -> tuple[str, ...]: ...
    @property
    def date(self) -> datetime | None: ...
    @property
    def size(self) -> int: ...
    def mentioned_addresses(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Envelope:
    """The SMTP envelope of a message from the proxy (kept with held mail)."""

    mail_from: str | None
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...] = ()
    rcpt_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A message parsed, classified and identified, before any store access."""

    raw: bytes
    facts: Facts
    classification: Classification
    key: MessageKey
    source: Source
    customer: str | None
    at: datetime
    envelope: Envelope | None = None
    also: tuple[str, ...] = ()
    """Further customers among the envelope's recipients (mail from the proxy): each gets an
    event of its own, recorded under ``<message-id>#<customer>``."""


@dataclass(frozen=True, slots=True)
class ThreadInfo:
    """The thread a customer message was placed in."""

    customer: CustomerRef
    root: str
    subject_key: str
    message_ids: tuple[str, ...]


def evidence_json(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    """Evidence as the JSON the store keeps."""
    return [{"rule": e.rule, "matched": e.matched, "weight": e.weight} for e in evidence]


def hits_json(hits: Sequence[RuleHit]) -> list[dict[str, Any]]:
    """Rule hits as the JSON of the decision log."""
    return [
        {"rule": h.rule, "detail": h.detail, "evidence": evidence_json(h.evidence)} for h in hits
    ]


def _payload(action: Action, customer: str, language: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"customer": customer, "reason": action.reason}
    if isinstance(action, Escalate):
        # The language of the message that escalated: the agent's note is written in it.
        payload |= {
            "mailbox": action.mailbox,
            "rule": action.rule,
            "thread": action.thread,
            "link_key": action.link_key,
            "language": language,
        }
    elif isinstance(action, Notify):
        # The language of the message that caused it (None for an SLA tick): the agents'
        # notification is written in it.
        payload |= {
            "mailbox": action.mailbox,
            "level": action.level.value,
            "rule": action.rule,
            "language": language,
        }
    elif isinstance(action, CircuitBreak):
        payload |= {"counterpart": action.counterpart, "until": action.until.isoformat()}
    elif isinstance(action, HoldOutbound | RewriteOutbound):
        payload |= {"message_id": action.message_id, "direction": "out"}
    elif isinstance(action, FileFollowUp):
        payload |= {
            "mailbox": action.mailbox,
            "message_id": action.message_id,
            "thread": action.thread,
            "direction": "in",
        }
    else:
        payload |= {"mailbox": action.mailbox, "by": action.by}
    return payload


def _target(action: Action, customer: str) -> str:
    if isinstance(action, HoldOutbound | RewriteOutbound):
        return action.message_id
    if isinstance(action, CircuitBreak):
        return action.counterpart
    return customer


def outbox(
    actions: Sequence[Action],
    customer: str,
    key_prefix: str,
    source: Source,
    now: datetime,
    mailbox: str | None = None,
    language: str | None = None,
) -> tuple[OutboxAction, ...]:
    """Outbox entries for the actions; keys are unique per event and action position.

    Holding only means something for mail that has not left yet, i.e. mail from the SMTP
    proxy; for a copy read from Sent (or an audit) the hold stays in the decision log only.
    A rewrite or divert is done by the proxy before it answers the client, so it is not an
    outbox action either (the decision log records it). A ``hold_outbound`` entry carries the
    held message's key (``mailbox``, ``message_id``, ``direction``) so the executor can read
    its raw bytes (``held_by_key``) to file a copy in the mailbox's held folder.
    """
    result = []
    for index, action in enumerate(actions):
        if isinstance(action, HoldOutbound) and source is not Source.SMTP:
            continue
        if isinstance(action, RewriteOutbound):
            continue
        payload = _payload(action, customer, language)
        if isinstance(action, HoldOutbound) and mailbox is not None:
            payload["mailbox"] = mailbox
        result.append(
            OutboxAction(
                kind=action.kind,
                target=_target(action, customer),
                idempotency_key=f"{key_prefix}:{index}:{action.kind}",
                payload=payload,
                created_at=now,
            )
        )
    return tuple(result)


def _escalation_rows(
    decision: Decision, customer: str, at: datetime, now: datetime
) -> tuple[tuple[EscalationOpen, ...], tuple[EscalationResolve, ...], tuple[EscalationNotify, ...]]:
    # A rule can hit twice in one decision (the streak that escalates, then the hold of the
    # reply that completed it, which names the escalation as its evidence): the escalation
    # keeps the first hit, the one that explains why it was opened.
    by_rule: dict[str, Any] = {}
    for hit in decision.hits:
        by_rule.setdefault(hit.rule, hit)
    opened = tuple(
        EscalationOpen(
            customer=CustomerRef(a.mailbox, customer),
            thread_root=a.thread,
            rule=a.rule,
            reason=a.reason,
            evidence=evidence_json(by_rule[a.rule].evidence) if a.rule in by_rule else [],
            opened_at=now,
            link_key=a.link_key,
        )
        for a in decision.actions
        if isinstance(a, Escalate)
    )
    resolved = tuple(
        EscalationResolve(CustomerRef(a.mailbox, customer), at, a.by)
        for a in decision.actions
        if isinstance(a, Resolve)
    )
    notified = tuple(
        EscalationNotify(CustomerRef(a.mailbox, customer), a.level.value, now)
        for a in decision.actions
        if isinstance(a, Notify) and a.rule == "sla"
    )
    return opened, resolved, notified


def _states(decision: Decision, ref: CustomerRef, policy: Policy) -> tuple[StateWrite, ...]:
    writes = [StateWrite(ref, decision.state.to_dict(), next_due(decision.state, policy))]
    for mailbox, state in sorted(decision.peer_states.items()):
        peer = CustomerRef(mailbox, ref.address)
        writes.append(StateWrite(peer, state.to_dict(), next_due(state, policy)))
    return tuple(writes)


def message_record(prepared: PreparedMessage, thread_root: str | None) -> MessageRecord:
    """The "messages seen" row of a prepared message."""
    cls = prepared.classification
    return MessageRecord(
        key=prepared.key,
        source=prepared.source,
        customer=prepared.customer,
        thread_root=thread_root,
        kind=cls.kind.value,
        automated=cls.automated,
        evidence=evidence_json(cls.evidence),
        frustration=cls.frustration,
        at=prepared.at,
        size=prepared.facts.size,
        subject=prepared.facts.subject,
        sender=prepared.facts.from_addr,
    )


def no_customer_write(prepared: PreparedMessage, now: datetime) -> EventWrite:
    """Record a message that concerns no customer (internal mail): no thread, no policy."""
    return EventWrite(
        message=message_record(prepared, None),
        decision=DecisionRecord(None, prepared.key, [], "no customer: company-side mail", now),
    )


def event_write(
    prepared: PreparedMessage,
    decision: Decision,
    thread: ThreadInfo,
    policy: Policy,
    now: datetime,
) -> EventWrite:
    """Everything one customer message changes, for :meth:`UnitOfWork.apply`."""
    key, ref = prepared.key, thread.customer
    opened, resolved, notified = _escalation_rows(decision, ref.address, prepared.at, now)
    prefix = f"{key.mailbox}:{key.direction.value}:{key.message_id}"
    held = None
    hold = next((a for a in decision.actions if isinstance(a, HoldOutbound)), None)
    if hold is not None and prepared.source is Source.SMTP:
        env = prepared.envelope
        held = HeldMessage(
            key=key,
            raw=prepared.raw,
            reason=hold.reason,
            held_at=now,
            mail_from=env.mail_from if env else None,
            rcpt_tos=env.rcpt_tos if env else (),
            mail_options=env.mail_options if env else (),
            rcpt_options=env.rcpt_options if env else (),
        )
    return EventWrite(
        message=message_record(prepared, thread.root),
        decision=DecisionRecord(ref, key, hits_json(decision.hits), decision.explain, now),
        thread=ThreadWrite(
            ref.mailbox,
            ref.address,
            thread.root,
            thread.subject_key,
            thread.message_ids,
            prepared.at,
        ),
        states=_states(decision, ref, policy),
        opened=opened,
        resolved=resolved,
        notified=notified,
        actions=outbox(
            decision.actions,
            ref.address,
            prefix,
            prepared.source,
            now,
            mailbox=key.mailbox,
            language=prepared.classification.language,
        ),
        held=held,
    )


def tick_write(
    ref: CustomerRef,
    decision: Decision,
    policy: Policy,
    now: datetime,
    *,
    prefix: str | None = None,
) -> EventWrite:
    """The write for a decision without a message: an SLA tick or a "handled" signal."""
    opened, resolved, notified = _escalation_rows(decision, ref.address, now, now)
    if prefix is None:
        # One SLA stage of one escalation notifies once: key the outbox entry by the
        # escalation and the stage so a repeated tick can never notify twice.
        stages = ",".join(
            f"{e.opened_at.isoformat()}#{e.stage}" for e in decision.state.escalations
        )
        prefix = f"sla:{ref.mailbox}:{ref.address}:{stages}"
    return EventWrite(
        message=None,
        decision=DecisionRecord(ref, None, hits_json(decision.hits), decision.explain, now),
        states=_states(decision, ref, policy),
        opened=opened,
        resolved=resolved,
        notified=notified,
        actions=outbox(decision.actions, ref.address, prefix, Source.IMAP, now),
    )


def hold_once(writes: Sequence[EventWrite], key: MessageKey) -> list[EventWrite]:
    """The writes of one message with several customers, holding its bytes at most once.

    Each customer's decision may hold the message; it is one message, so it is stored once,
    under the message's own key (what ``mailguard held`` and a retry look up), with one
    ``hold_outbound`` action.
    """
    result: list[EventWrite] = []
    held = False
    for write in writes:
        stored = write.held
        if stored is not None:
            if held:
                actions = tuple(a for a in write.actions if a.kind != "hold_outbound")
                write = replace(write, held=None, actions=actions)
            else:
                write = replace(write, held=replace(stored, key=key))
                held = True
        result.append(write)
    return result
