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
    assert "0.0.0.0:10025 -> value-of-mailguard_relay_host:10026" in out


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
    proxy_port = config["proxy"].get("listen_port", 10025)
    assert any(p.endswith(f":{proxy_port}") for p in ports)
    assert any(p.endswith(":9464") for p in ports)
    assert config["mailboxes"][0]["imap"]["host"] in compose["services"]
    assert "@postgres:5432/" in config["storage"]["url"]
    assert (COMPOSE_DIR / "dovecot.conf").is_file() and (COMPOSE_DIR / "dovecot-users").is_file()


def _published_everywhere(port: str) -> bool:
    """A compose ``ports`` entry that listens on all of the host's interfaces."""
    parts = port.split(":")
    return len(parts) == 2 or parts[0] in ("0.0.0.0", "::", "[::]", "")  # noqa: S104


def test_the_proxy_is_not_published_to_the_network_without_tls_and_auth() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    proxy = config["proxy"]
    port = str(proxy.get("listen_port", 10025))
    published = [p for p in _compose()["services"]["mailguard"]["ports"] if p.endswith(f":{port}")]
    assert published
    if not (proxy.get("tls_cert") and proxy.get("auth_users")):
        wide = [p for p in published if _published_everywhere(p)]
        assert not wide, f"the proxy is published on every interface without TLS and AUTH: {wide}"


def test_the_check_catches_a_port_on_every_interface() -> None:
    assert _published_everywhere("10025:10025")
    assert _published_everywhere("0.0.0.0:10025:10025")
    assert not _published_everywhere("127.0.0.1:10025:10025")
