"""Releasing and dropping held mail: each held message leaves at most once.

Release order and why:

1. **claim** - the held row moves from ``held`` to ``released`` in one conditional update
   (``settle_held``); of two agents or replicas releasing at once exactly one wins, and a
   second ``release`` is refused.
2. **relay** - the original bytes with the original envelope, through the pooled relay.
3. on a relay failure (4xx, 5xx, upstream down) the claim is undone (``released`` ->
   ``held``) so the message can be released again later.

A crash (or SIGKILL) between 1 and the end of 2 leaves the row ``released`` while the
relay may or may not have taken it. We choose *at most once* there: sending a robot's reply
twice to a customer who is with a person is the failure mailguard exists to prevent, the
raw bytes stay in the database (``mailguard held list --all`` shows the row, ``held show``
its content), and the log has ``held_release_started`` without ``held_released`` for it.
An operator who checked the relay's log for the Message-ID can send it again with
``mailguard held release --force ID``.

After the relay's 250, a relay receipt is written (:mod:`mailguard.smtp.receipts`: the
daemon's journal first, then the database), as the proxy does for what it relays. A
released row with a receipt was sent; one without, claimed longer ago than a relay can take,
is one a process died relaying (:func:`relayed` tells them apart; agents releasing from
their mail client see the difference, :mod:`mailguard.app.held_commands`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog
from prometheus_client import Counter

from mailguard.domain.model import Direction
from mailguard.engine.ports import MessageKey
from mailguard.errors import MailguardError
from mailguard.smtp.receipts import Receipts, envelope_digest
from mailguard.smtp.relay import Relay, RelayPermanentError, RelayResult

log = structlog.get_logger("mailguard.smtp.held")

HELD_SETTLED = Counter(
    "mailguard_smtp_held_settled", "Held messages released or dropped", ["action"]
)

HELD = "held"
RELEASED = "released"
DISCARDED = "discarded"
DEFERRED = "deferred"


class HeldRecord(Protocol):
    """A held message as the store returns it (``mailguard.store.records.HeldMail``)."""

    @property
    def id(self) -> int: ...
    @property
    def mailbox(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def envelope_sender(self) -> str | None: ...
    @property
    def envelope_recipients(self) -> tuple[str, ...]: ...
    @property
    def mail_options(self) -> tuple[str, ...]: ...
    @property
    def rcpt_options(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def held_at(self) -> datetime: ...
    @property
    def awaits(self) -> str | None: ...
    @property
    def decide_by(self) -> datetime | None: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def updated_at(self) -> datetime | None: ...


class HeldStore(Protocol):
    """The store's held-mail operations (``mailguard.store.operations``)."""

    async def held_by_id(self, held_id: int) -> Any: ...

    async def settle_held(self, held_id: int, state: Any, now: datetime) -> bool: ...

    async def reopen_held(self, held_id: int, now: datetime) -> bool: ...

    async def receipt_for(
        self, mailbox: str, message_id: str, direction: Direction, envelope: str
    ) -> Any: ...


class HeldError(MailguardError):
    """A held message cannot be released or dropped; ``held_id`` and ``problem`` say why."""

    def __init__(self, held_id: int, problem: str, *, relay: str | None = None) -> None:
        self.held_id = held_id
        self.problem = problem
        # Set when it could not be relayed ("temporary": 4xx, unreachable; "permanent": 5xx
        # or no recipients, trying again changes nothing); the message is still held then.
        self.relay = relay
        super().__init__(f"held message {held_id}: {problem}")


@dataclass(frozen=True, slots=True)
class Released:
    """A released message and what the relay answered."""

    held: HeldRecord
    relay: RelayResult


async def _get(store: HeldStore, held_id: int) -> HeldRecord:
    record: HeldRecord | None = await store.held_by_id(held_id)
    if record is None:
        raise HeldError(held_id, "no such held message")
    return record


async def release(
    store: HeldStore,
    relay: Relay,
    held_id: int,
    now: datetime,
    *,
    force: bool = False,
    receipts: Receipts | None = None,
) -> Released:
    """Relay a held message once (see the module docstring); ``force`` re-sends a released one.

    With ``receipts`` the relay's 250 is recorded as a relay receipt.
    """
    record = await _get(store, held_id)
    if not record.envelope_recipients:
        raise HeldError(
            held_id, "no envelope recipients were stored; cannot relay", relay="permanent"
        )
    if force:
        if record.state != RELEASED:
            raise HeldError(held_id, f"--force re-sends released mail only; it is {record.state}")
    elif record.state == DEFERRED:
        raise HeldError(held_id, _deferred_problem(record))
    elif record.state != HELD or not await store.settle_held(held_id, RELEASED, now):
        state = (await _get(store, held_id)).state
        raise HeldError(held_id, f"not held any more ({state}); it was not sent again")
    log.info("held_release_started", held_id=held_id, message_id=record.message_id)
    try:
        result = await relay.send(
            record.raw,
            record.envelope_sender or "",
            record.envelope_recipients,
            record.mail_options,
            record.rcpt_options,
        )
    except MailguardError as exc:
        if not force:
            await store.reopen_held(held_id, now)
        log.warning("held_release_failed", held_id=held_id, error=str(exc))
        refusal = "permanent" if isinstance(exc, RelayPermanentError) else "temporary"
        raise HeldError(held_id, f"relay failed, still held: {exc}", relay=refusal) from exc
    if receipts is not None:
        await _record(receipts, record, result, now)
    HELD_SETTLED.labels("released").inc()
    log.info("held_released", held_id=held_id, message_id=record.message_id, reply=result.reply)
    return Released(record, result)


async def _record(
    receipts: Receipts, record: HeldRecord, result: RelayResult, now: datetime
) -> None:
    key = MessageKey(record.mailbox, record.message_id, record.direction)
    try:
        await receipts.record(
            key, record.raw, record.envelope_sender or "", record.envelope_recipients, result, now
        )
    except Exception as exc:
        # Sent all the same: the journal (where there is one) still has the receipt for the
        # next start; the row stays released, never sent twice.
        log.error("held_receipt_failed", held_id=record.id, error=f"{type(exc).__name__}: {exc}")


async def relayed(store: HeldStore, record: HeldRecord) -> bool:
    """Whether the relay took this held message: it has a relay receipt."""
    digest = envelope_digest(record.envelope_sender or "", record.envelope_recipients)
    found = await store.receipt_for(record.mailbox, record.message_id, record.direction, digest)
    return found is not None


async def drop(store: HeldStore, held_id: int, now: datetime) -> HeldRecord:
    """Discard a held message for good (its bytes stay until the retention purge)."""
    record = await _get(store, held_id)
    if record.state == DEFERRED:
        raise HeldError(held_id, _deferred_problem(record))
    if record.state != HELD or not await store.settle_held(held_id, DISCARDED, now):
        state = (await _get(store, held_id)).state
        raise HeldError(held_id, f"not held any more ({state})")
    HELD_SETTLED.labels("dropped").inc()
    log.info("held_dropped", held_id=held_id, message_id=record.message_id)
    return record


def _deferred_problem(record: HeldRecord) -> str:
    until = f" at {record.decide_by:%H:%M:%S} UTC" if record.decide_by else ""
    return (
        f"it is deferred, not held: the proxy decides it once <{record.awaits}> is seen, "
        f"or{until} without it; nothing was changed"
    )


def summary(records: Sequence[HeldRecord]) -> list[str]:
    """One line per held (or deferred) message, for ``mailguard held list``."""
    lines = []
    for r in records:
        to = ", ".join(r.envelope_recipients)
        why = r.reason
        if r.state == DEFERRED and r.decide_by is not None:
            why = f"{why} (decided by {r.decide_by:%H:%M:%S} UTC at the latest)"
        lines.append(
            f"{r.id:>6}  {r.held_at:%Y-%m-%d %H:%M}  {r.state:<9} {r.mailbox:<12} "
            f"{r.envelope_sender or '<>'} -> {to}  <{r.message_id}>  {why}"
        )
    return lines
