"""The pieces every human report format (text, Markdown, HTML) shares.

In the human formats every caught customer is listed, but only the first ``DETAIL_LIMIT``
per rule (open ones first) come with evidence and timeline; a report with thousands of
timelines is not read by anyone. JSON always has them all.
"""

from __future__ import annotations

from datetime import timedelta

from mailguard.audit.report import AuditReport, TimelineEvent, TrappedCustomer, utc_iso
from mailguard.domain.model import Direction

DETAIL_LIMIT = 100


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
