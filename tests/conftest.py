"""Fixtures shared by all tests, and the run summary of the real servers they exercised.

Real Dovecot instances come from tests/dovecot, PostgreSQL databases from
tests/integration/conftest.py and SMTP sinks from tests/smtp_sink.py; all of them decide
between skipping and failing through :func:`tests.real_servers.require_or_skip`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field

import pytest

from tests.dovecot.fixture import dovecot, dovecot_factory
from tests.real_servers import SERVERS, USED_BY, servers_required
from tests.smtp_sink import smtp_sink

__all__ = ["dovecot", "dovecot_factory", "smtp_sink"]


@dataclass
class _Tally:
    """Per server: tests that ran against it, tests skipped, marked tests that never used it."""

    ran: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    skipped: defaultdict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))


_TALLY: pytest.StashKey[_Tally] = pytest.StashKey()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TALLY] = _Tally()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report = outcome.get_result()
    tally = item.config.stash[_TALLY]
    marked = [server for server in SERVERS if item.get_closest_marker(server) is not None]
    if report.skipped:
        # Charge the skip to the server require_or_skip named, not to every marker the test
        # carries (a Dovecot test that also uses an SMTP sink is skipped for Dovecot).
        text = str(report.longrepr)
        named = [s for s in marked if f"real server {SERVERS[s]} unavailable" in text]
        for server in named or marked:
            tally.skipped[server][item.nodeid] = _skip_reason(report)
        return
    if report.when != "call":
        return
    used = item.stash.get(USED_BY, set())
    for server in used:
        tally.ran[server].add(item.nodeid)
    unused = [server for server in marked if server not in used]
    if report.passed and unused:
        # A marker promises a real server; a test that passes without reaching it would be
        # counted as exercising a server it never touched.
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} is marked {', '.join(unused)} but never reached "
            f"{' or '.join(SERVERS[s] for s in unused)} (its fixture calls "
            "tests.real_servers.exercised; a test that starts a server itself must too)"
        )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    # require_or_skip's "!!! real server X unavailable, test SKIPPED: <reason> !!!" -> reason
    return text.removeprefix("Skipped: ").split("SKIPPED: ", 1)[-1].removesuffix(" !!!")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    tally = terminalreporter.config.stash[_TALLY]
    write = terminalreporter.write_line
    terminalreporter.section("real servers")
    ran = [
        f"{SERVERS[s]} {len(tally.ran[s])} test{'' if len(tally.ran[s]) == 1 else 's'}"
        for s in SERVERS
    ]
    write("real servers exercised: " + ", ".join(ran))
    if not any(tally.skipped.values()):
        write("real server tests skipped: none")
    for server in SERVERS:
        skipped = tally.skipped.get(server, {})
        if not skipped:
            continue
        reasons = sorted(set(skipped.values()))
        write(
            f"!!! real server {SERVERS[server]}: {len(skipped)} tests SKIPPED: "
            + "; ".join(reasons[:3]),
            red=True,
            bold=True,
        )
    mode = "required (a missing one fails)" if servers_required() else "optional (skipped)"
    write(f"real servers were {mode}; see docs/testing.md")
