"""What processing one message produced: its status, decisions and the canonical log line.

Split from :mod:`mailguard.engine.service` (which re-exports every name) to keep that module
about the use case itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from mailguard.domain.model import Classification, Source
from mailguard.domain.policy import Decision
from mailguard.engine.ports import MessageKey
from mailguard.errors import MailguardError


class MessageError(MailguardError):
    """Processing one message failed; carries the message's key and the original error."""

    def __init__(self, key: MessageKey, cause: Exception) -> None:
        self.key = key
        self.cause = cause
        super().__init__(f"{key.mailbox} {key.message_id}: {type(cause).__name__}: {cause}")


class MessageClassifier(Protocol):
    """``mailguard.domain.classify.Classifier`` as the engine uses it."""

    def classify(self, facts: Any) -> Classification: ...


class Status(StrEnum):
    """What happened to a message."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    NO_CUSTOMER = "no_customer"
    FAILED = "failed"
    DEFERRED = "deferred"
    """Stored, decided once the message it answers is seen (:mod:`mailguard.engine.deferral`)."""


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """The outcome for one message: enough for the log line, the proxy and the audit."""

    status: Status
    key: MessageKey | None
    source: Source
    customer: str | None = None
    at: datetime | None = None
    classification: Classification | None = None
    sender: str | None = None
    subject: str = ""
    thread: str | None = None
    decision: Decision | None = None
    error: str | None = None
    duration_ms: float = 0.0
    also: tuple[Decision, ...] = ()
    awaits: str | None = None
    """For a deferred message: the Message-ID it waits for."""

    @property
    def decisions(self) -> tuple[Decision, ...]:
        """The decision for each customer of the message (``also``: further recipients)."""
        return ((self.decision,) if self.decision is not None else ()) + self.also

    @property
    def hold(self) -> bool:
        """True if the outbound message must not be relayed (the proxy holds it): one
        customer's decision to hold it holds the message."""
        return any(d.held for d in self.decisions)

    def log_fields(self) -> dict[str, Any]:
        """The canonical log line's fields (never bodies)."""
        return {
            "source": self.source.value,
            "mailbox": self.key.mailbox if self.key else None,
            "message_id": self.key.message_id if self.key else None,
            "direction": self.key.direction.value if self.key else None,
            "customer": self.customer,
            "kind": self.classification.kind.value if self.classification else None,
            "decision": self.status.value,
            "actions": [a.kind for d in self.decisions for a in d.actions],
            "reasons": [h.rule for d in self.decisions for h in d.hits],
            "error": self.error,
            **({"awaits": self.awaits} if self.awaits is not None else {}),
            "duration_ms": round(self.duration_ms, 3),
        }
