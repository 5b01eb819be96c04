"""The audit report's data: what the renderers print, frozen once built.

``ReportBuilder`` (in ``report``) produces an ``AuditReport``; the renderers only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from mailguard.audit.sources import SkippedEntry
from mailguard.domain.model import Direction, Kind


@dataclass(frozen=True, slots=True)
class AnalysisCounts:
    """Where the replayed messages were parsed and classified.

    ``in_workers`` came back from worker processes; ``in_process`` were analysed by the
    replaying process as planned (a small export, or ``workers=0``); ``after_pool_failure``
    were analysed there because the worker pool failed (a worker killed, out of memory,
    a pickling error). The last should be 0: anything else means the workers did not do
    the work they were started for, and the audit says so instead of hiding it.
    """

    in_workers: int = 0
    in_process: int = 0
    after_pool_failure: int = 0


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One message in a trapped customer's timeline."""

    at: datetime
    direction: Direction
    kind: Kind
    automated: bool
    sender: str | None
    subject: str
    rules: tuple[str, ...]
    escalated: str | None
    resolved: bool
    held: bool
    origin: str


@dataclass(frozen=True, slots=True)
class TrappedCustomer:
    """A customer one rule caught in one mailbox, with what led to it and what followed.

    A rule catches a customer when it hits on one of their messages, whether or not it
    opened an escalation (``bot_ping_pong`` holds mail, ``sla`` re-notifies, a second rule
    may hit on a customer another rule escalated already). ``escalated_at`` is when this
    rule first opened an escalation, None if it never did. The entry is resolved by a
    human reply to the customer (or the engine resolving the escalation); a later hit
    after that reopens it and counts as a new episode.
    """

    mailbox: str
    customer: str
    rule: str
    first_hit_at: datetime
    hits: int
    escalated_at: datetime | None
    escalations: int
    episodes: int
    resolved_at: datetime | None
    evidence: tuple[str, ...]
    linked_mailboxes: tuple[str, ...]
    timeline: tuple[TimelineEvent, ...]
    timeline_omitted: int

    @property
    def open(self) -> bool:
        """Still caught at the end of the replay (no human reply since the last hit)."""
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class WaitingCustomer:
    """A customer whose last human message had no human reply when the export ends."""

    mailbox: str
    customer: str
    since: datetime
    waited: timedelta


@dataclass(frozen=True, slots=True)
class WaitStats:
    """How long customers waited for a first human reply, over all contact episodes."""

    answered: int
    median: timedelta | None
    p90: timedelta | None
    longest: timedelta | None
    still_waiting_count: int
    still_waiting: tuple[WaitingCustomer, ...]


@dataclass(frozen=True, slots=True)
class Bucket:
    """Message counts in one day or week (``start`` is the day, or the week's Monday)."""

    start: date
    replies_automated: int
    replies_human: int
    inbound_automated: int
    inbound_human: int


@dataclass(frozen=True, slots=True)
class Failure:
    """A message the engine could not process; the audit carried on without it."""

    origin: str
    error: str


@dataclass(frozen=True, slots=True, repr=False)
class AuditReport:
    """Everything the renderers print; built once by ``ReportBuilder.build``.

    Its ``repr`` is a one-line summary on purpose: the full one is as large as the JSON
    report (tens of MB for 100,000 messages), and Python 3.11's ``asyncio.run`` formats
    the repr of its task's result while restoring the SIGINT handler, which for a large
    audit was the audit's peak memory.
    """

    messages: int
    inbound: int
    outbound: int
    duplicates: int
    held: int
    customers: int
    first_at: datetime | None
    last_at: datetime | None
    kinds: dict[Kind, dict[Direction, int]]
    rule_hits: dict[str, int]
    trapped: dict[str, tuple[TrappedCustomer, ...]]
    top_automated_senders: tuple[tuple[str, int], ...]
    waits: WaitStats
    bucket: str
    buckets: tuple[Bucket, ...]
    failure_count: int
    failures: tuple[Failure, ...]
    skipped_count: int
    skipped: tuple[SkippedEntry, ...]
    ignored_count: int = 0
    ignored: tuple[SkippedEntry, ...] = ()
    sources: tuple[str, ...] = field(default=())
    analysis: AnalysisCounts = field(default=AnalysisCounts())

    def __repr__(self) -> str:
        caught = {rule: len(traps) for rule, traps in self.trapped.items() if traps}
        return (
            f"AuditReport(messages={self.messages}, customers={self.customers}, "
            f"trapped={caught}, failures={self.failure_count}, skipped={self.skipped_count})"
        )

    @property
    def trapped_count(self) -> int:
        """Distinct (mailbox, customer) pairs caught by any rule."""
        return len({(t.mailbox, t.customer) for ts in self.trapped.values() for t in ts})

    @property
    def escalated_count(self) -> int:
        """Distinct (mailbox, customer) pairs for which any rule opened an escalation."""
        return len(
            {
                (t.mailbox, t.customer)
                for ts in self.trapped.values()
                for t in ts
                if t.escalated_at is not None
            }
        )


def utc_iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, the report's one time format."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
