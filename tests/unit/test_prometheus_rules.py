"""config/prometheus/mailguard-rules.yml: valid for promtool, and every alert unit-tested.

promtool comes with Debian's ``prometheus`` package (scripts/test installs it). Without it the
tests are skipped loudly on a developer's machine and fail in CI, like the real servers
(tests/real_servers.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.real_servers import servers_required

RULES_DIR = Path(__file__).resolve().parents[2] / "config" / "prometheus"
RULES = RULES_DIR / "mailguard-rules.yml"
RULE_TESTS = RULES_DIR / "mailguard-rules.test.yml"


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is not installed (apt-get install prometheus)"
        if servers_required():
            pytest.fail(f"{reason}; it is required here (CI=true)", pytrace=False)
        pytest.skip(f"!!! {reason}: the alert rules are NOT checked !!!")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=RULES_DIR,
    )


def test_promtool_checks_the_rules() -> None:
    done = _run("check", "rules", RULES.name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    done = _run("test", "rules", RULE_TESTS.name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_a_test_that_makes_it_fire() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"]}
    fired = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert alerts == fired
    wanted = {  # what issue 22 asks the rules to cover
        "MailguardDown",
        "MailguardMailboxNotSyncing",
        "MailguardExecutorFailing",
        "MailguardHeldMailTooOld",
        "MailguardEscalationTooOld",
        "MailguardRelayErrors",
        "MailguardCertificateExpiring",
    }
    assert wanted <= alerts
