"""Aggregate replayed messages into an audit report, with memory bounded by customers.

``ReportBuilder.add`` is called once per ``AuditRecord`` in time order. It never keeps
the records: it keeps counters, one small track per customer (the last few events, so an
escalation can show what led to it, and whether the customer is waiting for a person),
per-day reply counts and one float per answered wait. ``build`` turns that into a frozen
``AuditReport`` that the renderers print.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections import Counter, deque
from datetime import date, datetime, timedelta

from mailguard.audit.records import AuditRecord
from mailguard.audit.report_model import (
    AnalysisCounts,
    AuditReport,
    Bucket,
    Failure,
    TimelineEvent,
    TrappedCustomer,
    WaitingCustomer,
    WaitStats,
    utc_iso,
)
from mailguard.audit.sources import SkippedEntry
from mailguard.domain.model import Direction, Kind

__all__ = [
    "KNOWN_RULES",
    "AnalysisCounts",
    "AuditReport",
    "Bucket",
    "Failure",
    "ReportBuilder",
    "TimelineEvent",
    "TrappedCustomer",
    "WaitStats",
    "WaitingCustomer",
    "utc_iso",
]

# The policy's rules in the order the report lists them; unknown rule names from a newer
# engine are still reported, after these, so the report never drops a finding.
KNOWN_RULES = (
    "automated_streak",
    "repeat_contact",
    "bot_ping_pong",
    "referral_ring",
    "frustration",
    "asks_for_human",
    "sla",
)
# Events remembered per customer before a rule catches them, and kept per trap in total.
TIMELINE_BEFORE = 12
TIMELINE_MAX = 40
SUBJECT_MAX = 140
EVIDENCE_MAX = 5
TOP_SENDERS = 15
WAITING_LISTED = 100
FAILURES_LISTED = 200
# Above this many days of history the chart uses weeks, so it stays readable.
DAY_BUCKETS_MAX = 92


class _Trap:
    """The builder's mutable form of ``TrappedCustomer``."""

    __slots__ = ("mailbox", "customer", "rule", "first_at", "hits", "escalated_at",
                 "escalations", "episodes", "resolved_at", "evidence", "linked", "timeline",
                 "omitted")  # fmt: skip

    def __init__(self, mailbox: str, customer: str, rule: str, at: datetime) -> None:
        self.mailbox = mailbox
        self.customer = customer
        self.rule = rule
        self.first_at = at
        self.hits = 0
        self.escalated_at: datetime | None = None
        self.escalations = 0
        self.episodes = 1
        self.resolved_at: datetime | None = None
        self.evidence: list[str] = []
        self.linked: tuple[str, ...] = ()
        self.timeline: list[TimelineEvent] = []
        self.omitted = 0

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def append(self, event: TimelineEvent) -> None:
        """Add an event unless it is already the last one; count what the cap drops."""
        if self.timeline and self.timeline[-1] is event:
            return
        if len(self.timeline) < TIMELINE_MAX:
            self.timeline.append(event)
        else:
            self.omitted += 1

    def add_evidence(self, texts: list[str]) -> None:
        """Keep the first few distinct evidence texts (rules repeat theirs on every hit)."""
        for text in texts:
            if len(self.evidence) >= EVIDENCE_MAX:
                return
            if text and text not in self.evidence:
                self.evidence.append(text)

    def freeze(self) -> TrappedCustomer:
        return TrappedCustomer(
            mailbox=self.mailbox,
            customer=self.customer,
            rule=self.rule,
            first_hit_at=self.first_at,
            hits=self.hits,
            escalated_at=self.escalated_at,
            escalations=self.escalations,
            episodes=self.episodes,
            resolved_at=self.resolved_at,
            evidence=tuple(self.evidence),
            linked_mailboxes=self.linked,
            timeline=tuple(self.timeline),
            timeline_omitted=self.omitted,
        )


class _Track:
    """What the builder remembers about one customer in one mailbox."""

    __slots__ = ("recent", "waiting_since", "traps")

    def __init__(self) -> None:
        self.recent: deque[TimelineEvent] = deque(maxlen=TIMELINE_BEFORE)
        self.waiting_since: datetime | None = None
        self.traps: dict[str, _Trap] = {}


class ReportBuilder:
    """Feed records in time order with ``add``; ``build`` the report at the end."""

    def __init__(self, *, bucket: str = "auto", sources: tuple[str, ...] = ()) -> None:
        if bucket not in ("auto", "day", "week"):
            raise ValueError(f"bucket must be auto, day or week, not {bucket!r}")
        self._bucket = bucket
        self._sources = sources
        self._messages = 0
        self._duplicates = 0
        self._held = 0
        self._by_direction: Counter[Direction] = Counter()
        self._kinds: Counter[tuple[Kind, Direction]] = Counter()
        self._rule_hits: Counter[str] = Counter()
        self._automated_senders: Counter[str] = Counter()
        self._days: dict[date, list[int]] = {}
        self._tracks: dict[tuple[str, str], _Track] = {}
        self._trapped: dict[str, list[_Trap]] = {}
        self._waits = array("d")
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._failures: list[Failure] = []
        self._failure_count = 0
        self._skipped: list[SkippedEntry] = []
        self._skipped_count = 0
        self._ignored: list[SkippedEntry] = []
        self._ignored_count = 0
        self._analysis = AnalysisCounts()

    def add(self, record: AuditRecord) -> None:
        """Account for one replayed message."""
        at = record.at_utc
        self._messages += 1
        self._first = at if self._first is None else min(self._first, at)
        self._last = at if self._last is None else max(self._last, at)
        self._by_direction[record.direction] += 1
        self._kinds[(record.kind, record.direction)] += 1
        self._held += record.held
        for hit in record.rule_hits:
            self._rule_hits[hit.rule] += 1
        if record.automated and record.sender:
            self._automated_senders[record.sender] += 1
        self._count_day(record, at)
        if record.customer is not None:
            self._follow_customer(record, record.customer, at)

    def add_duplicate(self) -> None:
        """A message the engine had already processed (same Message-ID and direction)."""
        self._duplicates += 1

    def add_failure(self, origin: str, error: str) -> None:
        """A message the engine raised on; listed (bounded) and counted (exactly)."""
        self._failure_count += 1
        if len(self._failures) < FAILURES_LISTED:
            self._failures.append(Failure(origin, error))

    def add_skipped(self, entries: tuple[SkippedEntry, ...], count: int) -> None:
        """Entries the readers could not read; ``count`` may exceed ``len(entries)``."""
        self._skipped.extend(entries)
        self._skipped_count += count

    def add_ignored(self, entries: tuple[SkippedEntry, ...], count: int) -> None:
        """Files that are not mail at all (a README, an index file); reported, not an error."""
        self._ignored.extend(entries)
        self._ignored_count += count

    def set_analysis(self, counts: AnalysisCounts) -> None:
        """Where the engine analysed the messages (see :class:`AnalysisCounts`)."""
        self._analysis = counts

    def _count_day(self, record: AuditRecord, at: datetime) -> None:
        row = self._days.setdefault(at.date(), [0, 0, 0, 0])
        outbound = record.direction is Direction.OUTBOUND
        row[(0 if outbound else 2) + (0 if record.automated else 1)] += 1

    def _follow_customer(self, record: AuditRecord, customer: str, at: datetime) -> None:
        key = (record.mailbox, customer)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track()
        event = _event(record, at)
        track.recent.append(event)
        for trap in track.traps.values():
            if trap.open:
                trap.append(event)
        self._follow_wait(track, record, at)
        for rule in event.rules:
            mailboxes: tuple[str, ...] = (record.mailbox,)
            if rule == record.escalated:
                # The referral ring escalates in the other mailboxes too, linked.
                mailboxes += record.linked_mailboxes
            for mailbox in mailboxes:
                linked = tuple(m for m in mailboxes if m != mailbox)
                self._catch((mailbox, customer), rule, record, event, linked)
        # A person answering the customer ends every trap, as it resolves escalations.
        human_reply = record.direction is Direction.OUTBOUND and not record.automated
        if record.resolved or human_reply:
            for trap in track.traps.values():
                if trap.open:
                    trap.resolved_at = at

    def _follow_wait(self, track: _Track, record: AuditRecord, at: datetime) -> None:
        # A contact episode starts with the customer's first unanswered human message
        # and ends with our first human reply; automated replies do not end it.
        if record.automated:
            return
        if record.direction is Direction.INBOUND:
            if track.waiting_since is None:
                track.waiting_since = at
        elif track.waiting_since is not None:
            self._waits.append(max((at - track.waiting_since).total_seconds(), 0.0))
            track.waiting_since = None

    def _catch(
        self,
        key: tuple[str, str],
        rule: str,
        record: AuditRecord,
        event: TimelineEvent,
        linked: tuple[str, ...],
    ) -> None:
        track = self._tracks.setdefault(key, _Track())
        trap = track.traps.get(rule)
        if trap is None:
            trap = track.traps[rule] = _Trap(key[0], key[1], rule, event.at)
            trap.timeline.extend(track.recent)
            self._trapped.setdefault(rule, []).append(trap)
        elif not trap.open:
            # Caught again after a human reply: a new episode, followed from here.
            trap.resolved_at = None
            trap.episodes += 1
        trap.append(event)
        trap.hits += 1
        trap.add_evidence([h.evidence for h in record.rule_hits if h.rule == rule])
        if rule == record.escalated:
            trap.escalations += 1
            if trap.escalated_at is None:
                trap.escalated_at = event.at
            trap.linked = tuple(sorted(set(trap.linked) | set(linked)))

    def build(self) -> AuditReport:
        """The report as of now; the builder can keep accepting records afterwards."""
        rules = list(KNOWN_RULES) + sorted(
            (set(self._trapped) | set(self._rule_hits)) - set(KNOWN_RULES)
        )
        kinds = {kind: {d: self._kinds[(kind, d)] for d in Direction} for kind in Kind}
        return AuditReport(
            messages=self._messages,
            inbound=self._by_direction[Direction.INBOUND],
            outbound=self._by_direction[Direction.OUTBOUND],
            duplicates=self._duplicates,
            held=self._held,
            customers=sum(1 for t in self._tracks.values() if t.recent),
            first_at=self._first,
            last_at=self._last,
            kinds=kinds,
            rule_hits={rule: self._rule_hits[rule] for rule in rules},
            trapped={rule: self._frozen_traps(rule) for rule in rules},
            top_automated_senders=tuple(self._automated_senders.most_common(TOP_SENDERS)),
            waits=self._wait_stats(),
            bucket=self._bucket_size(),
            buckets=self._buckets(),
            failure_count=self._failure_count,
            failures=tuple(self._failures),
            skipped_count=self._skipped_count,
            skipped=tuple(self._skipped),
            ignored_count=self._ignored_count,
            ignored=tuple(self._ignored),
            sources=self._sources,
            analysis=self._analysis,
        )

    def _frozen_traps(self, rule: str) -> tuple[TrappedCustomer, ...]:
        # Customers still caught come first: they are the ones an operator must act on.
        traps = sorted(self._trapped.get(rule, ()), key=lambda t: (not t.open, t.first_at))
        return tuple(t.freeze() for t in traps)

    def _wait_stats(self) -> WaitStats:
        waits = sorted(self._waits)
        end = self._last
        waiting = [
            WaitingCustomer(mailbox, customer, t.waiting_since, end - t.waiting_since)
            for (mailbox, customer), t in self._tracks.items()
            if t.waiting_since is not None and end is not None
        ]
        waiting.sort(key=lambda w: (-w.waited, w.mailbox, w.customer))

        def rank(q: float) -> timedelta | None:
            # Nearest-rank percentile: always an observed value, no interpolation.
            if not waits:
                return None
            return timedelta(seconds=waits[max(math.ceil(q * len(waits)) - 1, 0)])

        return WaitStats(
            answered=len(waits),
            median=rank(0.5),
            p90=rank(0.9),
            longest=rank(1.0),
            still_waiting_count=len(waiting),
            still_waiting=tuple(waiting[:WAITING_LISTED]),
        )

    def _bucket_size(self) -> str:
        if self._bucket != "auto":
            return self._bucket
        if self._first is None or self._last is None:
            return "day"
        return "day" if (self._last - self._first).days <= DAY_BUCKETS_MAX else "week"

    def _buckets(self) -> tuple[Bucket, ...]:
        if not self._days:
            return ()
        weekly = self._bucket_size() == "week"
        step = timedelta(days=7 if weekly else 1)
        sums: dict[date, list[int]] = {}
        for day, row in self._days.items():
            start = day - timedelta(days=day.weekday()) if weekly else day
            acc = sums.setdefault(start, [0, 0, 0, 0])
            for i, value in enumerate(row):
                acc[i] += value
        # Fill empty days/weeks so the chart's x axis is proportional to time.
        current, last = min(sums), max(sums)
        out: list[Bucket] = []
        while current <= last:
            row = sums.get(current, [0, 0, 0, 0])
            out.append(Bucket(current, row[0], row[1], row[2], row[3]))
            current += step
        return tuple(out)


def _event(record: AuditRecord, at: datetime) -> TimelineEvent:
    subject = record.subject
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1] + "…"
    # Up to a dozen events per customer stay in memory until the end of the replay, and
    # their senders repeat (the customer, our helpdesk): one shared string each.
    sender = sys.intern(record.sender) if record.sender is not None else None
    return TimelineEvent(
        at=at,
        direction=record.direction,
        kind=record.kind,
        automated=record.automated,
        sender=sender,
        subject=subject,
        rules=tuple(
            dict.fromkeys([*(h.rule for h in record.rule_hits), *filter(None, [record.escalated])])
        ),
        escalated=record.escalated,
        resolved=record.resolved,
        held=record.held,
        origin=record.origin,
    )
