"""The command line: exit codes and what a person reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailguard import __version__
from mailguard.app.cli import EXIT_BROKEN_PIPE, EXIT_OK, EXIT_USAGE, main

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "mailguard.example.yaml"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"mailguard {__version__}"


def test_check_config_summarises_a_valid_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "-c", str(EXAMPLE)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "valid" in out
    assert "support (support@example.com; IMAP imap.example.com)" in out
    assert "127.0.0.1:10025 -> 127.0.0.1:10026" in out
    assert "milter:    inet:127.0.0.1:8891" in out


def test_check_config_says_which_mailboxes_are_in_a_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "mailguard.yaml"
    config.write_text(
        "mailboxes:\n"
        "  - {name: support, addresses: [s@example.com]}\n"
        "  - {name: new, addresses: [n@example.com], dry_run: true}\n"
    )
    assert main(["check-config", "-c", str(config)]) == EXIT_OK
    assert "dry run:   no (new: yes)" in capsys.readouterr().out


def test_check_config_lists_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("proxy:\n  listen_prot: 25\nretention_days: 0\n")
    assert main(["check-config", "-c", str(bad)]) == EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}:2: proxy.listen_prot: unknown key; did you mean 'listen_port'?",
        f"{bad}:3: retention_days: Input should be greater than or equal to 1 (got 0)",
    ]


def test_check_config_requires_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["check-config"])
    assert caught.value.code == EXIT_USAGE
    assert "-c/--config" in capsys.readouterr().err


def test_password_in_database_url_is_not_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("storage:\n  url: postgresql://mg:hunter2@db.internal/mailguard\n")
    assert main(["check-config", "-c", str(config)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "postgresql://mg:***@db.internal/mailguard" in out


PLAIN_MESSAGE = (
    b"From: Jane Doe <jane@example.org>\r\n"
    b"To: support@example.com\r\n"
    b"Subject: [ACME-4711] received\r\n"
    b"Message-ID: <m1@example.org>\r\n"
    b"Date: Mon, 02 Mar 2026 08:00:00 +0000\r\n"
    b"\r\n"
    b"Hello, this is a normal message.\r\n"
)


def test_explain_applies_extra_rules_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = tmp_path / "m.eml"
    message.write_bytes(PLAIN_MESSAGE)
    assert main(["explain", "--json", str(message)]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["automated"] is False

    config = tmp_path / "c.yaml"
    config.write_text(
        "classifier:\n  extra_rules:\n"
        "    - {name: acme_ack, kind: ticket_ack, target: subject, "
        "pattern: '^\\[ACME-\\d+\\] received', weight: 2.0}\n"
    )
    assert main(["explain", "--json", "-c", str(config), str(message)]) == EXIT_OK
    result = json.loads(capsys.readouterr().out)
    assert result["automated"] is True
    assert result["kind"] == "ticket_ack"
    assert "acme_ack" in [e["rule"] for e in result["evidence"]]


def test_explain_names_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explain", str(tmp_path / "missing.eml")]) == EXIT_USAGE
    assert "missing.eml" in capsys.readouterr().err


def test_audit_needs_the_company_domains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.eml").write_bytes(PLAIN_MESSAGE)
    assert main(["audit", str(tmp_path)]) == EXIT_USAGE
    assert "--own-domain" in capsys.readouterr().err
    assert main(["audit", "--own-domain", "not a domain", str(tmp_path)]) == EXIT_USAGE
    assert "--own-domain: 'not a domain' is not a domain name" in capsys.readouterr().err


def test_audit_reports_trapped_customers_as_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = Path(__file__).resolve().parents[1] / "data" / "scenarios"
    out = tmp_path / "report.json"
    args = ["audit", "--own-domain", "example.com", "--format", "json", "-o", str(out)]
    assert main([*args, str(scenarios / "automated_streak_en")]) == EXIT_OK
    report = json.loads(out.read_text())
    # Every report lists every rule, empty or not: check who was caught, and by what.
    trapped = {
        rule: [(t["customer"], t["mailbox"]) for t in entries]
        for rule, entries in report["trapped"].items()
    }
    assert trapped.pop("automated_streak") == [("j.carter@example.org", "support")]
    assert all(entries == [] for entries in trapped.values()), trapped
    assert report["summary"]["trapped_customers"] == 1


def test_check_config_names_the_moved_relay_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("proxy:\n  upstream: {host: mx.example.com, port: 2525}\n")
    assert main(["check-config", "-c", str(old)]) == EXIT_OK
    captured = capsys.readouterr()
    assert "127.0.0.1:10025 -> mx.example.com:2525" in captured.out
    assert captured.err.strip() == (
        f"{old}: warning: proxy.upstream is deprecated: move the section to the top-level key "
        "relay:"
    )


def test_a_reader_that_goes_away_ends_the_output_quietly() -> None:
    """`mailguard check-config | head -1`: no BrokenPipeError traceback, exit 141 like `yes`."""
    script = "import sys\nfrom mailguard.app.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "check-config", "-c", str(EXAMPLE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before mailguard writes its first line
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE, err
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_privacy_help_explains_both_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["privacy", "--help"])
    assert caught.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "export print everything mailguard stores about a customer" in text
    assert "as text or as versioned JSON" in text
    assert "erase delete everything mailguard stores about a customer in one transaction" in text
    assert "unless --drop-held" in text


def test_privacy_names_a_bad_address(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"data_dir: {tmp_path}\nhttp: {{enabled: false}}\n")
    code = main(["privacy", "erase", "--customer", "not-an-address", "-c", str(config)])
    assert code == EXIT_USAGE
    assert "--customer: 'not-an-address' is not an e-mail address" in capsys.readouterr().err
