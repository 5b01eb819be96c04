"""The JSON renderer: a stable, documented document (schema ``mailguard.audit/1``).

The shape is a public interface (docs/audit.md): keys are never renamed or removed
within a schema version, every known rule and every kind is always present (with zero
counts), and times are ISO 8601 UTC strings with a trailing "Z". ``iter_json`` streams
the document one trapped customer at a time; ``report_to_dict`` builds it whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from mailguard.audit.report import AuditReport, TrappedCustomer, utc_iso
from mailguard.domain.model import Direction

SCHEMA = "mailguard.audit/1"


def report_to_dict(report: AuditReport, *, with_trapped: bool = True) -> dict[str, Any]:
    """The stable JSON document as plain Python data (``trapped`` left empty if asked)."""
    w = report.waits
    return {
        "schema": SCHEMA,
        "sources": list(report.sources),
        "summary": {
            "messages": report.messages,
            "inbound": report.inbound,
            "outbound": report.outbound,
            "customers": report.customers,
            "trapped_customers": report.trapped_count,
            "escalated_customers": report.escalated_count,
            "held_outbound": report.held,
            "duplicates": report.duplicates,
            "failed": report.failure_count,
            "skipped": report.skipped_count,
            "ignored": report.ignored_count,
            "first_message_at": utc_iso(report.first_at),
            "last_message_at": utc_iso(report.last_at),
        },
        "analysis": {
            "in_workers": report.analysis.in_workers,
            "in_process": report.analysis.in_process,
            "after_pool_failure": report.analysis.after_pool_failure,
        },
        "kinds": {
            kind.value: {
                "in": c[Direction.INBOUND],
                "out": c[Direction.OUTBOUND],
                "total": c[Direction.INBOUND] + c[Direction.OUTBOUND],
            }
            for kind, c in report.kinds.items()
        },
        "rule_hits": dict(report.rule_hits),
        "trapped": {
            rule: [_trap_dict(t) for t in ts] if with_trapped else []
            for rule, ts in report.trapped.items()
        },
        "top_automated_senders": [
            {"sender": sender, "messages": count} for sender, count in report.top_automated_senders
        ],
        "first_human_reply": {
            "answered": w.answered,
            "median_seconds": _seconds(w.median),
            "p90_seconds": _seconds(w.p90),
            "max_seconds": _seconds(w.longest),
            "still_waiting_count": w.still_waiting_count,
            "still_waiting": [
                {
                    "mailbox": s.mailbox,
                    "customer": s.customer,
                    "since": utc_iso(s.since),
                    "waited_seconds": _seconds(s.waited),
                }
                for s in w.still_waiting
            ],
        },
        "replies_over_time": {
            "bucket": report.bucket,
            "buckets": [
                {
                    "start": b.start.isoformat(),
                    "replies_automated": b.replies_automated,
                    "replies_human": b.replies_human,
                    "inbound_automated": b.inbound_automated,
                    "inbound_human": b.inbound_human,
                }
                for b in report.buckets
            ],
        },
        "failures": {
            "count": report.failure_count,
            "entries": [{"origin": f.origin, "error": f.error} for f in report.failures],
        },
        "skipped": {
            "count": report.skipped_count,
            "entries": [{"name": s.name, "reason": s.reason} for s in report.skipped],
        },
        "ignored": {
            "count": report.ignored_count,
            "entries": [{"name": s.name, "reason": s.reason} for s in report.ignored],
        },
    }


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _trap_dict(trap: TrappedCustomer) -> dict[str, Any]:
    return {
        "mailbox": trap.mailbox,
        "customer": trap.customer,
        "rule": trap.rule,
        "first_hit_at": utc_iso(trap.first_hit_at),
        "hits": trap.hits,
        "escalated_at": utc_iso(trap.escalated_at),
        "escalations": trap.escalations,
        "episodes": trap.episodes,
        "resolved_at": utc_iso(trap.resolved_at),
        "linked_mailboxes": list(trap.linked_mailboxes),
        "evidence": list(trap.evidence),
        "timeline": [
            {
                "at": utc_iso(e.at),
                "direction": e.direction.value,
                "kind": e.kind.value,
                "automated": e.automated,
                "sender": e.sender,
                "subject": e.subject,
                "rules": list(e.rules),
                "escalated": e.escalated,
                "resolved": e.resolved,
                "held": e.held,
                "origin": e.origin,
            }
            for e in trap.timeline
        ],
        "timeline_omitted": trap.timeline_omitted,
    }


def render_json(report: AuditReport) -> str:
    """The JSON document as one string."""
    return "".join(iter_json(report))


def _dumps(value: object, depth: int) -> str:
    """``value`` as indented JSON for nesting at ``depth`` (JSON strings hold no raw newline)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("\n", "\n" + "  " * depth)


def iter_json(report: AuditReport) -> Iterator[str]:
    """The JSON document in chunks: the same data as ``report_to_dict``, one trap at a time."""
    skeleton = report_to_dict(report, with_trapped=False)
    yield "{\n"
    last = len(skeleton) - 1
    for i, (key, value) in enumerate(skeleton.items()):
        comma = "," if i < last else ""
        if key != "trapped":
            yield f"  {json.dumps(key)}: {_dumps(value, 1)}{comma}\n"
            continue
        yield '  "trapped": {'
        for j, (rule, traps) in enumerate(report.trapped.items()):
            yield ("\n" if j == 0 else ",\n") + f"    {json.dumps(rule)}: ["
            for k, trap in enumerate(traps):
                yield ("\n" if k == 0 else ",\n") + "      " + _dumps(_trap_dict(trap), 3)
            yield "\n    ]" if traps else "]"
        yield ("\n  }" if report.trapped else "}") + comma + "\n"
    yield "}\n"
