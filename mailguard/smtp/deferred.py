"""The deferral worker: deciding the replies the proxy stored before their question was seen.

A Sieve vacation reply reaches the proxy while the customer's message is still being
delivered (:mod:`mailguard.domain.deferral`). The handler stores such a reply as
``deferred`` and answers 250; this worker decides it as soon as the IMAP watcher has
recorded the message it answers, or after ``proxy.defer_unseen`` without it, through the
same engine path and the same :class:`~mailguard.smtp.dispatch.Dispatcher` as a reply
decided at once.

The store is the source of truth, not this process: with replicas on PostgreSQL the watcher
recording the message may run in another replica, and a reply stored before a restart is
still there after it. So the worker polls the store (:data:`POLL_SECONDS`) and every replica
runs one. Each reply is decided and relayed once:

1. **claim** - a conditional update gives the reply to one worker until ``claimed_until``
   (:data:`CLAIM`); the others skip it. A claim left by a process that died expires and the
   reply is picked up again, by this process after a restart or by another replica.
2. **decide** - ``Engine.process`` as for any outbound message. It is idempotent by
   Message-ID: a worker that died after the decision gets the same outcome again (a
   duplicate replays the decision log). A hold turns the row ``held`` in the decision's
   own transaction (the executor then files the copy in the Held folder).
3. **send claim** - ``deferred`` -> ``released`` in one conditional update: of two workers
   that both got this far exactly one relays.
4. **relay** - pass, rewrite or divert through the pooled relay. A temporary failure puts
   the row back to ``deferred`` for another try in :data:`RELAY_RETRY`; after
   :data:`RELAY_GIVE_UP` (or a permanent refusal) it becomes ``held`` with the reason, where
   ``mailguard held list`` shows it and a person can release or drop it.

A crash between 3 and the end of 4 leaves the row ``released`` while the relay may or may not
have taken it: at most once, as for released held mail (:mod:`mailguard.smtp.held`); the log
has ``deferred_relay_started`` without ``deferred_relayed`` for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from prometheus_client import Counter, Histogram

from mailguard.domain.model import Direction, Source
from mailguard.engine.service import Engine, Envelope, ProcessResult
from mailguard.smtp.dispatch import (
    OFFLOAD_BYTES,
    Clock,
    Dispatcher,
    Message,
    Outcome,
    observe,
)
from mailguard.smtp.held import HeldRecord
from mailguard.smtp.relay import RelayError, RelayPermanentError

log = structlog.get_logger("mailguard.smtp.deferred")

POLL_SECONDS = 0.5
DUE_PAGE = 50
"""Due replies read per round; after a full page the next round starts at once."""
CLAIM = timedelta(seconds=30)
RELAY_RETRY = timedelta(seconds=60)
RELAY_GIVE_UP = timedelta(hours=1)

DEFERRED = "deferred"
HELD = "held"
RELEASED = "released"

DEFERRALS = Counter(
    "mailguard_smtp_deferrals",
    "Robot replies stored until the message they answer is seen (event: deferred), and "
    "decided once it was (seen) or after proxy.defer_unseen without it (expired)",
    ["event"],
)
DEFERRED_DECIDED = Counter(
    "mailguard_smtp_deferred_decided",
    "Deferred replies by what became of them (pass, hold, rewrite, divert; relay_retry, "
    "relay_refused, relay_gave_up)",
    ["outcome"],
)
DEFERRAL_SECONDS = Histogram(
    "mailguard_smtp_deferral_seconds",
    "How long a deferred reply waited for its decision",
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)


class DueReply(Protocol):
    """A deferred reply due for its decision (``mailguard.store.records.DeferredMail``)."""

    @property
    def held(self) -> HeldRecord: ...
    @property
    def seen(self) -> bool: ...


class DeferredStore(Protocol):
    """The store's deferral operations (``mailguard.store.deferrals``)."""

    async def deferred_due(self, now: datetime, limit: int = 50) -> Sequence[DueReply]: ...

    async def claim_deferred(self, held_id: int, now: datetime, until: datetime) -> bool: ...

    async def move_held(
        self,
        held_id: int,
        from_state: Any,
        to_state: Any,
        now: datetime,
        *,
        reason: str | None = None,
        claimed_until: datetime | None = None,
    ) -> bool: ...


class DeferredWorker:
    """Polls the store for due deferred replies and decides each once (module docstring)."""

    def __init__(
        self,
        engine: Engine,
        store: DeferredStore,
        dispatcher: Dispatcher,
        clock: Clock = lambda: datetime.now(UTC),
        poll_seconds: float = POLL_SECONDS,
        on_actions: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._dispatcher = dispatcher
        self._clock = clock
        self._poll = poll_seconds
        # Wakes the outbox executor when a decision wrote actions, as the handler does.
        self._on_actions = on_actions
        self._full = False

    async def run(self, stop: asyncio.Event) -> None:
        """Decide due replies until ``stop``; the first round picks up what a previous run
        left (the store keeps deferred replies across restarts)."""
        while not stop.is_set():
            self._full = False
            try:
                await self.run_once()
            except Exception as exc:  # the database is away: keep going, the rows are safe
                log.error("deferral_round_failed", error=f"{type(exc).__name__}: {exc}")
            if self._full:
                continue  # a whole page was due: more may be, go on without waiting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await stop.wait()

    async def run_once(self) -> int:
        """One round: decide every due reply this worker can claim; returns how many."""
        decided = 0
        page = await self._store.deferred_due(self._clock(), DUE_PAGE)
        self._full = len(page) >= DUE_PAGE
        for due in page:
            try:
                decided += await self._decide(due)
            except Exception as exc:  # one reply's trouble must not stop the others
                # Its claim expires and it is tried again; its bytes stay stored.
                log.exception(
                    "deferral_failed",
                    message_id=due.held.message_id,
                    mailbox=due.held.mailbox,
                    error=f"{type(exc).__name__}: {exc}",
                )
        return decided

    async def _decide(self, due: DueReply) -> int:
        held, now = due.held, self._clock()
        if not await self._store.claim_deferred(held.id, now, now + CLAIM):
            return 0  # another replica has it
        waited = max(0.0, (now - held.held_at).total_seconds())
        fields = {
            "message_id": held.message_id,
            "mailbox": held.mailbox,
            "awaits": held.awaits,
            "waited_s": round(waited, 3),
        }
        if due.seen:
            DEFERRALS.labels("seen").inc()
            log.info("deferral_ended", **fields, reason="the message it answers was recorded")
        else:
            DEFERRALS.labels("expired").inc()
            log.warning(
                "deferral_expired",
                **fields,
                reason=(
                    f"<{held.awaits}> was not recorded in mailbox {held.mailbox} within "
                    "proxy.defer_unseen; decided without it"
                ),
            )
        DEFERRAL_SECONDS.observe(waited)
        msg = Message(
            held.raw,
            held.envelope_sender or "",
            tuple(held.envelope_recipients),
            tuple(held.mail_options),
            tuple(held.rcpt_options),
        )
        result = await self._engine.process(
            msg.raw,
            source=Source.SMTP,
            now=now,
            direction=Direction.OUTBOUND,
            envelope=Envelope(msg.mail_from, msg.rcpt_tos, msg.mail_options, msg.rcpt_options),
            offload=len(msg.raw) > OFFLOAD_BYTES,
        )
        if any(decision.actions for decision in result.decisions):
            self._on_actions()
        observe(result)
        outcome, would = await self._dispatcher.outcome(result, stored=True)
        log.info(
            "deferred_reply_decided",
            **result.log_fields(),
            outcome=outcome.value,
            would=would.value,
            seen=due.seen,
        )
        if outcome in (Outcome.HOLD, Outcome.DEFER):
            # The decision's transaction made the row held. A hold replayed from the
            # decision log (its copy in Sent was decided first) is made here.
            reason = f"held as decided for <{held.message_id}> earlier (mailguard explain)"
            await self._store.move_held(held.id, DEFERRED, HELD, now, reason=reason)
            DEFERRED_DECIDED.labels(Outcome.HOLD.value).inc()
            return 1
        reason = f"deferred, then relayed ({outcome.value})"
        released = await self._store.move_held(held.id, DEFERRED, RELEASED, now, reason=reason)
        # A dry run's hold was marked released by the dispatcher: it is relayed here.
        if not released and not (would is Outcome.HOLD and outcome is Outcome.PASS):
            log.info("deferred_reply_taken", message_id=held.message_id, mailbox=held.mailbox)
            return 0
        await self._relay(held, msg, result, outcome, now)
        return 1

    async def _relay(
        self, held: HeldRecord, msg: Message, result: ProcessResult, outcome: Outcome, now: datetime
    ) -> None:
        ids = {"message_id": held.message_id, "mailbox": held.mailbox, "held_id": held.id}
        log.info("deferred_relay_started", **ids, outcome=outcome.value)
        try:
            relayed = await self._dispatcher.perform(outcome, msg, result)
        except RelayPermanentError as exc:
            reason = f"deferred, then refused by the relay: {exc.code} {exc.text}"
            await self._store.move_held(held.id, RELEASED, HELD, now, reason=reason)
            DEFERRED_DECIDED.labels("relay_refused").inc()
            log.warning("deferred_relay_refused", **ids, error=str(exc))
            return
        except RelayError as exc:
            if now - held.held_at >= RELAY_GIVE_UP:
                reason = f"deferred, then the relay failed for {RELAY_GIVE_UP}: {exc}"
                await self._store.move_held(held.id, RELEASED, HELD, now, reason=reason)
                DEFERRED_DECIDED.labels("relay_gave_up").inc()
                log.error("deferred_relay_gave_up", **ids, error=str(exc))
                return
            retry = now + RELAY_RETRY
            await self._store.move_held(held.id, RELEASED, DEFERRED, now, claimed_until=retry)
            DEFERRED_DECIDED.labels("relay_retry").inc()
            log.warning("deferred_relay_failed", **ids, error=str(exc), retry_at=retry.isoformat())
            return
        DEFERRED_DECIDED.labels(outcome.value).inc()
        log.info("deferred_relayed", **ids, reply=relayed.reply if relayed else None)
