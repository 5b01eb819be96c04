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
import xml.etree.ElementTree as ET  # noqa: S405 - parses our own output only
from pathlib import Path
from types import ModuleType

import pytest

from mailguard.audit.engine import audit_engine_factory
from mailguard.audit.main import EXIT_OK, audit_main

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
def export(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp(request.param) / "export"
    load_generator().generate(out, 400, request.param, seed=5, days=30)
    return out


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


def test_json_report_finds_the_planted_patterns(export: Path, tmp_path: Path) -> None:
    data = json.loads(run(export, "json", tmp_path))
    summary = data["summary"]
    assert summary["messages"] == 400
    assert (summary["failed"], summary["skipped"], summary["duplicates"]) == (0, 0, 0)
    assert summary["inbound"] > 0 and summary["outbound"] > 0
    assert summary["escalated_customers"] > 0
    assert data["trapped"]["automated_streak"]
    assert data["rule_hits"]["bot_ping_pong"] > 0
    assert data["first_human_reply"]["answered"] > 0
    assert data["kinds"]["human"]["total"] > 0
    assert sum(b["replies_automated"] for b in data["replies_over_time"]["buckets"]) > 0
    assert sum(b["replies_human"] for b in data["replies_over_time"]["buckets"]) > 0


def test_html_text_and_markdown_reports(export: Path, tmp_path: Path) -> None:
    html = run(export, "html", tmp_path)
    root = ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))  # noqa: S314 - our output
    assert root.find(".//svg") is not None
    assert "automated_streak" in html
    text = run(export, "text", tmp_path)
    assert "Trapped customers per rule" in text and "automated_streak:" in text
    md = run(export, "md", tmp_path)
    assert md.startswith("# mailguard audit\n") and "| figure | value |" in md


def json_report(export: Path, out: Path, **parallel: int) -> str:
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
    return out.read_text(encoding="utf-8")


def test_parsing_in_worker_processes_gives_the_same_report(export: Path, tmp_path: Path) -> None:
    in_process = json_report(export, tmp_path / "in-process.json", workers=0)
    pooled = json_report(export, tmp_path / "pooled.json", workers=2, parallel_from=1)
    assert pooled == in_process
    assert "automated_streak" in json.loads(pooled)["trapped"]


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
    broken_pool = json_report(export, tmp_path / "broken.json", workers=1, parallel_from=1)
    assert broken_pool == expected
