"""``mailguard audit`` on a generated mailbox through the real engine: all four formats.

This is the issue's "done when" in small: a generated export (mbox and Maildir) is
replayed through the engine on a temporary SQLite database, and every format comes out
complete and well formed, with the stuck customers the generator planted found.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from mailguard.audit.engine import audit_engine_factory
from mailguard.audit.main import EXIT_OK, audit_main
from tests.integration.audit_support import (
    html_caught,
    html_chart_totals,
    json_caught,
    text_caught,
)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gen_mailbox.py"
COMPANY = {
    "own_domains": frozenset({"example.com"}),
    "mailboxes": {"support": frozenset({"support@example.com"})},
    "partner_addresses": frozenset({"service@voucher-partner.example.net"}),
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_mailbox", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_mailbox"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["mbox", "maildir"])
def generated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Any]:
    """The export and the generator's account of who it planted in which pattern."""
    out = tmp_path_factory.mktemp(request.param) / "export"
    return out, load_generator().generate(out, 400, request.param, seed=5, days=30)


@pytest.fixture(scope="module")
def export(generated: tuple[Path, Any]) -> Path:
    return generated[0]


# The rules a customer's conversation of each generated pattern must trip when it is the
# customer's only conversation in the export. "sla" is left out: whether a re-notification
# falls due depends on where the export's last message lands, not on the pattern.
RULES_OF_PATTERN: dict[str, set[str]] = {
    "served": set(),
    "served_late": set(),
    "waiting": set(),
    "streak": {"automated_streak"},
    "repeat": {"repeat_contact"},
    "angry": {"frustration"},
    "ping_pong": {"bot_ping_pong"},
    # Both of the customer's messages are answered only by the robot: a streak as well.
    "referral": {"referral_ring", "automated_streak"},
}
ESCALATING = {"streak", "repeat", "angry", "referral"}


def run(export: Path, fmt: str, tmp_path: Path) -> str:
    out = tmp_path / f"report.{fmt}"
    err = io.StringIO()
    code = audit_main(
        [str(export)],
        fmt=fmt,
        output=str(out),
        engine_factory=audit_engine_factory(**COMPANY),
        progress=False,
        stderr=err,
    )
    assert code == EXIT_OK, err.getvalue()
    return out.read_text(encoding="utf-8")


def test_json_report_catches_each_planted_customer_and_no_others(
    generated: tuple[Path, Any], tmp_path: Path
) -> None:
    export, planted = generated
    patterns_of: defaultdict[str, list[str]] = defaultdict(list)
    for pattern, customers in planted.planted.items():
        for customer in customers:
            patterns_of[customer].append(pattern)
    if planted.cut is not None and planted.cut[1] is not None:
        patterns_of[planted.cut[1]].append("cut short")
    assert set(planted.planted) - {"noise"} == set(RULES_OF_PATTERN)
    assert all(planted.planted[p] for p in RULES_OF_PATTERN), "a pattern was never planted"
    caught: defaultdict[str, set[str]] = defaultdict(set)
    for rule, customers in json_caught(json.loads(run(export, "json", tmp_path))).items():
        for customer, mailbox in customers:
            assert mailbox == "support"
            caught[customer].add(rule)
    for customer, patterns in sorted(patterns_of.items()):
        expected = set().union(*(RULES_OF_PATTERN.get(p, set()) for p in patterns))
        got = caught.pop(customer, set())
        sla_allowed = not ESCALATING.isdisjoint(patterns) or len(patterns) > 1
        where = f"{customer} planted in {patterns}"
        if len(patterns) == 1:
            # Alone in the export, the customer trips exactly the pattern's rules.
            assert got - {"sla"} == expected, where
        else:
            # Conversations of one customer interleave (two robot-only answers in a row
            # make a streak): every planted rule still fires, others may join.
            assert expected <= got, where
        assert "sla" not in got or sla_allowed, where
    assert not caught, f"caught customers the generator never planted: {dict(caught)}"


def test_json_report_figures(export: Path, tmp_path: Path) -> None:
    data = json.loads(run(export, "json", tmp_path))
    summary = data["summary"]
    assert summary["messages"] == 400
    assert (summary["failed"], summary["skipped"], summary["duplicates"]) == (0, 0, 0)
    assert summary["inbound"] > 0 and summary["outbound"] > 0
    assert summary["escalated_customers"] > 0
    assert data["rule_hits"]["bot_ping_pong"] > 0
    assert data["first_human_reply"]["answered"] > 0
    assert data["kinds"]["human"]["total"] > 0
    assert sum(b["replies_automated"] for b in data["replies_over_time"]["buckets"]) > 0
    assert sum(b["replies_human"] for b in data["replies_over_time"]["buckets"]) > 0


def test_html_text_and_markdown_reports_name_whom_the_json_report_caught(
    export: Path, tmp_path: Path
) -> None:
    data = json.loads(run(export, "json", tmp_path))
    caught = json_caught(data)
    assert any(caught.values())
    html = run(export, "html", tmp_path)
    assert html_caught(html) == caught
    assert html_chart_totals(html) == {
        series: sum(b[f"replies_{series}"] for b in data["replies_over_time"]["buckets"])
        for series in ("automated", "human")
    }
    assert text_caught(run(export, "text", tmp_path)) == caught
    md = run(export, "md", tmp_path)
    assert md.startswith("# mailguard audit\n")
    assert text_caught(md, markdown=True) == caught


def json_report(export: Path, out: Path, **parallel: int) -> dict[str, Any]:
    """The JSON report of ``export`` with the given worker settings."""
    code = audit_main(
        [str(export)],
        fmt="json",
        output=str(out),
        engine_factory=audit_engine_factory(**COMPANY, **parallel),
        progress=False,
        stderr=io.StringIO(),
    )
    assert code == EXIT_OK
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return report


def test_parsing_in_worker_processes_gives_the_same_report(export: Path, tmp_path: Path) -> None:
    in_process = json_report(export, tmp_path / "in-process.json", workers=0)
    pooled = json_report(export, tmp_path / "pooled.json", workers=2, parallel_from=1)
    # The workers really analysed every message: a silent fallback to in-process analysis
    # would give the same report, so the figures say where the work was done.
    assert pooled.pop("analysis") == {"in_workers": 400, "in_process": 0, "after_pool_failure": 0}
    assert in_process.pop("analysis") == {
        "in_workers": 0,
        "in_process": 400,
        "after_pool_failure": 0,
    }
    assert pooled == in_process
    assert any(json_caught(pooled).values())


class _BrokenPool:
    """A process pool whose workers are gone: every submit fails as a dead pool's does."""

    def submit(self, *args: object, **kwargs: object) -> object:
        from concurrent.futures.process import BrokenProcessPool

        raise BrokenProcessPool("a worker was killed")


class _DyingPool:
    """A process pool whose workers die while working: every result is an exception."""

    def submit(self, *args: object, **kwargs: object) -> object:
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        future: Future[object] = Future()
        future.set_exception(BrokenProcessPool("terminated abruptly"))
        return future


@pytest.mark.parametrize("pool", [_BrokenPool, _DyingPool], ids=["submit", "result"])
def test_dead_workers_do_not_lose_a_message(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: type
) -> None:
    from contextlib import contextmanager

    import mailguard.audit.engine as audit_engine

    expected = json_report(export, tmp_path / "in-process.json", workers=0)

    @contextmanager
    def broken(workers: int, settings: object) -> object:
        yield pool()

    monkeypatch.setattr(audit_engine, "_analysis_pool", broken)
    counted_before = _pool_fallbacks_counted()
    with capture_logs() as logs:
        broken_pool = json_report(export, tmp_path / "broken.json", workers=1, parallel_from=1)
    # Not silent: the report, the log and the metric all say the pool failed.
    assert broken_pool.pop("analysis") == {
        "in_workers": 0,
        "in_process": 0,
        "after_pool_failure": 400,
    }
    expected.pop("analysis")
    assert broken_pool == expected
    warnings = [e for e in logs if e["event"] == "analysis_pool_failed"]
    assert sum(e["messages"] for e in warnings) == 400
    assert all(e["log_level"] == "warning" and "BrokenProcessPool" in e["error"] for e in warnings)
    assert _pool_fallbacks_counted() - counted_before == 400


def _pool_fallbacks_counted() -> float:
    value = REGISTRY.get_sample_value("mailguard_audit_pool_fallback_messages_total")
    return value or 0.0
