"""The four renderers: text, Markdown, JSON (stable schema) and self-contained HTML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own output only
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.render import FORMATS, SCHEMA, format_duration, render, report_to_dict
from mailguard.audit.render_html import svg_chart
from mailguard.audit.report import KNOWN_RULES, AuditReport, ReportBuilder
from mailguard.audit.sources import SkippedEntry
from mailguard.domain.model import Direction, Kind

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOSTILE_SUBJECT = '<script>alert("x")</script> & <img src="http://evil.example/x.png">'
HOSTILE_SENDER = '"><a href="https://evil.example/">@example.org'


def record(at: datetime, direction: Direction, kind: Kind, **extra: object) -> AuditRecord:
    fields: dict[str, object] = {
        "mailbox": "support",
        "customer": "anna@example.org",
        "direction": direction,
        "at": at,
        "kind": kind,
        "automated": kind.automated,
        "sender": "anna@example.org" if direction is Direction.INBOUND else "support@example.com",
        "subject": "Gutschein ungültig",
        "thread_id": "t1",
        "message_id": f"m{at.timestamp()}@example.org",
        "origin": f"export/INBOX.mbox#{int(at.timestamp()) % 1000}",
    }
    fields.update(extra)
    return AuditRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def report() -> AuditReport:
    builder = ReportBuilder(sources=("export/INBOX.mbox",))
    hit = RuleHit("automated_streak", 'ticket_ack answered "Gutschein" twice')
    for i in range(3):
        day = T0 + timedelta(days=i)
        builder.add(record(day, Direction.INBOUND, Kind.HUMAN, subject=HOSTILE_SUBJECT))
        builder.add(record(day + timedelta(minutes=1), Direction.OUTBOUND, Kind.TICKET_ACK))
    builder.add(
        record(
            T0 + timedelta(days=2, minutes=2),
            Direction.OUTBOUND,
            Kind.AUTO_REPLY,
            rule_hits=(hit,),
            escalated="automated_streak",
            sender=HOSTILE_SENDER,
        )
    )
    builder.add(
        record(T0 + timedelta(days=3), Direction.INBOUND, Kind.OUT_OF_OFFICE, customer="b@x.org")
    )
    builder.add_failure("export/INBOX.mbox#9", "UnicodeError: <bad>")
    builder.add_skipped((SkippedEntry("export/empty.eml", "empty file"),), 1)
    builder.add_ignored((SkippedEntry("export/Inbox.msf", "not a message, mbox or Maildir"),), 1)
    return builder.build()


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_mentions_the_trapped_customer_and_rule(report: AuditReport, fmt: str) -> None:
    text = render(report, fmt)
    assert "anna@example.org" in text
    assert "automated_streak" in text
    assert "export/INBOX.mbox#9" in text
    assert "export/empty.eml" in text
    assert "export/Inbox.msf" in text


def test_unknown_format_is_refused(report: AuditReport) -> None:
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        render(report, "pdf")


def test_html_is_one_well_formed_self_contained_file(report: AuditReport) -> None:
    html = render(report, "html")
    assert html.startswith("<!DOCTYPE html>\n")
    # Well-formed XML after the doctype: every element closed, every attribute quoted.
    root = ET.fromstring(  # noqa: S314 - our own output
        html.removeprefix("<!DOCTYPE html>\n")
    )
    assert root.tag == "html"
    svgs = root.findall(".//svg")
    assert len(svgs) == 1
    assert len(svgs[0].findall("polyline")) == 2
    # Nothing is loaded from anywhere: no scripts, links, images, imports or URLs.
    for element in root.iter():
        assert element.tag not in {"script", "link", "img", "iframe", "object", "embed"}
        assert not {"src", "href"} & set(element.attrib)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']", html)
    assert "url(" not in html and "@import" not in html
    # Without hostile text in the mailbox, no URL appears anywhere in the file.
    clean = ReportBuilder()
    clean.add(record(T0, Direction.OUTBOUND, Kind.AUTO_REPLY, escalated="bot_ping_pong"))
    assert "http" not in render(clean.build(), "html")


def test_html_escapes_text_from_the_mailbox(report: AuditReport) -> None:
    html = render(report, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in html
    assert "&quot;&gt;&lt;a href=&quot;" in html
    root = ET.fromstring(  # noqa: S314 - our own output
        html.removeprefix("<!DOCTYPE html>\n")
    )
    cells = ["".join(td.itertext()) for td in root.iter("td")]
    assert HOSTILE_SUBJECT in cells
    assert HOSTILE_SENDER in cells


def test_svg_chart_plots_replies_per_bucket(report: AuditReport) -> None:
    root = ET.fromstring(  # noqa: S314 - our own output
        svg_chart(report.buckets)
    )
    automated, human = root.findall("polyline")
    assert automated.get("class") == "series-automated"
    # Four days: three ticket acks + one auto-reply on the third day, no human replies.
    assert len(automated.get("points", "").split()) == 4
    titles = ["".join(t.itertext()) for t in root.iter("title")]
    assert "2026-11-04: 2 automated" in titles
    assert "2026-11-05: 0 human" in titles
    assert svg_chart(()) == "<p>No replies in the export.</p>"


EXPECTED_TOP = [
    "schema",
    "sources",
    "summary",
    "analysis",
    "kinds",
    "rule_hits",
    "trapped",
    "top_automated_senders",
    "first_human_reply",
    "replies_over_time",
    "failures",
    "skipped",
    "ignored",
]
EXPECTED_SUMMARY = [
    "messages",
    "inbound",
    "outbound",
    "customers",
    "trapped_customers",
    "escalated_customers",
    "held_outbound",
    "duplicates",
    "failed",
    "skipped",
    "ignored",
    "first_message_at",
    "last_message_at",
]
EXPECTED_TRAP = [
    "mailbox",
    "customer",
    "rule",
    "first_hit_at",
    "hits",
    "escalated_at",
    "escalations",
    "episodes",
    "resolved_at",
    "linked_mailboxes",
    "evidence",
    "timeline",
    "timeline_omitted",
]
EXPECTED_EVENT = [
    "at",
    "direction",
    "kind",
    "automated",
    "sender",
    "subject",
    "rules",
    "escalated",
    "resolved",
    "held",
    "origin",
]


def test_json_schema_is_stable(report: AuditReport) -> None:
    data = json.loads(render(report, "json"))
    assert data == report_to_dict(report)
    assert list(data) == EXPECTED_TOP
    assert data["schema"] == SCHEMA == "mailguard.audit/1"
    assert list(data["summary"]) == EXPECTED_SUMMARY
    assert list(data["kinds"]) == [k.value for k in Kind]
    assert data["kinds"]["ticket_ack"] == {"in": 0, "out": 3, "total": 3}
    assert list(data["rule_hits"]) == list(KNOWN_RULES)
    assert list(data["trapped"]) == list(KNOWN_RULES)
    (trap,) = data["trapped"]["automated_streak"]
    assert list(trap) == EXPECTED_TRAP
    assert list(trap["timeline"][0]) == EXPECTED_EVENT
    assert trap["escalated_at"] == "2026-11-04T09:02:00Z"
    assert trap["resolved_at"] is None
    assert trap["timeline"][-1]["escalated"] == "automated_streak"
    assert list(data["first_human_reply"]) == [
        "answered",
        "median_seconds",
        "p90_seconds",
        "max_seconds",
        "still_waiting_count",
        "still_waiting",
    ]
    assert data["first_human_reply"]["still_waiting"][0] == {
        "mailbox": "support",
        "customer": "anna@example.org",
        "since": "2026-11-02T09:00:00Z",
        "waited_seconds": 3 * 86400.0,
    }
    assert data["replies_over_time"]["bucket"] == "day"
    assert data["replies_over_time"]["buckets"][0] == {
        "start": "2026-11-02",
        "replies_automated": 1,
        "replies_human": 0,
        "inbound_automated": 0,
        "inbound_human": 1,
    }
    assert data["failures"] == {
        "count": 1,
        "entries": [{"origin": "export/INBOX.mbox#9", "error": "UnicodeError: <bad>"}],
    }
    assert data["skipped"]["count"] == 1
    assert data["ignored"] == {
        "count": 1,
        "entries": [{"name": "export/Inbox.msf", "reason": "not a message, mbox or Maildir"}],
    }


def test_json_keeps_non_ascii_readable(report: AuditReport) -> None:
    assert "Gutschein ungültig" in render(report, "json")


def test_markdown_escapes_table_breaking_text(report: AuditReport) -> None:
    md = render(report, "md")
    assert "| figure | value |" in md
    # The hostile sender sits in a table cell: HTML and pipes must not survive there.
    assert '| "\\>\\<a href="https://evil.example/"\\>@example.org | 1 |' in md
    assert "ticket\\_ack answered" in md
    # Timelines are code spans, where Markdown shows text literally; only ` is replaced.
    assert "`2026-11-02T09:00:00Z <- human anna@example.org: <script>" in md
    # Every table row has the same number of unescaped cell separators as its header.
    for line in md.splitlines():
        if line.startswith("| customer | mailbox"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5


def test_text_lists_summary_and_timeline(report: AuditReport) -> None:
    text = render(report, "text")
    assert re.search(r"messages replayed\s+8", text)
    assert "ESCALATED by automated_streak" in text
    assert "-> ticket_ack support@example.com: Gutschein ungültig" in text
    assert "<- human anna@example.org" in text
    assert "first hit 2026-11-04T09:02:00Z, 1 hit(s), escalated 2026-11-04T09:02:00Z, OPEN" in text


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (17, "17s"),
        (42 * 60, "42m"),
        (5 * 3600 + 12 * 60, "5h 12m"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
    ],
)
def test_format_duration(seconds: int, expected: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == expected
    assert format_duration(None) == "-"


def test_docs_example_matches_the_json_shape(report: AuditReport) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
    example = json.loads(docs.read_text(encoding="utf-8").split("```json\n")[1].split("```")[0])
    data = report_to_dict(report)
    assert list(example) == list(data)
    assert list(example["summary"]) == list(data["summary"])
    assert list(example["first_human_reply"]) == list(data["first_human_reply"])
    doc_trap = example["trapped"]["automated_streak"][0]
    trap = data["trapped"]["automated_streak"][0]
    assert list(doc_trap) == list(trap)
    assert list(doc_trap["timeline"][0]) == list(trap["timeline"][0])
    assert list(example["replies_over_time"]["buckets"][0]) == list(
        data["replies_over_time"]["buckets"][0]
    )


def many_traps() -> AuditReport:
    builder = ReportBuilder()
    for i in range(3):
        customer = f"c{i}@example.org"
        at = T0 + timedelta(hours=i)
        hit = (RuleHit("repeat_contact", f"evidence {i}"), RuleHit("sla", f"late {i}"))
        builder.add(
            record(
                at,
                Direction.INBOUND,
                Kind.HUMAN,
                customer=customer,
                subject=f"subject {i}",
                rule_hits=hit,
                escalated="repeat_contact",
            )  # fmt: skip
        )
    # c0 gets a human reply: its traps are resolved and must be listed after the open ones.
    builder.add(
        record(T0 + timedelta(hours=5), Direction.OUTBOUND, Kind.HUMAN, customer="c0@example.org")
    )
    return builder.build()


def test_open_traps_come_first() -> None:
    traps = many_traps().trapped["repeat_contact"]
    assert [t.customer for t in traps] == ["c1@example.org", "c2@example.org", "c0@example.org"]
    assert [t.open for t in traps] == [True, True, False]


@pytest.mark.parametrize("fmt", ["text", "md", "html"])
def test_human_formats_list_everyone_but_detail_only_the_first(fmt: str) -> None:
    report = many_traps()
    text = render(report, fmt, detail_limit=1)
    for i in range(3):
        assert f"c{i}@example.org in support" in text
    # Only the first per rule (c1) shows evidence and timeline.
    assert "evidence 1" in text and "late 1" in text
    assert "evidence 2" not in text and "subject 2" not in text and "evidence 0" not in text
    assert "Timelines shown for the first 1" in text or "timelines shown for the first 1" in text
    if fmt == "html":
        ET.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314 - our own output


def test_streamed_json_equals_the_whole_document_with_several_rules() -> None:
    report = many_traps()
    data = json.loads(render(report, "json"))
    assert data == report_to_dict(report)
    assert len(data["trapped"]["repeat_contact"]) == len(data["trapped"]["sla"]) == 3
    assert [t["customer"] for t in data["trapped"]["sla"]][-1] == "c0@example.org"
