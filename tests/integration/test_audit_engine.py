"""``mailguard audit`` through the real engine: every scenario replayed in one run."""

from __future__ import annotations

import io
import json
from pathlib import Path

from mailguard.audit.engine import audit_engine_factory
from mailguard.audit.main import audit_main, run_audit
from mailguard.audit.render import FORMATS, render
from tests.integration.audit_support import html_caught, html_chart_totals

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"
COMPANY = {
    "own_domains": frozenset({"example.com"}),
    "mailboxes": {
        "support": frozenset({"support@example.com"}),
        "gutscheine": frozenset({"gutscheine@example.com"}),
        "shop": frozenset({"shop@example.com"}),
    },
    "partner_addresses": frozenset({"service@voucher-partner.example.net"}),
}


def emls(*folders: str) -> list[str]:
    """The scenario messages (the folders also hold README.md, which is not mail)."""
    roots = [SCENARIOS / f for f in folders] or [SCENARIOS]
    return sorted(str(p) for root in roots for p in root.rglob("*.eml"))


async def test_audit_of_all_scenarios_reports_each_pattern(tmp_path: Path) -> None:
    factory = audit_engine_factory(db_path=str(tmp_path / "audit.sqlite3"), **COMPANY)
    report = await run_audit(emls(), engine_factory=factory)
    assert report.failure_count == 0
    assert report.skipped_count == 0
    assert report.duplicates == 0
    # Exactly who each rule caught across the scenarios (tests/data/scenarios/*/README.md),
    # so a rule that stops firing, or fires on the wrong customer, fails here.
    caught = {
        rule: sorted((t.customer, t.mailbox, t.linked_mailboxes) for t in ts)
        for rule, ts in report.trapped.items()
    }
    streak, repeat, ring = "automated_streak", "repeat_contact", "referral_ring"
    assert caught == {
        streak: [
            ("a.kowalski@example.org", "support", ()),
            ("j.carter@example.org", "support", ()),
            ("linda.nguyen@example.org", "support", ()),
            ("petra.meier@example.org", "support", ()),
        ],
        repeat: [
            ("a.kowalski@example.org", "support", ()),
            ("m.yilmaz@example.org", "support", ()),
        ],
        "bot_ping_pong": [
            ("helpdesk@acme-retail.example.org", "support", ()),
            ("sabine.koch@example.org", "support", ()),
        ],
        ring: [
            ("linda.nguyen@example.org", "support", ()),
            ("thomas.schulz@example.de", "gutscheine", ("shop",)),
            ("thomas.schulz@example.de", "shop", ("gutscheine",)),
        ],
        "frustration": [
            ("k.wagner@example.de", "support", ()),
            ("m.yilmaz@example.org", "support", ()),
            ("r.okafor@example.net", "support", ()),
        ],
        # "Please call me on 07700 900123" in her fourth message; already escalated.
        "asks_for_human": [("a.kowalski@example.org", "support", ())],
        "sla": [("a.kowalski@example.org", "support", ()), ("m.yilmaz@example.org", "support", ())],
    }
    assert report.rule_hits.get("bot_ping_pong", 0) >= 6
    assert report.rule_hits.get("sla", 0) >= 4
    assert report.held >= 6
    for fmt in FORMATS:
        assert render(report, fmt).strip()
    assert json.loads(render(report, "json"))


def test_audit_main_writes_the_report_through_the_real_engine(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    err = io.StringIO()
    code = audit_main(
        emls("automated_streak_en", "frustration_en"),
        fmt="html",
        output=str(out),
        engine_factory=audit_engine_factory(**COMPANY),
        progress=False,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    html = out.read_text(encoding="utf-8")
    caught = html_caught(html)
    assert caught.pop("automated_streak") == [("j.carter@example.org", "support")]
    assert caught.pop("frustration") == [("r.okafor@example.net", "support")]
    assert all(customers == [] for customers in caught.values()), caught
    # Both scenarios answer only with ticket acknowledgements: three automated replies.
    assert html_chart_totals(html) == {"automated": 3, "human": 0}
