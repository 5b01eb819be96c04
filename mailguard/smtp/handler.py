"""The proxy's aiosmtpd handler: one message in, the engine's decision, one SMTP reply out.

Thin on purpose: it asks the engine (``Engine.process``, direction outbound, the mailbox
whose address sent it) and maps the outcome to an action and a reply:

=========  ==================================================  ===========================
outcome    what happens                                        reply
=========  ==================================================  ===========================
pass       relayed unchanged (optional trace header)           upstream's 250 / 451 / 5xx
rewrite    relayed with headers, subject prefix, handover      upstream's 250 / 451 / 5xx
divert     relayed to the agents' address instead              upstream's 250 / 451 / 5xx
hold       already stored durably with the decision            250 (held)
=========  ==================================================  ===========================

Never 250 for mail that was neither relayed nor durably held: an engine or store failure is
451 (the client's MTA retries; the engine is idempotent by Message-ID, so a retry of a
message it already decided replays that decision, see :meth:`ProxyHandler._replay`). A
later "defer" outcome (store now, decide once the IMAP watcher saw the message answered)
is one more entry in :data:`ACTIONS`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import structlog
from prometheus_client import Counter, Histogram

from mailguard.domain.model import Direction, Source
from mailguard.engine.service import Engine, Envelope, ProcessResult, Status
from mailguard.ops.metrics import observe_message
from mailguard.smtp import replies
from mailguard.smtp.relay import Relay, RelayError, RelayPermanentError
from mailguard.smtp.rewrite import divert, rewrite

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

# Parse and classify in a worker thread above this size, so one big message does not hold
# the event loop (and every other session) for the whole parse.
OFFLOAD_BYTES = 256 * 1024


class Outcome(StrEnum):
    """What the proxy does with one message."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    HOLD = "hold"
    REWRITE = "rewrite"
    DIVERT = "divert"


class HeldLookup(Protocol):
    """What the handler asks the store about a message it has decided before."""

    async def held_by_key(self, mailbox: str, message_id: str, direction: str) -> Any: ...

    async def decisions_for(self, mailbox: str, message_id: str) -> Sequence[Any]: ...

    async def settle_held(self, held_id: int, state: Any, now: datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class HandoverText:
    """The rewrite settings: subject prefix and handover sentence per language."""

    subject_prefix: str
    sentences: dict[str, str]
    default_language: str

    def sentence(self, language: str | None) -> str:
        """The sentence in the reply's language, else in the default one."""
        return self.sentences.get(language or "", self.sentences[self.default_language])


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """What the handler needs besides the engine and the relay."""

    handover: HandoverText
    agents: str | None = None
    trace_header: bool = False
    hostname: str = "mailguard.localdomain"
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """One message as received: raw bytes and envelope."""

    raw: bytes
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]


Clock = Callable[[], datetime]
Action = Callable[["ProxyHandler", Message, ProcessResult], Awaitable[str]]


def outcome_of(result: ProcessResult) -> Outcome:
    """The outcome of a decided message (a duplicate is replayed elsewhere)."""
    if result.hold:
        return Outcome.HOLD
    decision = result.decision
    treat = decision.rewrite if decision is not None else None
    if treat is not None:
        return Outcome.DIVERT if treat.divert else Outcome.REWRITE
    return Outcome.PASS


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
    ) -> None:
        self._engine = engine
        # Wakes the outbox executor when a decision wrote actions (the copy of a held reply,
        # an escalation completed by this reply, the agents' notification), so they do not
        # wait for its next round.
        self._on_actions = on_actions
        self._relay = relay
        self._held = held
        self._settings = settings
        self._clock = clock
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
            result = await self._engine.process(
                msg.raw,
                source=Source.SMTP,
                now=self._clock(),
                direction=Direction.OUTBOUND,
                envelope=Envelope(msg.mail_from, msg.rcpt_tos, msg.mail_options, msg.rcpt_options),
                offload=len(msg.raw) > OFFLOAD_BYTES,
            )
        except Exception as exc:  # the store is down: the client must keep the message
            log.error("smtp_engine_failed", error=f"{type(exc).__name__}: {exc}")
            return "error", replies.S451_TRY_LATER
        if result.status is not Status.DUPLICATE:
            observe_message(
                result.source.value,
                result.classification.kind.value if result.classification else None,
                [hit.rule for decision in result.decisions for hit in decision.hits],
                result.duration_ms / 1000,
            )
        if any(decision.actions for decision in result.decisions):
            self._on_actions()
        if result.status is Status.DUPLICATE:
            outcome = await self._replay(result)
        elif result.status is Status.FAILED:
            # The engine kept the raw bytes as a failed message where a person sees them;
            # a reply it cannot judge is relayed rather than blocked for ever (fail open).
            outcome = Outcome.PASS
        else:
            outcome = outcome_of(result)
        would = outcome
        if self._settings.dry_run and outcome is not Outcome.PASS:
            outcome = Outcome.PASS
            await self._dry_run(result, would)
        reply = await ACTIONS[outcome](self, msg, result)
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

    async def _dry_run(self, result: ProcessResult, would: Outcome) -> None:
        """Dry run: the decision is logged and the message relayed unchanged.

        A message the engine stored as held is marked released at once, so that nobody
        releases it later (it was sent now) and ``mailguard held list --all`` shows what
        would have been held.
        """
        key = result.key
        if would is not Outcome.HOLD or key is None:
            return
        held = await self._held.held_by_key(key.mailbox, key.message_id, key.direction.value)
        if held is not None and held.state == "held":
            await self._held.settle_held(held.id, "released", self._clock())

    async def _replay(self, result: ProcessResult) -> Outcome:
        """The outcome of a message decided before (a client retrying after 451 or a crash).

        A held message stays held (answered 250 again, stored once); otherwise the decision
        log says whether it was to be rewritten or diverted; else it is relayed.
        """
        key = result.key
        if key is None:
            return Outcome.PASS
        if await self._held.held_by_key(key.mailbox, key.message_id, key.direction.value):
            return Outcome.HOLD
        for logged in await self._held.decisions_for(key.mailbox, key.message_id):
            # The decision log's explanation lists each action as "action <kind>: ...".
            explain = str(getattr(logged, "explain", ""))
            if "action divert_outbound:" in explain:
                return Outcome.DIVERT
            if "action rewrite_outbound:" in explain:
                return Outcome.REWRITE
        return Outcome.PASS

    async def _relay_reply(
        self, raw: bytes, mail_from: str, rcpt_tos: Sequence[str], msg: Message
    ) -> str:
        try:
            result = await self._relay.send(
                raw, mail_from, rcpt_tos, msg.mail_options, msg.rcpt_options
            )
        except RelayPermanentError as exc:
            return replies.permanent(exc.code, exc.text)
        except RelayError as exc:
            log.warning("smtp_relay_deferred", upstream=self._relay.target, error=str(exc))
            return replies.S451_TRY_LATER
        return replies.accepted(result.reply)

    async def _pass(self, msg: Message, result: ProcessResult) -> str:
        raw = msg.raw
        if self._settings.trace_header:
            raw = (
                f"X-Mailguard-Relayed: by {self._settings.hostname}; "
                f"{result.key.message_id if result.key else ''}\r\n"
            ).encode() + raw
        return await self._relay_reply(raw, msg.mail_from, msg.rcpt_tos, msg)

    async def _hold(self, msg: Message, result: ProcessResult) -> str:
        # The engine stored the raw bytes, the envelope and the hold_outbound action in the
        # decision's transaction, which has committed by now.
        return replies.S250_HELD

    async def _rewrite(self, msg: Message, result: ProcessResult) -> str:
        handover = self._settings.handover
        language = result.classification.language if result.classification else None
        reason = _reason(result)
        headers = {"X-Mailguard-Handover": "yes", "X-Mailguard-Reason": reason}
        raw = await _maybe_in_thread(
            len(msg.raw),
            lambda: rewrite(
                msg.raw,
                sentence=handover.sentence(language),
                subject_prefix=handover.subject_prefix,
                headers=headers,
            ),
        )
        return await self._relay_reply(raw, msg.mail_from, msg.rcpt_tos, msg)

    async def _divert(self, msg: Message, result: ProcessResult) -> str:
        agents = self._settings.agents
        if agents is None:  # the config refuses divert without agents; hold would be safer
            return replies.S451_TRY_LATER
        raw = divert(msg.raw, original_recipients=list(msg.rcpt_tos), reason=_reason(result))
        return await self._relay_reply(raw, msg.mail_from, (agents,), msg)


def _as_bytes(data: bytes | bytearray) -> bytes:
    # The session hands over bytes; copying 25 MB again would only cost time.
    return data if isinstance(data, bytes) else bytes(data)


def _reason(result: ProcessResult) -> str:
    decision = result.decision
    treat = decision.rewrite if decision is not None else None
    return treat.reason if treat is not None else "customer escalated"


async def _maybe_in_thread(size: int, work: Callable[[], bytes]) -> bytes:
    if size > OFFLOAD_BYTES:
        return await asyncio.to_thread(work)
    return work()


ACTIONS: dict[Outcome, Action] = {
    Outcome.PASS: ProxyHandler._pass,
    Outcome.HOLD: ProxyHandler._hold,
    Outcome.REWRITE: ProxyHandler._rewrite,
    Outcome.DIVERT: ProxyHandler._divert,
}
