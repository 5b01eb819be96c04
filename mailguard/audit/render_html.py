"""Render an ``AuditReport`` as ONE self-contained HTML file with an inline SVG chart.

The file loads nothing: no scripts, fonts, images or style sheets from anywhere, so an
operator can mail it around or open it offline. Every piece of text from the mailbox
(subjects, addresses, evidence) is escaped, because an audited mailbox is exactly where
hostile HTML arrives. The markup is also well-formed XML (every element closed, every
attribute quoted), which keeps it parseable by strict tools and lets the tests check it.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

from mailguard.audit.render_common import DETAIL_LIMIT, format_duration, summary_rows, trap_heading
from mailguard.audit.report import AuditReport, Bucket, TrappedCustomer, utc_iso
from mailguard.domain.model import Direction

CHART_WIDTH = 760
CHART_HEIGHT = 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 16, 24, 40
# Markers per data point only while they stay distinguishable.
MARKERS_MAX = 60
AUTOMATED_COLOUR = "#c2410c"
HUMAN_COLOUR = "#1d4ed8"

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #1f2937; max-width: 72em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #d1d5db; padding-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; }
th, td { border: 1px solid #d1d5db; padding: 0.25em 0.6em; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: 0.3em 0 0.3em 1em; } summary { cursor: pointer; }
.open { color: #b91c1c; font-weight: bold; } .resolved { color: #15803d; }
.auto { color: #c2410c; } .human { color: #1d4ed8; }
.ev { font-family: ui-monospace, monospace; font-size: 0.9em; }
svg text { font-size: 11px; fill: #374151; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def render_html(report: AuditReport, detail_limit: int = DETAIL_LIMIT) -> str:
    """The whole report as one HTML document in one string."""
    return "".join(iter_html(report, detail_limit))


def iter_html(report: AuditReport, detail_limit: int) -> Iterator[str]:
    """The HTML document in chunks, one trapped customer at a time."""
    yield "<!DOCTYPE html>\n"
    yield '<html lang="en"><head><meta charset="utf-8"/>\n'
    yield '<meta name="viewport" content="width=device-width, initial-scale=1"/>\n'
    yield f"<title>mailguard audit</title><style>{_CSS}</style></head><body>\n"
    yield "<h1>mailguard audit</h1>\n"
    yield f"<p>Sources: {_e(', '.join(report.sources) or '-')}</p>\n"
    yield _summary(report) + "\n"
    yield f"<h2>Automated vs human replies (per {_e(report.bucket)})</h2>\n"
    yield svg_chart(report.buckets) + "\n"
    yield from _trapped(report, detail_limit)
    for part in (_kinds(report), _senders(report), _waiting(report), _problems(report)):
        if part:
            yield part + "\n"
    yield "</body></html>\n"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """A table from already-escaped cells; ``numeric`` column indexes align right."""
    numeric = numeric or set()

    def cls(i: int) -> str:
        return ' class="n"' if i in numeric else ""

    out = ["<table><thead><tr>"]
    out += [f"<th{cls(i)}>{h}</th>" for i, h in enumerate(head)]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _summary(report: AuditReport) -> str:
    rows = [[_e(label), _e(value)] for label, value in summary_rows(report)]
    return _table(["figure", "value"], rows, {1})


def _trapped(report: AuditReport, detail_limit: int) -> Iterator[str]:
    yield "<h2>Trapped customers per rule</h2>\n"
    for rule, traps in report.trapped.items():
        hits = report.rule_hits.get(rule, 0)
        yield f"<h3>{_e(rule)}: {len(traps)} customer(s), {hits} hit(s)</h3>\n"
        for n, trap in enumerate(traps):
            yield (_trap(trap) if n < detail_limit else _trap_line(trap)) + "\n"
        if len(traps) > detail_limit:
            yield f"<p>Timelines shown for the first {detail_limit}; all are in JSON.</p>\n"


def _trap_line(trap: TrappedCustomer) -> str:
    css = "open" if trap.open else "resolved"
    return f'<p class="{css}">{_e(trap_heading(trap))}</p>'


def _trap(trap: TrappedCustomer) -> str:
    css = "open" if trap.open else "resolved"
    heading = f'<span class="{css}">{_e(trap_heading(trap))}</span>'
    rows = []
    for event in trap.timeline:
        css = "auto" if event.automated else "human"
        arrow = "out" if event.direction is Direction.OUTBOUND else "in"
        marks = [f"escalated by {event.escalated}"] if event.escalated else []
        marks += ["resolved"] * event.resolved + ["held"] * event.held + list(event.rules)
        rows.append(
            [
                _e(utc_iso(event.at)),
                _e(arrow),
                f'<span class="{css}">{_e(event.kind.value)}</span>',
                _e(event.sender or "?"),
                _e(event.subject),
                _e(", ".join(marks)),
                _e(event.origin),
            ]
        )
    evidence = "".join(f'<li class="ev">{_e(text)}</li>' for text in trap.evidence)
    omitted = (
        f"<p>{trap.timeline_omitted} later event(s) omitted.</p>" if trap.timeline_omitted else ""
    )
    return (
        f"<details><summary>{heading}</summary>"
        f"<ul>{evidence}</ul>"
        + _table(["time (UTC)", "dir", "kind", "sender", "subject", "rules", "found in"], rows)
        + omitted
        + "</details>"
    )


def _kinds(report: AuditReport) -> str:
    rows = [
        [_e(kind.value), str(c[Direction.INBOUND]), str(c[Direction.OUTBOUND])]
        for kind, c in report.kinds.items()
    ]
    return "<h2>Messages per kind</h2>" + _table(["kind", "in", "out"], rows, {1, 2})


def _senders(report: AuditReport) -> str:
    rows = [[_e(sender), str(count)] for sender, count in report.top_automated_senders]
    if not rows:
        return "<h2>Top automated senders</h2><p>None.</p>"
    return "<h2>Top automated senders</h2>" + _table(["sender", "messages"], rows, {1})


def _waiting(report: AuditReport) -> str:
    head = "<h2>Customers still waiting for a first human reply</h2>"
    rows = [
        [_e(w.customer), _e(w.mailbox), _e(utc_iso(w.since)), _e(format_duration(w.waited))]
        for w in report.waits.still_waiting
    ]
    if not rows:
        return head + "<p>None.</p>"
    more = report.waits.still_waiting_count - len(rows)
    tail = f"<p>... and {more} more.</p>" if more > 0 else ""
    return head + _table(["customer", "mailbox", "since", "waited"], rows, {3}) + tail


def _problems(report: AuditReport) -> str:
    out = []
    if report.failure_count:
        out.append(f"<h2>Messages the engine failed on: {report.failure_count}</h2>")
        out.append(
            _table(["origin", "error"], [[_e(f.origin), _e(f.error)] for f in report.failures])
        )
    if report.skipped_count:
        out.append(f"<h2>Unreadable entries skipped: {report.skipped_count}</h2>")
        out.append(
            _table(["entry", "reason"], [[_e(s.name), _e(s.reason)] for s in report.skipped])
        )
    if report.ignored_count:
        out.append(f"<h2>Files ignored (not mail): {report.ignored_count}</h2>")
        out.append("<ul>" + "".join(f"<li>{_e(s.name)}</li>" for s in report.ignored) + "</ul>")
    return "\n".join(out)


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is >= value (axis maximum)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def svg_chart(buckets: tuple[Bucket, ...]) -> str:
    """An inline SVG line chart of automated vs human outbound replies per bucket."""
    if not buckets:
        return "<p>No replies in the export.</p>"
    top = _nice_ceiling(max(max(b.replies_automated, b.replies_human) for b in buckets) or 1)
    plot_w = CHART_WIDTH - _LEFT - _RIGHT
    plot_h = CHART_HEIGHT - _TOP - _BOTTOM
    n = len(buckets)

    def x(i: int) -> float:
        return _LEFT + (i + 0.5) * plot_w / n

    def y(v: int) -> float:
        return _TOP + plot_h - v * plot_h / top

    out = [
        f'<svg role="img" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" '
        f'viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}">',
        "<title>Automated vs human replies over time</title>",
    ]
    for v in (0, top // 2, top):
        out.append(
            f'<line x1="{_LEFT}" y1="{y(v):.1f}" x2="{CHART_WIDTH - _RIGHT}" y2="{y(v):.1f}" '
            'stroke="#e5e7eb"/>'
        )
        out.append(f'<text x="{_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>')
    for i in sorted({0, n // 2, n - 1}):
        out.append(
            f'<text x="{x(i):.1f}" y="{CHART_HEIGHT - _BOTTOM + 16}" text-anchor="middle">'
            f"{_e(buckets[i].start.isoformat())}</text>"
        )
    series = (
        ("automated", AUTOMATED_COLOUR, [b.replies_automated for b in buckets]),
        ("human", HUMAN_COLOUR, [b.replies_human for b in buckets]),
    )
    for name, colour, values in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(
            f'<polyline class="series-{name}" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{points}"/>'
        )
        if n <= MARKERS_MAX:
            out += [
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{_e(buckets[i].start.isoformat())}: {v} {name}</title></circle>"
                for i, v in enumerate(values)
            ]
    # Lay the legend out from the label lengths (about 7 px a character at 11 px), so a
    # long count never runs into the next entry; right-aligned above the plot.
    labels = [(f"{name} ({sum(values)})", colour) for name, colour, values in series]
    widths = [16 + 7 * len(label) + 14 for label, _ in labels]
    lx = CHART_WIDTH - _RIGHT - sum(widths)
    for (label, colour), width in zip(labels, widths, strict=True):
        out.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="16">{_e(label)}</text>')
        lx += width
    out.append("</svg>")
    return "\n".join(out)
