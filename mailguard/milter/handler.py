"""The milter's judge: the guarded mailboxes' outgoing mail, decided like the proxy's.

Only mail a guarded mailbox sends is decided: an envelope sender that is one of its
addresses, or the null sender ``<>`` (a Sieve vacation reply, a bounce) with a header From
that is. Everything else is accepted at MAIL FROM (or at the end of the header), before
Postfix sends its body, and leaves no trace in mailguard.

A decided message goes through the same engine call as the proxy's (the group commit of
:mod:`mailguard.engine.group`: messages arriving together share one transaction, each
answered after that commit; direction outbound, source ``smtp``: mail in flight; the log
says ``via=milter``) and the same :class:`~mailguard.smtp.dispatch.Dispatcher` decides
the outcome (dry run, replay of a message decided before). Outcomes become milter replies:

=========  ======================================================================
outcome    reply to Postfix
=========  ======================================================================
pass       continue (the message goes on, unchanged)
rewrite    header and body edits (:func:`~mailguard.milter.edits.rewrite_edits`),
           continue
divert     recipients replaced by ``notify.agents`` plus two header fields,
           continue
hold       discard: the engine stored it durably before (``mailguard held``)
defer      discard: stored as deferred, decided by the deferral worker later
=========  ======================================================================

A database or engine failure is a temporary failure: Postfix keeps the message and tries
again. Postfix owns the queue, so there is no window in which a message is relayed and not
recorded: it is either still in Postfix's queue or decided.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import getaddresses

import structlog
from prometheus_client import Counter, Histogram

from mailguard.domain.model import Direction, Source
from mailguard.engine.group import GroupCommit
from mailguard.engine.service import Engine, Envelope, Incoming, ProcessResult, Status
from mailguard.milter import edits
from mailguard.milter.connection import MilterMessage, Reply, Verdict
from mailguard.smtp.deferred import DEFERRALS
from mailguard.smtp.dispatch import (
    OFFLOAD_BYTES,
    Clock,
    Dispatcher,
    HeldLookup,
    Outcome,
    observe,
)

log = structlog.get_logger("mailguard.milter.handler")

MILTER_MESSAGES = Counter(
    "mailguard_milter_messages",
    "Messages the milter answered, by outcome (accepted: not a guarded sender; pass, "
    "rewrite, divert, hold, defer; tempfail)",
    ["outcome"],
)
MILTER_SECONDS = Histogram(
    "mailguard_milter_decision_seconds",
    "From the end of the message to the milter's answer, per decided message",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

ACCEPT = Verdict(Reply.CONTINUE)
HELD_HERE = "released"


class MilterHandler:
    """Decides the guarded mailboxes' mail for the milter's connections."""

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        held: HeldLookup,
        guarded: Mapping[str, str],
        clock: Clock = lambda: datetime.now(UTC),
        on_actions: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self.group = GroupCommit(engine)
        self._dispatcher = dispatcher
        self._held = held
        # address (lower case) -> the guarded mailbox it belongs to
        self._guarded = {address.lower(): name for address, name in guarded.items()}
        self._clock = clock
        self._on_actions = on_actions
        self.in_flight = 0

    def wants_sender(self, sender: str) -> bool:
        """A guarded address or the null sender (whose header From decides): look further."""
        if sender == "" or sender.lower() in self._guarded:
            return True
        MILTER_MESSAGES.labels("accepted").inc()
        return False

    def wants_header(self, message: MilterMessage) -> bool:
        """A ``<>`` message is decided only when its From is a guarded mailbox's."""
        if self.mailbox_of(message) is not None:
            return True
        MILTER_MESSAGES.labels("accepted").inc()
        return False

    def mailbox_of(self, message: MilterMessage) -> str | None:
        """The guarded mailbox that sends ``message``, or None."""
        if message.sender:
            return self._guarded.get(message.sender.lower())
        senders = [value for name, value in message.fields if name.lower() == "from"]
        for _, address in getaddresses([edits.unfold(v) for v in senders]):
            if address.lower() in self._guarded:
                return self._guarded[address.lower()]
        return None

    async def decide(self, message: MilterMessage) -> Verdict:
        """The verdict for one message (see the module docstring); never raises."""
        mailbox = self.mailbox_of(message)
        if mailbox is None:  # Postfix ignored an early accept: nothing to decide
            return ACCEPT
        started = time.perf_counter()
        self.in_flight += 1
        outcome = "tempfail"
        try:
            verdict, outcome = await self._decide(message, mailbox)
        except Exception as exc:  # the store is away: Postfix keeps the message
            log.error(
                "milter_message_failed",
                queue_id=message.queue_id,
                error=f"{type(exc).__name__}: {exc}",
            )
            verdict = Verdict(Reply.TEMPFAIL)
        finally:
            self.in_flight -= 1
            MILTER_MESSAGES.labels(outcome).inc()
            MILTER_SECONDS.observe(time.perf_counter() - started)
        return verdict

    async def _decide(self, message: MilterMessage, mailbox: str) -> tuple[Verdict, str]:
        raw = message.raw()
        envelope = Envelope(
            message.sender or "<>",
            tuple(message.recipients),
            tuple(message.sender_args),
            tuple(message.recipient_args),
        )
        settings = self._dispatcher.settings
        item = Incoming(
            raw,
            Source.SMTP,
            self._clock(),
            mailbox=mailbox,
            direction=Direction.OUTBOUND,
            envelope=envelope,
            defer=settings.deferral,
        )
        result = await self.group.process(item, offload=len(raw) > OFFLOAD_BYTES)
        observe(result)
        if any(decision.actions for decision in result.decisions):
            self._on_actions()
        outcome, would = await self._dispatcher.outcome(result)
        if outcome is Outcome.HOLD and result.status is Status.DUPLICATE:
            outcome = await self._released_again(result, outcome)
        verdict = await self._verdict(outcome, message, raw, result)
        if outcome is Outcome.DEFER:
            DEFERRALS.labels("deferred").inc()
        log.info(
            "milter_message_decided",
            **result.log_fields(),
            via="milter",
            queue_id=message.queue_id,
            outcome=outcome.value,
            would=would.value,
            reply=verdict.reply.value,
            edits=len(verdict.edits),
            size=len(raw),
            recipients=len(message.recipients),
        )
        return verdict, outcome.value

    async def _released_again(self, result: ProcessResult, outcome: Outcome) -> Outcome:
        """A held message that was released and comes back through the milter is passed.

        Releases go to a listener without this milter (docs/postfix.md); one that reaches
        it anyway (``relay:`` points at a filtered port) must not be held a second time and
        vanish: it goes on, and the log says what to fix.
        """
        key = result.key
        if key is None:
            return outcome
        held = await self._held.held_by_key(key.mailbox, key.message_id, key.direction.value)
        if held is None or held.state != HELD_HERE:
            return outcome
        log.warning(
            "milter_release_reentered",
            message_id=key.message_id,
            mailbox=key.mailbox,
            problem=(
                "a released message came back through the milter: relay: must point at "
                "the return listener, which does not run mailguard's milter (docs/postfix.md)"
            ),
        )
        return Outcome.PASS

    async def _verdict(
        self, outcome: Outcome, message: MilterMessage, raw: bytes, result: ProcessResult
    ) -> Verdict:
        settings = self._dispatcher.settings
        if outcome in (Outcome.HOLD, Outcome.DEFER):
            return Verdict(Reply.DISCARD)
        if outcome is Outcome.REWRITE:
            new = await self._dispatcher.rewritten(raw, result)
            work = await _maybe_in_thread(len(raw), lambda: edits.rewrite_edits(raw, new))
            return Verdict(Reply.CONTINUE, tuple(work))
        if outcome is Outcome.DIVERT:
            if settings.agents is None:  # the config refuses divert without agents
                return Verdict(Reply.TEMPFAIL, text="451 4.3.0 mailguard: divert needs agents")
            diverted = self._dispatcher.diverted(raw, message.recipients, result)
            found = edits.divert_edits(message.recipients, settings.agents, diverted, raw)
            return Verdict(Reply.CONTINUE, tuple(found))
        if settings.trace_header and result.key is not None:
            value = f"by {settings.hostname}; {result.key.message_id}"
            return Verdict(Reply.CONTINUE, (edits.InsertHeader(0, "X-Mailguard-Relayed", value),))
        return ACCEPT


async def _maybe_in_thread(size: int, work: Callable[[], list[edits.Edit]]) -> list[edits.Edit]:
    # Comparing a big message's header and body holds the loop as long as parsing it would.
    return await asyncio.to_thread(work) if size > OFFLOAD_BYTES else work()
