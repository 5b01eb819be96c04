"""Render an ``AuditReport``: the format dispatch and the pieces every format shares.

Every renderer is a generator of text chunks, so a report on 100,000 messages is
written out piece by piece and never exists as one big string (or, for JSON, as one
big dict) in memory. ``render`` joins the chunks for callers that want a string.

In the human formats (text, Markdown, HTML) every caught customer is listed, but only
the first ``DETAIL_LIMIT`` per rule (open ones first) come with evidence and timeline;
a report with thousands of timelines is not read by anyone. JSON always has them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from mailguard.audit.render_json import SCHEMA, iter_json, render_json, report_to_dict
from mailguard.audit.report import AuditReport, TimelineEvent, TrappedCustomer, utc_iso
from mailguard.domain.model import Direction

__all__ = [
    "DETAIL_LIMIT",
    "FORMATS",
    "SCHEMA",
    "event_line",
    "format_duration",
    "iter_render",
    "render",
    "render_json",
    "report_to_dict",
    "summary_rows",
    "trap_heading",
]

FORMATS = ("text", "md", "html", "json")
DETAIL_LIMIT = 100

Renderer = Callable[[AuditReport, int], Iterator[str]]


def iter_render(
    report: AuditReport, fmt: str, *, detail_limit: int = DETAIL_LIMIT
) -> Iterator[str]:
    """The report in one of ``FORMATS`` as chunks; ValueError for any other format."""
    # Imported here because those modules import the shared helpers from this one.
    from mailguard.audit.render_html import iter_html
    from mailguard.audit.render_text import iter_markdown, iter_text

    renderers: dict[str, Renderer] = {
        "text": iter_text,
        "md": iter_markdown,
        "html": iter_html,
        "json": lambda r, _limit: iter_json(r),
    }
    try:
        renderer = renderers[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(report, detail_limit)


def render(report: AuditReport, fmt: str, *, detail_limit: int = DETAIL_LIMIT) -> str:
    """The whole report as one string (see ``iter_render``)."""
    return "".join(iter_render(report, fmt, detail_limit=detail_limit))


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
        ("analysed in workers / here", _analysis(report)),
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


def _analysis(report: AuditReport) -> str:
    a = report.analysis
    shown = f"{a.in_workers} / {a.in_process + a.after_pool_failure}"
    if a.after_pool_failure:
        shown += f" (WORKER POOL FAILED: {a.after_pool_failure} analysed here instead)"
    return shown
