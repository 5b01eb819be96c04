"""Reading rendered audit reports back, so tests check who was caught, not that a heading exists.

Every report lists every rule, empty or not, and an empty report still has its headings and
its chart: a test that looks for a rule's name or ``<svg`` passes on a report that caught no
one. These helpers return the content instead.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own output only
from typing import Any

Caught = dict[str, list[tuple[str, str]]]

_HEADING = re.compile(r"(?P<rule>\w+): \d+ customer\(s\)")
_SUMMARY = re.compile(r"(?P<customer>\S+) in (?P<mailbox>\S+): ")
_LEGEND = re.compile(r"(?P<series>automated|human) \((?P<total>\d+)\)")


def json_caught(report: dict[str, Any]) -> Caught:
    """Rule -> [(customer, mailbox)] from a JSON report, in report order."""
    return {
        rule: [(t["customer"], t["mailbox"]) for t in entries]
        for rule, entries in report["trapped"].items()
    }


def parse_html(html: str) -> ET.Element:
    """The HTML report as an element tree (it is well-formed XHTML)."""
    return ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314 - our output


def html_caught(html: str) -> Caught:
    """Rule -> [(customer, mailbox)] from the HTML report's "Trapped customers" section."""
    body = parse_html(html).find("body")
    assert body is not None
    caught: Caught = {}
    rule: str | None = None
    for element in body:
        text = "".join(element.itertext())
        if element.tag == "h3" and (heading := _HEADING.match(text)):
            rule = heading["rule"]
            caught[rule] = []
        elif element.tag == "h2":
            rule = None
        elif element.tag == "details" and rule is not None:
            summary = element.find("summary")
            assert summary is not None
            match = _SUMMARY.match("".join(summary.itertext()))
            assert match, f"unreadable trap summary {''.join(summary.itertext())!r}"
            caught[rule].append((match["customer"], match["mailbox"]))
    return caught


def html_chart_totals(html: str) -> dict[str, int]:
    """Replies per series as the chart plots them: {"automated": n, "human": m}.

    Read from the plotted points' titles (``"<bucket>: <n> automated"``), so a chart whose
    lines are all zero gives zeros whatever its legend says.
    """
    svg = parse_html(html).find(".//svg")
    assert svg is not None, "the HTML report has no chart"
    totals = {"automated": 0, "human": 0}
    for title in svg.iter("title"):
        text = title.text or ""
        for series in totals:
            if text.endswith(f" {series}"):
                totals[series] += int(text.rsplit(" ", 2)[-2])
    legend = {
        m["series"]: int(m["total"])
        for text in svg.iter("text")
        if (m := _LEGEND.fullmatch(text.text or ""))
    }
    if not any(circle for circle in svg.iter("circle")):
        return legend  # too many buckets for point markers: the legend is all there is
    assert legend == totals, f"chart legend {legend} disagrees with its points {totals}"
    return totals


_TEXT_RULE = re.compile(r"^(?P<rule>\w+): \d+ customer\(s\)")
_TEXT_TRAP = re.compile(r"^  \* (?P<customer>\S+) in (?P<mailbox>\S+): ")
_MD_RULE = re.compile(r"^### (?P<rule>[\w\\]+): \d+ customer\(s\)")
_MD_TRAP = re.compile(r"^- \*\*(?P<customer>\S+) in (?P<mailbox>\S+): ")


def text_caught(report: str, markdown: bool = False) -> Caught:
    """Rule -> [(customer, mailbox)] from the text (or, with ``markdown``, md) report."""
    rule_line, trap_line = (_MD_RULE, _MD_TRAP) if markdown else (_TEXT_RULE, _TEXT_TRAP)
    caught: Caught = {}
    rule: str | None = None
    for line in report.splitlines():
        if heading := rule_line.match(line):
            rule = heading["rule"].replace("\\_", "_")
            caught[rule] = []
        elif (trap := trap_line.match(line)) and rule is not None:
            caught[rule].append((trap["customer"].replace("\\_", "_"), trap["mailbox"]))
        elif line.startswith(("#", "Messages per kind")) and not line.startswith("###"):
            rule = None
    return caught
