"""Render an ``AuditReport``: the format dispatch (shared pieces in ``render_common``).

Every renderer is a generator of text chunks, so a report on 100,000 messages is
written out piece by piece and never exists as one big string (or, for JSON, as one
big dict) in memory. ``render`` joins the chunks for callers that want a string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mailguard.audit.render_common import (
    DETAIL_LIMIT,
    event_line,
    format_duration,
    summary_rows,
    trap_heading,
)
from mailguard.audit.render_html import iter_html
from mailguard.audit.render_json import SCHEMA, iter_json, render_json, report_to_dict
from mailguard.audit.render_text import iter_markdown, iter_text
from mailguard.audit.report import AuditReport

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

Renderer = Callable[[AuditReport, int], Iterator[str]]


def iter_render(
    report: AuditReport, fmt: str, *, detail_limit: int = DETAIL_LIMIT
) -> Iterator[str]:
    """The report in one of ``FORMATS`` as chunks; ValueError for any other format."""
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
