"""Render an ``AuditReport`` as plain text, Markdown or JSON (HTML lives in ``html``).

The JSON shape is a public interface (documented in docs/audit.md, versioned by the
``schema`` field): keys are never renamed or removed within a schema version, every
known rule and every kind is always present (with zero counts), and times are ISO 8601
UTC strings with a trailing "Z".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from mailguard.audit.report import AuditReport, TimelineEvent, TrappedCustomer, utc_iso
from mailguard.domain.model import Direction

SCHEMA = "mailguard.audit/1"
FORMATS = ("text", "md", "html", "json")


def render(report: AuditReport, fmt: str) -> str:
    """The report in one of ``FORMATS``; raises ValueError for any other format."""
    from mailguard.audit.render_html import render_html

    renderers: dict[str, Callable[[AuditReport], str]] = {
        "text": render_text,
        "md": render_markdown,
        "html": render_html,
        "json": render_json,
    }
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(report)


def format_duration(value: timedelta | None) -> str:
    """A short human duration: "3d 4h", "5h 12m", "42m", "17s"; "-" for none."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def event_line(event: TimelineEvent) -> str:
    """One timeline event as a line of plain text (the renderers escape it as needed)."""
    arrow = "->" if event.direction is Direction.OUTBOUND else "<-"
    # Every kind but "human" is automated; say so only where the kind alone does not.
    what = (
        event.kind.value
        if event.automated == event.kind.automated
        else (f"{event.kind.value} ({'automated' if event.automated else 'human'})")
    )
    marks = []
    if event.escalated:
        marks.append(f"ESCALATED by {event.escalated}")
    if event.resolved:
        marks.append("resolved")
    if event.held:
        marks.append("held")
    if event.rules:
        marks.append("rules: " + ", ".join(event.rules))
    tail = f"  [{'; '.join(marks)}]" if marks else ""
    when = utc_iso(event.at) or ""
    return f"{when} {arrow} {what} {event.sender or '?'}: {event.subject}{tail}"


def summary_rows(report: AuditReport) -> list[tuple[str, str]]:
    """The headline figures as (label, value) rows, shared by every renderer."""
    w = report.waits
    return [
        ("messages replayed", str(report.messages)),
        ("inbound / outbound", f"{report.inbound} / {report.outbound}"),
        ("period", f"{utc_iso(report.first_at) or '-'} .. {utc_iso(report.last_at) or '-'}"),
        ("customers", str(report.customers)),
        ("customers caught by any rule", str(report.trapped_count)),
        ("customers escalated", str(report.escalated_count)),
        ("outbound replies held", str(report.held)),
        ("first human reply: answered", str(w.answered)),
        ("first human reply: median", format_duration(w.median)),
        ("first human reply: p90", format_duration(w.p90)),
        ("first human reply: longest", format_duration(w.longest)),
        ("customers still waiting", str(w.still_waiting_count)),
        ("duplicates ignored", str(report.duplicates)),
        ("messages failed", str(report.failure_count)),
        ("entries skipped (unreadable)", str(report.skipped_count)),
        ("files ignored (not mail)", str(report.ignored_count)),
    ]


def trap_heading(trap: TrappedCustomer) -> str:
    """One line saying who was caught, when, whether escalated, and how it ended."""
    parts = [f"first hit {utc_iso(trap.first_hit_at)}", f"{trap.hits} hit(s)"]
    if trap.escalated_at is None:
        parts.append("not escalated by this rule")
    else:
        times = f" ({trap.escalations}x)" if trap.escalations > 1 else ""
        parts.append(f"escalated {utc_iso(trap.escalated_at)}{times}")
    if trap.linked_mailboxes:
        parts.append(f"linked with {', '.join(trap.linked_mailboxes)}")
    if trap.episodes > 1:
        parts.append(f"{trap.episodes} episodes")
    parts.append("OPEN" if trap.open else f"resolved {utc_iso(trap.resolved_at)}")
    return f"{trap.customer} in {trap.mailbox}: {', '.join(parts)}"


def render_text(report: AuditReport) -> str:
    """A plain-text report for a terminal or an e-mail."""
    out: list[str] = ["mailguard audit", "=" * 15, ""]
    width = max(len(label) for label, _ in summary_rows(report))
    out += [f"{label.ljust(width)}  {value}" for label, value in summary_rows(report)]
    out += ["", "Trapped customers per rule", "-" * 26]
    for rule, traps in report.trapped.items():
        out.append(f"{rule}: {len(traps)} customer(s), {report.rule_hits.get(rule, 0)} hit(s)")
        for trap in traps:
            out.append(f"  * {trap_heading(trap)}")
            out += [f"      evidence: {text}" for text in trap.evidence]
            out += [f"      {event_line(event)}" for event in trap.timeline]
            if trap.timeline_omitted:
                out.append(f"      ... {trap.timeline_omitted} later event(s) omitted")
    out += ["", "Messages per kind (in / out)", "-" * 28]
    for kind, counts in report.kinds.items():
        inbound, outbound = counts[Direction.INBOUND], counts[Direction.OUTBOUND]
        out.append(f"{kind.value.ljust(20)} {inbound:>8} {outbound:>8}")
    out += ["", "Top automated senders", "-" * 21]
    out += [f"{count:>8}  {sender}" for sender, count in report.top_automated_senders] or ["(none)"]
    out += ["", "Customers still waiting for a first human reply", "-" * 47]
    out += [
        f"{format_duration(w.waited):>8}  {w.customer} in {w.mailbox} since {utc_iso(w.since)}"
        for w in report.waits.still_waiting
    ] or ["(none)"]
    out += ["", f"Replies over time (per {report.bucket}: automated / human)", "-" * 40]
    out += [
        f"{b.start.isoformat()}  {b.replies_automated:>6} / {b.replies_human:<6}"
        for b in report.buckets
    ] or ["(none)"]
    out += _problems_text(report)
    return "\n".join(out) + "\n"


def _problems_text(report: AuditReport) -> list[str]:
    out: list[str] = []
    if report.failure_count:
        out += ["", f"Messages the engine failed on: {report.failure_count}"]
        out += [f"  {f.origin}: {f.error}" for f in report.failures]
    if report.skipped_count:
        out += ["", f"Unreadable entries skipped: {report.skipped_count}"]
        out += [f"  {s.name}: {s.reason}" for s in report.skipped]
    if report.ignored_count:
        out += ["", f"Files ignored (not mail): {report.ignored_count}"]
        out += [f"  {s.name}" for s in report.ignored]
    return out


def _md(text: str) -> str:
    """Escape text for a Markdown table cell or list item."""
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def _md_code(text: str) -> str:
    """Text for an inline code span, which cannot contain its own delimiter."""
    return text.replace("`", "'")


def render_markdown(report: AuditReport) -> str:
    """A Markdown report (GitHub-flavoured tables), e.g. for a ticket or a wiki page."""
    out = ["# mailguard audit", "", "| figure | value |", "|---|---|"]
    out += [f"| {_md(label)} | {_md(value)} |" for label, value in summary_rows(report)]
    out += ["", "## Trapped customers per rule", ""]
    for rule, traps in report.trapped.items():
        hits = report.rule_hits.get(rule, 0)
        out += [f"### {_md(rule)}: {len(traps)} customer(s), {hits} hit(s)", ""]
        for trap in traps:
            out.append(f"- **{_md(trap_heading(trap))}**")
            out += [f"  - evidence: {_md(text)}" for text in trap.evidence]
            out += [f"  - `{_md_code(event_line(e))}`" for e in trap.timeline]
            if trap.timeline_omitted:
                out.append(f"  - {trap.timeline_omitted} later event(s) omitted")
        out.append("")
    out += ["## Messages per kind", "", "| kind | in | out |", "|---|---:|---:|"]
    out += [
        f"| {kind.value} | {c[Direction.INBOUND]} | {c[Direction.OUTBOUND]} |"
        for kind, c in report.kinds.items()
    ]
    out += ["", "## Top automated senders", "", "| sender | messages |", "|---|---:|"]
    out += [f"| {_md(sender)} | {count} |" for sender, count in report.top_automated_senders]
    out += ["", "## Customers still waiting for a first human reply", ""]
    out += ["| customer | mailbox | since | waited |", "|---|---|---|---|"]
    out += [
        f"| {_md(w.customer)} | {_md(w.mailbox)} | {utc_iso(w.since)} | "
        f"{format_duration(w.waited)} |"
        for w in report.waits.still_waiting
    ]
    out += ["", f"## Replies over time (per {report.bucket})", ""]
    out += ["| from | automated | human |", "|---|---:|---:|"]
    out += [
        f"| {b.start.isoformat()} | {b.replies_automated} | {b.replies_human} |"
        for b in report.buckets
    ]
    problems = _problems_text(report)
    if problems:
        out += ["", "## Problems", "", "```", *problems[1:], "```"]
    return "\n".join(out) + "\n"


def report_to_dict(report: AuditReport) -> dict[str, Any]:
    """The stable JSON document (schema ``mailguard.audit/1``) as plain Python data."""
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
        "kinds": {
            kind.value: {
                "in": c[Direction.INBOUND],
                "out": c[Direction.OUTBOUND],
                "total": c[Direction.INBOUND] + c[Direction.OUTBOUND],
            }
            for kind, c in report.kinds.items()
        },
        "rule_hits": dict(report.rule_hits),
        "trapped": {rule: [_trap_dict(t) for t in ts] for rule, ts in report.trapped.items()},
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
    """The JSON document, indented, keys in a fixed order, non-ASCII kept readable."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
