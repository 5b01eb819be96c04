"""The engine: one raw message in, one committed decision out.

raw bytes + mailbox + source (+ direction when known) + now -> facts -> classification ->
customer and thread -> lock and load the customer's state -> ``decide`` -> save the message,
the new state, escalations and outbox actions in one transaction (:mod:`mailguard.engine.ports`).

The engine never talks SMTP, IMAP or SQL. It is idempotent by (mailbox, Message-ID,
direction) and isolates failures per message: a message whose processing raises is rolled
back and recorded as failed with its raw bytes (never lost), and the caller carries on.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from mailguard.domain.identity import (
    CompanyIdentity,
    customer_of,
    derive_message_id,
    infer_direction,
    normalize_subject,
    thread_ids,
)
from mailguard.domain.model import Direction, Source
from mailguard.domain.policy import (
    Decision,
    Event,
    Peer,
    Policy,
    decide,
    decide_handled,
    decide_tick,
)
from mailguard.domain.policy_internal import InternalParty, decide_internal, internal_party
from mailguard.domain.state import CustomerState
from mailguard.engine.analysis import Analysis
from mailguard.engine.deferral import Deferral, defer_if_unseen
from mailguard.engine.many import Incoming, process_many
from mailguard.engine.ports import (
    CustomerRef,
    EventWrite,
    FailedMessage,
    JsonDict,
    MessageKey,
    Store,
    UnitOfWork,
)
from mailguard.engine.result import MessageClassifier, MessageError, ProcessResult, Status
from mailguard.engine.state_cache import StateCache
from mailguard.engine.writes import (
    Envelope,
    Facts,
    PreparedMessage,
    ThreadInfo,
    event_write,
    hold_once,
    no_customer_write,
    tick_write,
)

__all__ = [
    "Deferral",
    "Engine",
    "Envelope",
    "Facts",
    "Incoming",
    "MessageClassifier",
    "MessageError",
    "PreparedMessage",
    "ProcessResult",
    "Status",
]


class Engine:
    """The use case of issue 4; one instance per process, safe for concurrent tasks."""

    def __init__(
        self,
        store: Store,
        identity: CompanyIdentity,
        policy: Policy,
        *,
        parse: Callable[[bytes], Facts],
        classifier: MessageClassifier,
    ) -> None:
        self._store = store
        self._identity = identity
        self._policy = policy
        self._parse = parse
        self._classifier = classifier
        self._states = StateCache()

    @property
    def store(self) -> Store:
        """The store the engine decides through."""
        return self._store

    def prepare(
        self,
        raw: bytes,
        *,
        source: Source,
        now: datetime,
        mailbox: str | None = None,
        direction: Direction | None = None,
        envelope: Envelope | None = None,
        analysis: Analysis | None = None,
    ) -> PreparedMessage:
        """Parse, identify and classify a message (pure CPU work, no store access).

        ``analysis`` is the parse and classification already done elsewhere (a worker
        process of the audit, see :mod:`mailguard.engine.analysis`); without it they run here.
        Raises :class:`MessageError` carrying the message's key when classification fails,
        so the failure is recorded under the message's real Message-ID.
        """
        ident = self._identity
        facts: Facts = analysis.facts if analysis is not None else self._parse(raw)
        if direction is None:
            direction = infer_direction(facts.from_addr, ident.own_domains, ident.own_addresses)
        recipients = (*facts.to_addrs, *facts.cc_addrs)
        if mailbox is None:
            ours = recipients if direction is Direction.INBOUND else (facts.from_addr or "",)
            mailbox = ident.mailbox_for(ours)
        fold = self._policy.fold_plus_tags
        if direction is Direction.INBOUND:
            candidates: Sequence[str | None] = (facts.from_addr,)
        else:
            candidates = recipients
        if envelope is not None and direction is Direction.OUTBOUND:
            # The envelope names every recipient, Bcc included: each customer among them.
            candidates = (*candidates, *envelope.rcpt_tos)
        found = (customer_of(a, ident.own_domains, ident.own_addresses, fold) for a in candidates)
        customers = tuple(dict.fromkeys(c for c in found if c))
        customer = customers[0] if customers else None
        also = customers[1:] if envelope is not None else ()
        # Live sources decide on receipt time; a Date header from the future is not trusted.
        at = min(facts.date, now) if facts.date is not None else now
        message_id = facts.message_id or derive_message_id(raw)
        key = MessageKey(mailbox, message_id, direction)
        if analysis is not None:
            if analysis.classification is None:
                raise MessageError(key, RuntimeError(analysis.error or "classification failed"))
            return PreparedMessage(
                raw, facts, analysis.classification, key, source, customer, at, envelope, also
            )
        try:
            classification = self._classifier.classify(facts)
        except Exception as exc:  # the classifier promises not to raise; keep the key if it does
            raise MessageError(key, exc) from exc
        return PreparedMessage(
            raw, facts, classification, key, source, customer, at, envelope, also
        )

    async def process(
        self,
        raw: bytes,
        *,
        source: Source,
        now: datetime,
        mailbox: str | None = None,
        direction: Direction | None = None,
        envelope: Envelope | None = None,
        offload: bool = False,
        defer: Deferral | None = None,
    ) -> ProcessResult:
        """Process one message in its own transaction, isolating any failure.

        A failure rolls the transaction back and records the raw message as failed
        (``Store.record_failure``); if even that fails, the exception propagates so the
        caller does not acknowledge the message (IMAP: no checkpoint; SMTP: 4xx).
        ``offload`` parses and classifies in a worker thread so a big message does not
        stall the other tasks on the event loop (the SMTP proxy's sessions).
        ``defer`` (the proxy's) stores an automated reply to a message not recorded yet
        instead of deciding it (:mod:`mailguard.engine.deferral`): status ``DEFERRED``.
        """
        started = time.perf_counter()
        key: MessageKey | None = None
        try:
            prepare = functools.partial(
                self.prepare,
                raw,
                source=source,
                now=now,
                mailbox=mailbox,
                direction=direction,
                envelope=envelope,
            )
            prepared = await asyncio.to_thread(prepare) if offload else prepare()
            key = prepared.key
            ready = prepared
            result = await self._store.transact(
                lambda uow: self.decide_or_defer(uow, ready, now, defer)
            )
        except Exception as exc:  # per-message isolation: see the module docstring
            result = await self.record_failed(raw, exc, key, source, now, mailbox, direction)
        return replace(result, duration_ms=(time.perf_counter() - started) * 1000)

    async def process_many(
        self, items: Sequence[Incoming], *, offload: bool = False
    ) -> list[ProcessResult]:
        """Process messages in order in one transaction, deciding as :meth:`process` would
        one at a time (see :mod:`mailguard.engine.many`); raises when the commit fails."""
        return await process_many(self, self._store, items, offload=offload)

    async def decide_or_defer(
        self, uow: UnitOfWork, prepared: PreparedMessage, now: datetime, defer: Deferral | None
    ) -> ProcessResult:
        """Defer ``prepared`` (``defer`` given and the message it answers unseen) or decide it."""
        awaits = None
        if defer is not None:
            awaits = await defer_if_unseen(uow, prepared, defer, now)
        if awaits is None:
            return await self.process_prepared(uow, prepared, now)
        return ProcessResult(Status.DEFERRED, awaits=awaits, **_result_base(prepared))

    async def record_failed(
        self,
        raw: bytes,
        exc: Exception,
        key: MessageKey | None,
        source: Source,
        now: datetime,
        mailbox: str | None,
        direction: Direction | None,
    ) -> ProcessResult:
        """Keep a message whose processing raised ``exc`` as failed; its FAILED result.

        Raises when even that fails, so the caller does not acknowledge the message.
        """
        if isinstance(exc, MessageError):
            key, exc = exc.key, exc.cause
        error = f"{type(exc).__name__}: {exc}"
        if key is None:
            key = MessageKey(
                mailbox or self._identity.mailbox_names[0],
                derive_message_id(raw),
                direction or Direction.INBOUND,
            )
        await self._store.record_failure(FailedMessage(key, source, raw, error, now))
        return ProcessResult(Status.FAILED, key, source, error=error)

    def locks_of(self, prepared: PreparedMessage) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The customers (address, mailboxes) :meth:`process_prepared` locks for ``prepared``."""
        customer, internal = prepared.customer, None
        if customer is None:
            internal = self._internal(prepared)
            if internal is None:
                return ()
            customer = internal.counterpart
        mailboxes = self._mailboxes(prepared.key.mailbox, internal)
        return tuple((address, mailboxes) for address in sorted({customer, *prepared.also}))

    def _mailboxes(self, mailbox: str, internal: InternalParty | None) -> tuple[str, ...]:
        if internal is not None:
            return (mailbox,)
        names = self._identity.mailbox_names
        return names if mailbox in names else (mailbox, *names)

    async def process_prepared(
        self, uow: UnitOfWork, prepared: PreparedMessage, now: datetime
    ) -> ProcessResult:
        """Decide and write one prepared message through ``uow`` (raises on failure).

        The audit calls this inside one ``Store.batch``; ``apply`` is the last store call,
        so a message that raises earlier leaves nothing behind in the batch.
        """
        key, customer = prepared.key, prepared.customer
        internal = None
        if customer is None:
            internal = self._internal(prepared)
            if internal is None:
                applied = await uow.apply(no_customer_write(prepared, now))
                status = Status.NO_CUSTOMER if applied else Status.DUPLICATE
                return ProcessResult(status, **_result_base(prepared))
            # Robot mail between company addresses: followed under its counterpart
            # (mailguard.domain.policy_internal), in its own mailbox only.
            customer = internal.counterpart
            prepared = replace(prepared, customer=customer)
        base = _result_base(prepared)
        mailboxes = self._mailboxes(key.mailbox, internal)
        # Every customer of the message, locked in one order so that two transactions
        # locking the same customers cannot deadlock.
        for address in sorted({customer, *prepared.also}):
            await uow.lock_customers(address, mailboxes, now)
        mid = key.message_id
        events = [await self._customer_event(uow, prepared, mailboxes, internal, now, mid)]
        for extra in prepared.also:
            other = replace(
                prepared,
                customer=extra,
                key=MessageKey(key.mailbox, f"{mid}#{extra}", key.direction),
            )
            events.append(await self._customer_event(uow, other, mailboxes, None, now, mid))
        for index, ((_, decision, _), write) in enumerate(
            zip(events, hold_once([w for w, _, _ in events], key), strict=True)
        ):
            # The first write inserts the message's own key: if that key is recorded
            # already (a retry, or the proxy and the watcher at once), nothing is written.
            # Asking is_recorded first would cost every message a query for the rare
            # duplicate; deciding it anyway is pure work with no effect.
            if not await uow.apply(write) and index == 0:
                return ProcessResult(Status.DUPLICATE, **base)
            self._states.remember(write, decision, key.mailbox)
        _, first, root = events[0]
        also = tuple(decision for _, decision, _ in events[1:])
        return ProcessResult(Status.PROCESSED, thread=root, decision=first, also=also, **base)

    async def _customer_event(
        self,
        uow: UnitOfWork,
        prepared: PreparedMessage,
        mailboxes: Sequence[str],
        internal: InternalParty | None,
        now: datetime,
        real_id: str,
    ) -> tuple[EventWrite, Decision, str]:
        """One customer's decision on the message and its write (not applied yet).

        For a further customer of the message (``prepared.also``) the key is
        ``<message-id>#<customer>``; the event, its thread and any hold use the real id.
        """
        key, customer = prepared.key, prepared.customer
        if customer is None:
            raise ValueError(f"{key.message_id}: a customer event without a customer")
        locked = await uow.lock_customers(customer, mailboxes, now)
        facts = prepared.facts
        ref = CustomerRef(key.mailbox, customer)
        ids = thread_ids(real_id, facts.in_reply_to, facts.references)
        subject_key = normalize_subject(facts.subject)
        since = prepared.at - self._policy.thread_window
        root = await uow.find_thread(ref, ids, subject_key, since) or real_id
        state = self._states.load(key.mailbox, customer, locked.states.get(key.mailbox))
        if internal is None:
            peers = self._peers(customer, locked.states, key.mailbox)
            event = replace(self._event(prepared, customer, root, peers), message_id=real_id)
            decision = decide(state, event, self._policy, now)
        else:
            event = self._event(prepared, customer, root, ())
            decision = decide_internal(state, event, internal.sender, self._policy, now)
        thread = ThreadInfo(ref, root, subject_key, ids)
        return event_write(prepared, decision, thread, self._policy, now), decision, root

    def _internal(self, prepared: PreparedMessage) -> InternalParty | None:
        """The counterpart of automated mail between company addresses, else None."""
        if not prepared.classification.automated:
            return None
        facts = prepared.facts
        recipients = (*facts.to_addrs, *facts.cc_addrs)
        if not recipients and prepared.envelope is not None:
            recipients = prepared.envelope.rcpt_tos
        return internal_party(
            facts.from_addr, recipients, self._identity.addresses_of(prepared.key.mailbox)
        )

    def _peers(
        self, customer: str, states: Mapping[str, JsonDict | None], mailbox: str
    ) -> tuple[Peer, ...]:
        """The customer in the other guarded mailboxes, for the referral ring."""
        return tuple(
            Peer(
                name,
                self._identity.addresses_of(name),
                self._states.load(name, customer, state),
            )
            for name, state in sorted(states.items())
            if name != mailbox
        )

    def _event(
        self, prepared: PreparedMessage, customer: str, root: str, peers: tuple[Peer, ...]
    ) -> Event:
        facts, cls = prepared.facts, prepared.classification
        return Event(
            direction=prepared.key.direction,
            automated=cls.automated,
            at=prepared.at,
            thread=root,
            message_id=prepared.key.message_id,
            counterpart=customer,
            kind=cls.kind,
            frustration=cls.frustration,
            frustration_evidence=cls.frustration_evidence,
            evidence=cls.evidence,
            mentioned=tuple(facts.mentioned_addresses()),
            recipients=(*facts.to_addrs, *facts.cc_addrs),
            mailbox=prepared.key.mailbox,
            source=prepared.source,
            mailbox_addresses=self._identity.addresses_of(prepared.key.mailbox),
            peers=peers,
        )

    async def handled(self, mailbox: str, address: str, by: str, now: datetime) -> Decision:
        """An agent marked the customer handled (e.g. moved their mail to the handled folder).

        Resolves the customer's open escalations (and linked ones of the referral ring) and
        resets the counters, in one transaction.
        """
        ident = self._identity
        fold = self._policy.fold_plus_tags
        customer = customer_of(address, ident.own_domains, ident.own_addresses, fold)
        if customer is None:
            raise ValueError(f"{address!r} is not a customer address")
        mailboxes = ident.mailbox_names
        if mailbox not in mailboxes:
            mailboxes = (mailbox, *mailboxes)

        async def resolve(uow: UnitOfWork) -> Decision:
            locked = await uow.lock_customers(customer, mailboxes, now)
            state = CustomerState.from_dict(locked.states.get(mailbox))
            peers = self._peers(customer, locked.states, mailbox)
            decision = decide_handled(state, self._policy, now, mailbox, by, peers)
            ref = CustomerRef(mailbox, customer)
            prefix = f"handled:{mailbox}:{customer}:{now.isoformat()}"
            await uow.apply(tick_write(ref, decision, self._policy, now, prefix=prefix))
            return decision

        return await self._store.transact(resolve)

    async def tick(self, now: datetime, limit: int = 500) -> int:
        """Run the time-driven evaluation (SLA) for every due customer; return how many.

        Each customer is locked and re-evaluated in its own transaction, so a tick running
        beside message processing never loses an update.
        """

        async def evaluate(uow: UnitOfWork, ref: CustomerRef) -> None:
            locked = await uow.lock_customers(ref.address, (ref.mailbox,), now)
            state = CustomerState.from_dict(locked.states.get(ref.mailbox))
            decision = decide_tick(state, self._policy, now, ref.mailbox)
            await uow.apply(tick_write(ref, decision, self._policy, now))

        count = 0
        for ref in await self._store.due_for_tick(now, limit):
            await self._store.transact(functools.partial(evaluate, ref=ref))
            count += 1
        return count


def _result_base(prepared: PreparedMessage) -> dict[str, Any]:
    return {
        "key": prepared.key,
        "source": prepared.source,
        "customer": prepared.customer,
        "at": prepared.at,
        "classification": prepared.classification,
        "sender": prepared.facts.from_addr,
        "subject": prepared.facts.subject,
    }
