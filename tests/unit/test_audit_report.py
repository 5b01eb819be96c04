"""The report builder: counts, trapped customers with timelines, waits, buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.report import (
    KNOWN_RULES,
    TIMELINE_BEFORE,
    TIMELINE_MAX,
    ReportBuilder,
)
from mailguard.audit.sources import SkippedEntry
from mailguard.domain.model import Direction, Kind

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
IN, OUT = Direction.INBOUND, Direction.OUTBOUND


def rec(
    customer: str | None,
    direction: Direction,
    at: datetime,
    kind: Kind = Kind.HUMAN,
    *,
    mailbox: str = "support",
    sender: str | None = None,
    subject: str = "Voucher",
    **extra: object,
) -> AuditRecord:
    if sender is None:
        sender = customer if direction is IN else "support@example.com"
    return AuditRecord(
        mailbox=mailbox,
        customer=customer,
        direction=direction,
        at=at,
        kind=kind,
        automated=kind.automated,
        sender=sender,
        subject=subject,
        thread_id="t-" + (customer or "none"),
        message_id=f"{customer}-{at.isoformat()}@x",
        **extra,  # type: ignore[arg-type]
    )


def streak_history() -> list[AuditRecord]:
    alice, bob, dave = "alice@example.org", "bob@example.org", "dave@example.net"
    hit = RuleHit("automated_streak", "2 human messages answered only by ticket_ack")
    return [
        rec(dave, IN, T0 - timedelta(hours=1)),
        rec(alice, IN, T0),
        rec(alice, OUT, T0 + timedelta(minutes=1), Kind.TICKET_ACK),
        rec(dave, OUT, T0 + timedelta(hours=1)),
        rec(
            bob,
            IN,
            T0 + timedelta(hours=2),
            frustration=0.9,
            escalated="frustration",
            rule_hits=(RuleHit("frustration", "'third time I am writing'"),),
        ),  # fmt: skip
        rec(None, IN, T0 + timedelta(hours=3), Kind.BULK, sender="news@vendor.example"),
        rec(alice, IN, T0 + timedelta(days=1)),
        rec(
            alice,
            OUT,
            T0 + timedelta(days=1, minutes=1),
            Kind.AUTO_REPLY,
            rule_hits=(hit,),
            escalated="automated_streak",
        ),  # fmt: skip
        rec(alice, IN, T0 + timedelta(days=2)),
        rec(alice, OUT, T0 + timedelta(days=2, hours=3), resolved=True),
    ]


def build(records: list[AuditRecord], **kwargs: str) -> ReportBuilder:
    builder = ReportBuilder(**kwargs)  # type: ignore[arg-type]
    for record in records:
        builder.add(record)
    return builder


def test_counts_per_kind_direction_and_rule() -> None:
    report = build(streak_history()).build()
    assert report.messages == 10
    assert (report.inbound, report.outbound) == (6, 4)
    assert report.kinds[Kind.HUMAN] == {IN: 5, OUT: 2}
    assert report.kinds[Kind.TICKET_ACK] == {IN: 0, OUT: 1}
    assert report.kinds[Kind.BULK] == {IN: 1, OUT: 0}
    assert set(report.kinds) == set(Kind)
    assert list(report.rule_hits)[: len(KNOWN_RULES)] == list(KNOWN_RULES)
    assert report.rule_hits["automated_streak"] == 1
    assert report.rule_hits["repeat_contact"] == 0
    assert report.customers == 3
    assert report.first_at == T0 - timedelta(hours=1)
    assert report.last_at == T0 + timedelta(days=2, hours=3)


def test_top_automated_senders_counts_both_directions() -> None:
    report = build(streak_history()).build()
    assert report.top_automated_senders == (("support@example.com", 2), ("news@vendor.example", 1))


def test_trapped_customer_has_timeline_evidence_and_resolution() -> None:
    report = build(streak_history()).build()
    (trap,) = report.trapped["automated_streak"]
    assert (trap.mailbox, trap.customer) == ("support", "alice@example.org")
    assert trap.escalated_at == T0 + timedelta(days=1, minutes=1)
    assert trap.evidence == ("2 human messages answered only by ticket_ack",)
    assert trap.resolved_at == T0 + timedelta(days=2, hours=3)
    assert not trap.open
    # What led to it (all of alice's events before) and what followed until resolution.
    assert [(e.direction, e.kind) for e in trap.timeline] == [
        (IN, Kind.HUMAN),
        (OUT, Kind.TICKET_ACK),
        (IN, Kind.HUMAN),
        (OUT, Kind.AUTO_REPLY),
        (IN, Kind.HUMAN),
        (OUT, Kind.HUMAN),
    ]
    assert trap.timeline[3].escalated == "automated_streak"
    assert trap.timeline[-1].resolved
    (angry,) = report.trapped["frustration"]
    assert angry.open and angry.customer == "bob@example.org"
    assert report.trapped["referral_ring"] == ()
    assert report.trapped_count == 2


def test_waits_for_first_human_reply() -> None:
    report = build(streak_history()).build()
    waits = report.waits
    # dave: 2 h; alice: from her first message to the human reply, 51 h.
    assert waits.answered == 2
    assert waits.median == timedelta(hours=2)
    assert waits.p90 == timedelta(hours=51)
    assert waits.longest == timedelta(hours=51)
    assert waits.still_waiting_count == 1
    (bob,) = waits.still_waiting
    assert bob.customer == "bob@example.org"
    assert bob.since == T0 + timedelta(hours=2)
    assert bob.waited == report.last_at - bob.since  # type: ignore[operator]


def test_automated_messages_neither_start_nor_end_a_wait() -> None:
    c = "erin@example.org"
    records = [
        rec(c, IN, T0, Kind.OUT_OF_OFFICE),
        rec(c, IN, T0 + timedelta(hours=1)),
        rec(c, OUT, T0 + timedelta(hours=2), Kind.AUTO_REPLY),
        rec(c, IN, T0 + timedelta(hours=3)),
        rec(c, OUT, T0 + timedelta(hours=5)),
    ]
    waits = build(records).build().waits
    assert (waits.answered, waits.longest) == (1, timedelta(hours=4))


def test_referral_ring_opens_linked_traps_in_both_mailboxes() -> None:
    c = "carol@example.org"
    hit = RuleHit("referral_ring", "auto-reply names shop@example.com")
    records = [
        rec(c, IN, T0, mailbox="shop"),
        rec(c, OUT, T0 + timedelta(minutes=1), Kind.AUTO_REPLY, mailbox="shop"),
        rec(c, IN, T0 + timedelta(hours=1)),
        rec(
            c,
            OUT,
            T0 + timedelta(hours=1, minutes=1),
            Kind.AUTO_REPLY,
            rule_hits=(hit,),
            escalated="referral_ring",
            linked_mailboxes=("shop",),
        ),  # fmt: skip
        rec(c, OUT, T0 + timedelta(hours=5), mailbox="shop", resolved=True),
    ]
    report = build(records).build()
    support, shop = sorted(report.trapped["referral_ring"], key=lambda t: t.mailbox, reverse=True)
    assert (support.mailbox, support.linked_mailboxes) == ("support", ("shop",))
    assert (shop.mailbox, shop.linked_mailboxes) == ("shop", ("support",))
    assert support.evidence == shop.evidence == ("auto-reply names shop@example.com",)
    assert support.open
    assert shop.resolved_at == T0 + timedelta(hours=5)
    # The shop trap shows the shop history plus the message that linked it.
    assert len(shop.timeline) == 4
    assert report.trapped_count == 2


def test_a_rule_that_hits_without_escalating_still_catches_the_customer() -> None:
    c = "ooo@example.org"
    hold = RuleHit("bot_ping_pong", "automated reply to automated mail held")
    records = [
        rec(c, IN, T0),
        rec(c, IN, T0 + timedelta(hours=1), Kind.OUT_OF_OFFICE),
        rec(
            c,
            OUT,
            T0 + timedelta(hours=1, minutes=1),
            Kind.AUTO_REPLY,
            rule_hits=(hold,),
            held=True,
        ),  # fmt: skip
        rec(
            c,
            OUT,
            T0 + timedelta(hours=2, minutes=1),
            Kind.AUTO_REPLY,
            rule_hits=(hold,),
            held=True,
        ),  # fmt: skip
        rec(c, OUT, T0 + timedelta(hours=3)),
        rec(c, OUT, T0 + timedelta(days=1), Kind.AUTO_REPLY, rule_hits=(hold,), held=True),
    ]
    report = build(records).build()
    (trap,) = report.trapped["bot_ping_pong"]
    assert trap.escalated_at is None and trap.escalations == 0
    assert trap.first_hit_at == T0 + timedelta(hours=1, minutes=1)
    assert (trap.hits, trap.episodes) == (3, 2)
    # The evidence is kept once, though the rule repeated it on every hit.
    assert trap.evidence == ("automated reply to automated mail held",)
    assert trap.open  # the last hit came after the human reply
    assert report.held == 3
    assert (report.trapped_count, report.escalated_count) == (1, 0)


def test_timeline_is_bounded() -> None:
    c = "frank@example.org"
    records = [rec(c, IN, T0 + timedelta(minutes=i)) for i in range(TIMELINE_BEFORE + 5)]
    records.append(
        rec(c, OUT, T0 + timedelta(hours=1), Kind.AUTO_REPLY, escalated="repeat_contact")
    )
    records += [rec(c, IN, T0 + timedelta(hours=2, minutes=i)) for i in range(TIMELINE_MAX)]
    (trap,) = build(records).build().trapped["repeat_contact"]
    assert trap.timeline[0].at == T0 + timedelta(minutes=6)
    assert len(trap.timeline) == TIMELINE_MAX
    assert trap.timeline_omitted == TIMELINE_BEFORE


def test_re_escalation_after_resolution_counts_episodes() -> None:
    c = "gina@example.org"
    records = [
        rec(c, IN, T0, escalated="frustration"),
        rec(c, OUT, T0 + timedelta(hours=1), resolved=True),
        rec(c, IN, T0 + timedelta(days=1), escalated="frustration"),
    ]
    (trap,) = build(records).build().trapped["frustration"]
    assert (trap.escalations, trap.episodes, trap.hits) == (2, 2, 2)
    assert trap.open
    assert trap.escalated_at == T0


def test_day_buckets_fill_gaps_and_split_replies_from_inbound() -> None:
    c = "hans@example.de"
    local = timezone(timedelta(hours=2))
    records = [
        rec(c, IN, T0),
        rec(c, OUT, T0 + timedelta(minutes=1), Kind.AUTO_REPLY),
        # 01:30 local time on the 5th is the 4th in UTC: buckets are UTC days.
        rec(c, OUT, datetime(2026, 11, 5, 1, 30, tzinfo=local)),
    ]
    report = build(records).build()
    assert report.bucket == "day"
    assert [(b.start, b.replies_automated, b.replies_human) for b in report.buckets] == [
        (date(2026, 11, 2), 1, 0),
        (date(2026, 11, 3), 0, 0),
        (date(2026, 11, 4), 0, 1),
    ]
    assert report.buckets[0].inbound_human == 1


def test_long_histories_use_week_buckets() -> None:
    c = "ida@example.org"
    records = [rec(c, OUT, T0 + timedelta(days=d), Kind.AUTO_REPLY) for d in (0, 3, 100)]
    report = build(records).build()
    assert report.bucket == "week"
    assert report.buckets[0] == report.buckets[0].__class__(date(2026, 11, 2), 2, 0, 0, 0)
    assert all(b.start.weekday() == 0 for b in report.buckets)
    assert len(report.buckets) == 15
    assert build(records, bucket="day").build().bucket == "day"


def test_failures_skips_and_duplicates_are_reported() -> None:
    builder = ReportBuilder()
    builder.add_failure("box.mbox#3", "ValueError: bad")
    builder.add_duplicate()
    builder.add_skipped((SkippedEntry("x.eml", "empty file"),), 7)
    report = builder.build()
    assert (report.failure_count, report.duplicates, report.skipped_count) == (1, 1, 7)
    assert report.failures[0].origin == "box.mbox#3"
    assert report.messages == 0
    assert report.buckets == ()
    assert report.waits.median is None


def test_invalid_records_and_bucket_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rec("a@example.org", IN, datetime(2026, 11, 2, 9, 0))
    with pytest.raises(ValueError, match="linked_mailboxes"):
        rec("a@example.org", IN, T0, linked_mailboxes=("shop",))
    with pytest.raises(ValueError, match="bucket"):
        ReportBuilder(bucket="month")


def test_report_repr_is_a_short_summary() -> None:
    # asyncio.run (Python 3.11) formats the repr of its task's result; a full dataclass repr
    # of a large report cost more memory than the whole audit.
    builder = ReportBuilder()
    report = builder.build()
    text = repr(report)
    assert text.startswith("AuditReport(messages=0, customers=0")
    assert len(text) < 200
