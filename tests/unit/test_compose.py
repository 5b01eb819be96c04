"""config/compose: the example's mailguard configuration is valid and fits its compose file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailguard.app.cli import EXIT_OK, EXIT_USAGE, main

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "config" / "compose"
CONFIG = COMPOSE_DIR / "mailguard.yaml"
SECRETS = ("MAILGUARD_IMAP_PASSWORD", "MAILGUARD_DB_PASSWORD", "MAILGUARD_RELAY_HOST")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())
    return loaded


def test_check_config_accepts_the_compose_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SECRETS:
        monkeypatch.setenv(name, f"value-of-{name.lower()}")
    assert main(["check-config", "-c", str(CONFIG)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "valid" in out
    assert "support (support@example.com; IMAP dovecot)" in out
    assert "0.0.0.0:10025 -> value-of-mailguard_relay_host:25" in out


def test_a_missing_secret_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SECRETS:
        monkeypatch.setenv(name, "x")
    monkeypatch.delenv("MAILGUARD_IMAP_PASSWORD")
    assert main(["check-config", "-c", str(CONFIG)]) == EXIT_USAGE
    assert "MAILGUARD_IMAP_PASSWORD" in capsys.readouterr().err


def test_the_compose_file_gives_mailguard_its_config_and_every_variable() -> None:
    service = _compose()["services"]["mailguard"]
    assert "./mailguard.yaml:/etc/mailguard/mailguard.yaml:ro" in service["volumes"]
    assert service["environment"]["MAILGUARD_CONFIG"] == "/etc/mailguard/mailguard.yaml"
    used = set(re.findall(r"\$\{(\w+)", CONFIG.read_text()))
    assert used == set(SECRETS)
    assert used <= set(service["environment"])
    assert {"postgres", "dovecot"} <= set(service["depends_on"])


def test_the_compose_file_publishes_the_configured_ports_and_hosts() -> None:
    compose = _compose()
    config = yaml.safe_load(CONFIG.read_text())
    ports = compose["services"]["mailguard"]["ports"]
    assert any(p.startswith(f"{config['proxy'].get('listen_port', 10025)}:") for p in ports)
    assert any(p.endswith(":9464") for p in ports)
    assert config["mailboxes"][0]["imap"]["host"] in compose["services"]
    assert "@postgres:5432/" in config["storage"]["url"]
    assert (COMPOSE_DIR / "dovecot.conf").is_file() and (COMPOSE_DIR / "dovecot-users").is_file()
