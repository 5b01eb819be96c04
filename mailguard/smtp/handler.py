"""The proxy's aiosmtpd handler: one message in, the engine's decision, one SMTP reply out.

Thin on purpose: it asks the engine (through the group commit of
:mod:`mailguard.engine.group`: messages arriving together share one transaction, each is
answered after that commit; direction outbound, the mailbox whose address sent it) and
has the dispatcher (:mod:`mailguard.smtp.dispatch`) map the outcome to an action (its
:data:`~mailguard.smtp.dispatch.ACTIONS`) and the action's result to a reply:

=========  ==================================================  ===========================
outcome    what happens                                        reply
=========  ==================================================  ===========================
pass       relayed unchanged (optional trace header)           upstream's 250 / 451 / 5xx
rewrite    relayed with headers, subject prefix, handover      upstream's 250 / 451 / 5xx
divert     relayed to the agents' address instead              upstream's 250 / 451 / 5xx
hold       already stored durably with the decision            250 (held)
defer      already stored durably, decided later               250 (deferred)
=========  ==================================================  ===========================

Defer: an automated reply to a message the IMAP watcher has not recorded yet (a Sieve
vacation reply is sent while the customer's message is being delivered) is stored and
decided by the deferral worker once the watcher has seen that message
(:mod:`mailguard.smtp.deferred`, ``proxy.defer_unseen``).

Never 250 for mail that was neither relayed nor durably stored: an engine or store failure
is 451 (the client's MTA retries; the engine is idempotent by Message-ID, so a retry of a
message it already decided replays that decision, see ``Dispatcher._replay``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Counter, Histogram

from mailguard.domain.model import Direction, Source
from mailguard.engine.group import GroupCommit
from mailguard.engine.service import Engine, Envelope, Incoming
from mailguard.smtp import replies
from mailguard.smtp.deferred import DEFERRALS
from mailguard.smtp.dispatch import (
    OFFLOAD_BYTES,
    Clock,
    Dispatcher,
    HandoverText,
    HeldLookup,
    Message,
    Outcome,
    ProxySettings,
    observe,
    outcome_of,
)
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay, RelayError, RelayPermanentError

__all__ = [
    "HandoverText",
    "HeldLookup",
    "Message",
    "Outcome",
    "ProxyHandler",
    "ProxySettings",
    "outcome_of",
]

log = structlog.get_logger("mailguard.smtp.handler")

SMTP_MESSAGES = Counter(
    "mailguard_smtp_messages",
    "Messages the proxy answered, by outcome and reply class",
    ["outcome", "reply"],
)
SMTP_SECONDS = Histogram(
    "mailguard_smtp_message_seconds",
    "From the end of DATA to the reply, per message",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class ProxyHandler:
    """aiosmtpd handler; see the module docstring."""

    def __init__(
        self,
        engine: Engine,
        relay: Relay,
        held: HeldLookup,
        settings: ProxySettings,
        clock: Clock = lambda: datetime.now(UTC),
        on_actions: Callable[[], None] = lambda: None,
        receipts: Receipts | None = None,
    ) -> None:
        self._engine = engine
        # Messages that arrive together share one transaction (mailguard.engine.group);
        # each is answered after the commit of its group.
        self.group = GroupCommit(engine)
        # Wakes the outbox executor when a decision wrote actions (the copy of a held reply,
        # an escalation completed by this reply, the agents' notification), so they do not
        # wait for its next round.
        self._on_actions = on_actions
        self._settings = settings
        self._clock = clock
        self.dispatcher = Dispatcher(relay, held, settings, clock, receipts)
        self.in_flight = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        started = time.perf_counter()
        msg = Message(
            raw=_as_bytes(envelope.original_content),
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(envelope.rcpt_options),
        )
        outcome = "error"
        reply = replies.S451_TRY_LATER
        self.in_flight += 1
        try:
            outcome, reply = await self._handle(msg)
        except Exception as exc:  # never a 250, never aiosmtpd's 500 with our internals
            log.exception("smtp_message_failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            self.in_flight -= 1
            SMTP_MESSAGES.labels(outcome, reply[:1] + "xx").inc()
            SMTP_SECONDS.observe(time.perf_counter() - started)
        return reply

    async def handle_exception(self, error: Exception) -> str:
        """An error in the session outside a message's handling: try later, say nothing more."""
        log.error("smtp_session_failed", error=f"{type(error).__name__}: {error}")
        return replies.S451_TRY_LATER

    async def _handle(self, msg: Message) -> tuple[str, str]:
        try:
            item = Incoming(
                msg.raw,
                Source.SMTP,
                self._clock(),
                direction=Direction.OUTBOUND,
                envelope=Envelope(msg.mail_from, msg.rcpt_tos, msg.mail_options, msg.rcpt_options),
                defer=self._settings.deferral,
            )
            result = await self.group.process(item, offload=len(msg.raw) > OFFLOAD_BYTES)
        except Exception as exc:  # the store is down: the client must keep the message
            log.error("smtp_engine_failed", error=f"{type(exc).__name__}: {exc}")
            return "error", replies.S451_TRY_LATER
        # A deferred message is counted when it is decided (mailguard.smtp.deferred).
        observe(result)
        if any(decision.actions for decision in result.decisions):
            self._on_actions()
        outcome, would = await self.dispatcher.outcome(result)
        receipt = None
        if outcome in (Outcome.PASS, Outcome.REWRITE, Outcome.DIVERT):
            # A retry of a message relayed already (its 250 was lost): answered, not resent.
            receipt = await self.dispatcher.relayed_before(result, msg)
        if receipt is not None:
            reply = replies.relayed_already(receipt.reply)
        else:
            reply = await self._perform(outcome, msg, result)
        if outcome is Outcome.DEFER:
            DEFERRALS.labels("deferred").inc()
        log.info(
            "smtp_message_handled",
            **result.log_fields(),
            outcome=outcome.value,
            would=would.value,
            reply=reply[:3],
            size=len(msg.raw),
            recipients=len(msg.rcpt_tos),
        )
        return outcome.value, reply

    async def _perform(self, outcome: Outcome, msg: Message, result: Any) -> str:
        try:
            relayed = await self.dispatcher.perform(outcome, msg, result)
        except RelayPermanentError as exc:
            return replies.permanent(exc.code, exc.text)
        except RelayError as exc:
            log.warning(
                "smtp_relay_deferred", upstream=self.dispatcher.relay.target, error=str(exc)
            )
            return replies.S451_TRY_LATER
        if relayed is not None:
            return replies.accepted(relayed.reply)
        return replies.S250_DEFERRED if outcome is Outcome.DEFER else replies.S250_HELD


def _as_bytes(data: bytes | bytearray) -> bytes:
    # The session hands over bytes; copying 25 MB again would only cost time.
    return data if isinstance(data, bytes) else bytes(data)
