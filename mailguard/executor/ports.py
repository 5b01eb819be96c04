"""What the executor reads and writes: the outbox, and the facts a note is made of.

The store implements this (``mailguard.store``: ``StoreOperations.finish_action`` and the
queries of ``mailguard.store.mailqueries``); the daemon's wiring adapts it. The row types are
Protocols with read-only attributes, so the store's own frozen dataclasses satisfy them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from mailguard.domain.model import Direction


class ActionRow(Protocol):
    """A pending outbox action."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...


class ThreadMessageRow(Protocol):
    """One recorded message of a customer's thread."""

    @property
    def message_id(self) -> str: ...
    @property
    def direction(self) -> Direction: ...
    @property
    def kind(self) -> str: ...
    @property
    def automated(self) -> bool: ...
    @property
    def sender(self) -> str | None: ...
    @property
    def subject(self) -> str: ...
    @property
    def at(self) -> datetime: ...


class EscalationRow(Protocol):
    """Why a thread was escalated."""

    @property
    def rule(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def evidence(self) -> list[dict[str, Any]]: ...
    @property
    def opened_at(self) -> datetime: ...


class HeldRow(Protocol):
    """A held outbound message."""

    @property
    def id(self) -> int: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def state(self) -> str: ...


class OutboxStore(Protocol):
    """The outbox and the reads behind the actions."""

    async def pending_of_kinds(self, kinds: Sequence[str], limit: int) -> Sequence[ActionRow]: ...

    async def count_pending(self) -> dict[str, int]: ...

    async def finish_action(
        self, action_id: int, now: datetime, *, error: str | None = None, give_up: bool = False
    ) -> None: ...

    async def thread_messages(
        self, mailbox: str, customer: str, thread_root: str
    ) -> Sequence[ThreadMessageRow]: ...

    async def escalation(
        self, mailbox: str, customer: str, thread_root: str | None
    ) -> EscalationRow | None: ...

    async def held_copy(self, mailbox: str, message_id: str) -> HeldRow | None: ...

    async def supersede_held(
        self, mailbox: str, customer: str, before: datetime, reason: str, now: datetime
    ) -> Sequence[str]: ...
