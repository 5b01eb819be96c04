"""The command line: exit codes and what a person reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailguard import __version__
from mailguard.cli import EXIT_OK, EXIT_USAGE, main

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
    assert "127.0.0.1:10025 -> 127.0.0.1:25" in out


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
