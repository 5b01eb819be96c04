"""Plain-text and Markdown renderers (generators of lines; see ``render``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mailguard.audit.render_common import event_line, format_duration, summary_rows, trap_heading
from mailguard.audit.report import AuditReport, utc_iso
from mailguard.domain.model import Direction


def _lines(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"


def iter_text(report: AuditReport, detail_limit: int) -> Iterator[str]:
    """A plain-text report for a terminal or an e-mail."""
    return _lines(_text_lines(report, detail_limit))


def _text_lines(report: AuditReport, detail_limit: int) -> Iterator[str]:
    yield from ("mailguard audit", "=" * 15, "")
    rows = summary_rows(report)
    width = max(len(label) for label, _ in rows)
    yield from (f"{label.ljust(width)}  {value}" for label, value in rows)
    yield from ("", "Trapped customers per rule", "-" * 26)
    for rule, traps in report.trapped.items():
        yield f"{rule}: {len(traps)} customer(s), {report.rule_hits.get(rule, 0)} hit(s)"
        for n, trap in enumerate(traps):
            yield f"  * {trap_heading(trap)}"
            if n >= detail_limit:
                continue
            yield from (f"      evidence: {text}" for text in trap.evidence)
            yield from (f"      {event_line(event)}" for event in trap.timeline)
            if trap.timeline_omitted:
                yield f"      ... {trap.timeline_omitted} later event(s) omitted"
        if len(traps) > detail_limit:
            yield f"  (timelines shown for the first {detail_limit}; all are in --format json)"
    yield from ("", "Messages per kind (in / out)", "-" * 28)
    for kind, counts in report.kinds.items():
        inbound, outbound = counts[Direction.INBOUND], counts[Direction.OUTBOUND]
        yield f"{kind.value.ljust(20)} {inbound:>8} {outbound:>8}"
    yield from ("", "Top automated senders", "-" * 21)
    yield from [f"{count:>8}  {s}" for s, count in report.top_automated_senders] or ["(none)"]
    yield from ("", "Customers still waiting for a first human reply", "-" * 47)
    yield from [
        f"{format_duration(w.waited):>8}  {w.customer} in {w.mailbox} since {utc_iso(w.since)}"
        for w in report.waits.still_waiting
    ] or ["(none)"]
    more = report.waits.still_waiting_count - len(report.waits.still_waiting)
    if more > 0:
        yield f"... and {more} more"
    yield from ("", f"Replies over time (per {report.bucket}: automated / human)", "-" * 40)
    yield from [
        f"{b.start.isoformat()}  {b.replies_automated:>6} / {b.replies_human:<6}"
        for b in report.buckets
    ] or ["(none)"]
    yield from _problem_lines(report)


def _problem_lines(report: AuditReport) -> Iterator[str]:
    if report.failure_count:
        yield from ("", f"Messages the engine failed on: {report.failure_count}")
        yield from (f"  {f.origin}: {f.error}" for f in report.failures)
    if report.skipped_count:
        yield from ("", f"Unreadable entries skipped: {report.skipped_count}")
        yield from (f"  {s.name}: {s.reason}" for s in report.skipped)
    if report.ignored_count:
        yield from ("", f"Files ignored (not mail): {report.ignored_count}")
        yield from (f"  {s.name}" for s in report.ignored)


def _md(text: str) -> str:
    """Escape text for a Markdown table cell or list item."""
    for char in "\\`*_[]<>|#":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def _md_code(text: str) -> str:
    """Text for an inline code span, which cannot contain its own delimiter."""
    return text.replace("`", "'")


def iter_markdown(report: AuditReport, detail_limit: int) -> Iterator[str]:
    """A Markdown report (GitHub-flavoured tables), e.g. for a ticket or a wiki page."""
    return _lines(_markdown_lines(report, detail_limit))


def _markdown_lines(report: AuditReport, detail_limit: int) -> Iterator[str]:
    yield from ("# mailguard audit", "", "| figure | value |", "|---|---|")
    yield from (f"| {_md(label)} | {_md(value)} |" for label, value in summary_rows(report))
    yield from ("", "## Trapped customers per rule", "")
    for rule, traps in report.trapped.items():
        hits = report.rule_hits.get(rule, 0)
        yield from (f"### {_md(rule)}: {len(traps)} customer(s), {hits} hit(s)", "")
        for n, trap in enumerate(traps):
            yield f"- **{_md(trap_heading(trap))}**"
            if n >= detail_limit:
                continue
            yield from (f"  - evidence: {_md(text)}" for text in trap.evidence)
            yield from (f"  - `{_md_code(event_line(e))}`" for e in trap.timeline)
            if trap.timeline_omitted:
                yield f"  - {trap.timeline_omitted} later event(s) omitted"
        if len(traps) > detail_limit:
            yield f"\nTimelines shown for the first {detail_limit}; all are in the JSON report."
        yield ""
    yield from ("## Messages per kind", "", "| kind | in | out |", "|---|---:|---:|")
    yield from (
        f"| {kind.value} | {c[Direction.INBOUND]} | {c[Direction.OUTBOUND]} |"
        for kind, c in report.kinds.items()
    )
    yield from ("", "## Top automated senders", "", "| sender | messages |", "|---|---:|")
    yield from (f"| {_md(s)} | {count} |" for s, count in report.top_automated_senders)
    yield from ("", "## Customers still waiting for a first human reply", "")
    yield from ("| customer | mailbox | since | waited |", "|---|---|---|---|")
    yield from (
        f"| {_md(w.customer)} | {_md(w.mailbox)} | {utc_iso(w.since)} | "
        f"{format_duration(w.waited)} |"
        for w in report.waits.still_waiting
    )
    yield from ("", f"## Replies over time (per {report.bucket})", "")
    yield from ("| from | automated | human |", "|---|---:|---:|")
    yield from (
        f"| {b.start.isoformat()} | {b.replies_automated} | {b.replies_human} |"
        for b in report.buckets
    )
    problems = list(_problem_lines(report))
    if problems:
        yield from ("", "## Problems", "", "```", *problems[1:], "```")
