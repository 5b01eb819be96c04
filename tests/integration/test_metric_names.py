"""Every metric named in the alert rules, the Grafana dashboard and the docs exists, under that
name, on a running `mailguard run`; and docs/operations.md lists every metric it exposes.

The names are scraped from the real daemon (Dovecot, an SMTP peer, the proxy with TLS), not
read from the code: what a Prometheus server sees is what the rules and panels query.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from tests.dovecot.fixture import Dovecot
from tests.integration.daemon_support import Daemon, daemon_config
from tests.oauth.endpoint import LocalCA
from tests.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "config" / "prometheus" / "mailguard-rules.yml"
DASHBOARD = ROOT / "config" / "grafana" / "mailguard.json"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EVERY_METRIC = ROOT / "docs" / "operations.md"

NAME = re.compile(r"\bmailguard_[a-z0-9_]*[a-z0-9]\b")
# Identifiers that look like metric names and are not: Postfix's parameter naming the milter
# (docs/postfix.md) and the test suite's PostgreSQL role (docs/testing.md, docs/storage.md).
NOT_METRICS = {"mailguard_milter", "mailguard_test"}
# `mailguard audit` is a command of its own: its metrics live in that process, not the daemon.
AUDIT_PREFIX = "mailguard_audit_"

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("", "_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


def _exposed(text: str) -> dict[str, str]:
    """Every sample name a scraper can query -> its family's name."""
    names = {}
    for family in text_string_to_metric_families(text):
        for suffix in SUFFIXES.get(family.type, ("",)):
            names[family.name + suffix] = family.name
    return names


def _named(path: Path) -> set[str]:
    return set(NAME.findall(path.read_text())) - NOT_METRICS


def _dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [t["expr"] for p in panels for t in p.get("targets", [])]


@pytest.mark.dovecot
@pytest.mark.smtp
@pytest.mark.slow
async def test_every_named_metric_exists_and_operations_md_lists_them_all(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    ca = LocalCA(tmp_path / "tls")
    config = daemon_config(
        tmp_path,
        dovecot,
        (smtp_sink.host, smtp_sink.port),
        extra={"proxy": {"tls_cert": str(ca.cert_file), "tls_key": str(ca.key_file)}},
    )
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        await daemon.wait_status("the mailbox read", lambda s: s["status"] == "ok")
        await daemon.wait_status(
            "INBOX synced", lambda s: "INBOX" in s["mailboxes"]["support"]["folders"]
        )
        seen = await daemon.aget("/metrics")
        assert seen is not None and seen[0] == 200
        exposed = _exposed(seen[1])
    finally:
        daemon.kill()

    import mailguard.audit.engine  # noqa: F401 - registers the audit's metrics

    audit = _exposed(_scrape_registry())
    sources = {RULES: _named(RULES), DASHBOARD: _named(DASHBOARD)}
    sources.update({doc: _named(doc) for doc in DOCS})
    missing = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in names
            if name not in (audit if name.startswith(AUDIT_PREFIX) else exposed)
        )
        for path, names in sources.items()
    }
    assert {path: names for path, names in missing.items() if names} == {}
    assert sources[RULES] and sources[DASHBOARD]

    # One place lists every metric: the table in docs/operations.md names each family the
    # daemon exposes (a counter as name_total, as it is queried).
    listed = {exposed[name] for name in _named(EVERY_METRIC) if name in exposed}
    # (The client library writes each counter's and histogram's creation time as a gauge
    # family of its own, ``*_created``: part of its family, not a metric to list.)
    families = {
        family
        for family in exposed.values()
        if family.startswith("mailguard_") and not family.endswith("_created")
    }
    assert families - listed == set()


def _scrape_registry() -> str:
    from prometheus_client import generate_latest

    return generate_latest(REGISTRY).decode()


def test_the_dashboard_is_grafana_json_with_valid_queries(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "mailguard" and dashboard["panels"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
            assert panel["targets"], panel["title"]
    promtool = shutil.which("promtool")
    if promtool is None:
        from tests.real_servers import servers_required

        reason = "promtool is not installed (apt-get install prometheus)"
        if servers_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(f"!!! {reason}: the dashboard's queries are NOT parsed !!!")
    # promtool parses PromQL in rule files: every panel query as a recording rule.
    rules = [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(_dashboard_exprs())]
    check = tmp_path / "dashboard-queries.yml"
    check.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(
        [promtool, "check", "rules", str(check)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
