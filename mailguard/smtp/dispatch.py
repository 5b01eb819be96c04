"""From the engine's result for one outbound message to what the proxy does with it.

Shared by the aiosmtpd handler (a message decided while its client waits,
:mod:`mailguard.smtp.handler`) and the deferral worker (a message decided later,
:mod:`mailguard.smtp.deferred`): both ask :meth:`Dispatcher.outcome` which outcome the
result means and :meth:`Dispatcher.perform` to carry it out. Relay failures are raised
(:class:`~mailguard.smtp.relay.RelayError`); each caller maps them its own way (an SMTP
reply to the client; a retry or a hold for a deferred reply).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

import structlog

from mailguard.config.dryrun import DryRun
from mailguard.engine.service import Deferral, ProcessResult, Status
from mailguard.ops.metrics import observe_message
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay, RelayResult, RelayTemporaryError
from mailguard.smtp.rewrite import divert, rewrite

log = structlog.get_logger("mailguard.smtp.dispatch")

# Parse, classify and rewrite in a worker thread above this size, so one big message does
# not hold the event loop (and every other session) for the whole parse.
OFFLOAD_BYTES = 256 * 1024


class Outcome(StrEnum):
    """What the proxy does with one message."""

    PASS = "pass"  # noqa: S105 (an outcome, not a password)
    HOLD = "hold"
    REWRITE = "rewrite"
    DIVERT = "divert"
    DEFER = "defer"


class HeldLookup(Protocol):
    """What the dispatcher asks the store about a message it has decided before."""

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
    """What the handler and the deferral worker need besides the engine and the relay.

    ``deferral`` None: every message is decided while its client waits (``defer_unseen: 0``).
    ``dry_run``: a bool for every mailbox, or a :class:`DryRun` per mailbox.
    """

    handover: HandoverText
    agents: str | None = None
    trace_header: bool = False
    hostname: str = "mailguard.localdomain"
    dry_run: bool | DryRun = False
    deferral: Deferral | None = None

    def dry_run_for(self, result: ProcessResult) -> bool:
        """Whether the message's mailbox (or, without one, the default) is in a dry run."""
        return DryRun.of(self.dry_run)(result.key.mailbox if result.key else None)


@dataclass(frozen=True, slots=True)
class Message:
    """One message as received: raw bytes and envelope."""

    raw: bytes
    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]


Clock = Callable[[], datetime]
Action = Callable[["Dispatcher", Message, ProcessResult], Awaitable[RelayResult | None]]


def outcome_of(result: ProcessResult) -> Outcome:
    """The outcome of a decided message (a duplicate is replayed elsewhere)."""
    if result.status is Status.DEFERRED:
        return Outcome.DEFER
    if result.hold:
        return Outcome.HOLD
    decision = result.decision
    treat = decision.rewrite if decision is not None else None
    if treat is not None:
        return Outcome.DIVERT if treat.divert else Outcome.REWRITE
    return Outcome.PASS


class Dispatcher:
    """Outcome and action for one engine result; see the module docstring."""

    def __init__(
        self,
        relay: Relay,
        held: HeldLookup,
        settings: ProxySettings,
        clock: Clock = lambda: datetime.now(UTC),
        receipts: Receipts | None = None,
    ) -> None:
        self.relay = relay
        self.settings = settings
        self._held = held
        self._clock = clock
        # Relay receipts (mailguard.smtp.receipts): the upstream's 250 written down before
        # the client's, and the refused recipients' notifications.
        self.receipts = receipts

    async def outcome(
        self, result: ProcessResult, *, stored: bool = False
    ) -> tuple[Outcome, Outcome]:
        """(what to do, what the decision was): they differ in a dry run only.

        ``stored``: the message's bytes are stored already (a deferred reply), so a hold
        found only in the decision log can be honoured (see :meth:`_replay`).
        """
        if result.status is Status.DUPLICATE:
            outcome = await self._replay(result, stored=stored)
        elif result.status is Status.FAILED:
            # The engine kept the raw bytes as a failed message where a person sees them;
            # a reply it cannot judge is relayed rather than blocked for ever (fail open).
            outcome = Outcome.PASS
        else:
            outcome = outcome_of(result)
        would = outcome
        # A deferred message is only stored: the dry run applies when it is decided.
        if outcome not in (Outcome.PASS, Outcome.DEFER) and self.settings.dry_run_for(result):
            outcome = Outcome.PASS
            await self._dry_run(result, would)
        return outcome, would

    async def perform(
        self, outcome: Outcome, msg: Message, result: ProcessResult
    ) -> RelayResult | None:
        """Carry the outcome out: the relay's answer, or None for mail that stays stored.

        A relayed message's receipt is written before this returns (so before the client
        hears 250); if that write fails the message was relayed all the same, and says so.
        """
        relayed = await ACTIONS[outcome](self, msg, result)
        if relayed is not None and self.receipts is not None and result.key is not None:
            try:
                await self.receipts.record(
                    result.key, msg.raw, msg.mail_from, msg.rcpt_tos, relayed, self._clock()
                )
            except Exception as exc:  # relayed: a retry may be relayed again, nothing is lost
                log.error(
                    "relay_receipt_failed",
                    message_id=result.key.message_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
        return relayed

    async def relayed_before(self, result: ProcessResult, msg: Message) -> Any:
        """The receipt of a retried message that was relayed already, else None.

        Only a duplicate can have one: a message the engine decided just now is new.
        """
        if self.receipts is None or result.key is None or result.status is not Status.DUPLICATE:
            return None
        return await self.receipts.relayed_before(result.key, msg.mail_from, msg.rcpt_tos)

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

    async def _replay(self, result: ProcessResult, *, stored: bool = False) -> Outcome:
        """The outcome of a message decided before (a client retrying after 451 or a crash,
        or a deferred reply whose worker died after the decision).

        A held message stays held (answered 250 again, stored once); otherwise the decision
        log says whether it was to be rewritten or diverted; else it is relayed. A deferred
        row is not a hold: it is the message waiting for this very outcome. The decision log
        may also hold a hold without a held row: the helpdesk filed its copy in Sent and the
        watcher decided that copy first (holds are stored for proxy mail only). A deferred
        reply (``stored``) is held then; a message at the proxy's door is not, as a 250 must
        not be given for bytes nobody stored.
        """
        key = result.key
        if key is None:
            return Outcome.PASS
        held = await self._held.held_by_key(key.mailbox, key.message_id, key.direction.value)
        if held is not None and held.state != "deferred":
            return Outcome.HOLD
        for logged in await self._held.decisions_for(key.mailbox, key.message_id):
            # The decision log's explanation lists each action as "action <kind>: ...".
            explain = str(getattr(logged, "explain", ""))
            if stored and "action hold_outbound:" in explain:
                return Outcome.HOLD
            if "action divert_outbound:" in explain:
                return Outcome.DIVERT
            if "action rewrite_outbound:" in explain:
                return Outcome.REWRITE
        return Outcome.PASS

    async def _send(self, raw: bytes, rcpt_tos: Sequence[str], msg: Message) -> RelayResult:
        return await self.relay.send(
            raw, msg.mail_from, rcpt_tos, msg.mail_options, msg.rcpt_options
        )

    async def _pass(self, msg: Message, result: ProcessResult) -> RelayResult | None:
        raw = msg.raw
        if self.settings.trace_header:
            raw = (
                f"X-Mailguard-Relayed: by {self.settings.hostname}; "
                f"{result.key.message_id if result.key else ''}\r\n"
            ).encode() + raw
        return await self._send(raw, msg.rcpt_tos, msg)

    async def _stored(self, msg: Message, result: ProcessResult) -> RelayResult | None:
        # Hold: the engine stored the raw bytes, the envelope and the hold_outbound action in
        # the decision's transaction, which has committed by now. Defer: the engine stored
        # the raw bytes and the envelope as deferred, committed too.
        return None

    async def rewritten(self, raw: bytes, result: ProcessResult) -> bytes:
        """The message as rewritten for a customer who is with a person (also the milter's)."""
        handover = self.settings.handover
        language = result.classification.language if result.classification else None
        headers = {"X-Mailguard-Handover": "yes", "X-Mailguard-Reason": reason_of(result)}
        return await _maybe_in_thread(
            len(raw),
            lambda: rewrite(
                raw,
                sentence=handover.sentence(language),
                subject_prefix=handover.subject_prefix,
                headers=headers,
            ),
        )

    def diverted(self, raw: bytes, rcpt_tos: Sequence[str], result: ProcessResult) -> bytes:
        """The message as diverted to the agents (also the milter's)."""
        return divert(raw, original_recipients=list(rcpt_tos), reason=reason_of(result))

    async def _rewrite(self, msg: Message, result: ProcessResult) -> RelayResult | None:
        raw = await self.rewritten(msg.raw, result)
        return await self._send(raw, msg.rcpt_tos, msg)

    async def _divert(self, msg: Message, result: ProcessResult) -> RelayResult | None:
        agents = self.settings.agents
        if agents is None:  # the config refuses divert without agents; hold would be safer
            raise RelayTemporaryError(451, "4.3.0 divert needs notify.agents")
        return await self._send(self.diverted(msg.raw, msg.rcpt_tos, result), (agents,), msg)


def observe(result: ProcessResult) -> None:
    """Count a decided message in mailguard's metrics (a duplicate or deferred one is not)."""
    if result.status in (Status.DUPLICATE, Status.DEFERRED):
        return
    observe_message(
        result.source.value,
        result.classification.kind.value if result.classification else None,
        [hit.rule for decision in result.decisions for hit in decision.hits],
        result.duration_ms / 1000,
    )


def reason_of(result: ProcessResult) -> str:
    """Why a message is rewritten or diverted, for its X-Mailguard-Reason header."""
    decision = result.decision
    treat = decision.rewrite if decision is not None else None
    return treat.reason if treat is not None else "customer escalated"


async def _maybe_in_thread(size: int, work: Callable[[], bytes]) -> bytes:
    if size > OFFLOAD_BYTES:
        return await asyncio.to_thread(work)
    return work()


ACTIONS: dict[Outcome, Action] = {
    Outcome.PASS: Dispatcher._pass,
    Outcome.HOLD: Dispatcher._stored,
    Outcome.REWRITE: Dispatcher._rewrite,
    Outcome.DIVERT: Dispatcher._divert,
    Outcome.DEFER: Dispatcher._stored,
}
