"""The relay section (moved out of proxy.upstream) and the proxy's new keys."""

from __future__ import annotations

from datetime import timedelta
from textwrap import dedent

import pytest

from mailguard.config import Config, parse_config
from mailguard.config.model import ConfigDeprecationWarning
from mailguard.errors import ConfigError


def test_embedded_defaults_listen_on_loopback_and_relay_to_local_port_25() -> None:
    config = Config()
    assert config.proxy.enabled
    assert (config.proxy.listen_host, config.proxy.listen_port) == ("127.0.0.1", 10025)
    assert (config.relay.host, config.relay.port, config.relay.tls) == ("127.0.0.1", 25, "plain")
    assert config.proxy.escalated == "hold"


def test_relay_section() -> None:
    config = parse_config(
        "relay: {host: smtp.example.com, port: 587, tls: starttls, timeout: 10s}\n", "f.yaml", {}
    )
    assert config.relay.host == "smtp.example.com"
    assert config.relay.timeout == timedelta(seconds=10)


def test_old_proxy_upstream_still_works_with_a_warning_naming_relay() -> None:
    text = dedent(
        """
        proxy:
          listen_port: 2525
          upstream: {host: mx.example.com, port: 2526}
        """
    )
    with pytest.warns(ConfigDeprecationWarning, match="relay:"):
        config = parse_config(text, "f.yaml", {})
    assert (config.relay.host, config.relay.port) == ("mx.example.com", 2526)
    assert config.proxy.listen_port == 2526 - 1


def test_old_and_new_relay_keys_together_are_refused() -> None:
    text = "relay: {host: a.example.com}\nproxy: {upstream: {host: b.example.com}}\n"
    with pytest.raises(ConfigError, match="keep only relay"):
        parse_config(text, "f.yaml", {})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("proxy: {escalated: divert}\n", "divert needs notify.agents"),
        ("proxy: {tls_mode: implicit}\n", "need tls_cert and tls_key"),
        ("proxy: {require_tls: true}\n", "need tls_cert and tls_key"),
        ("proxy: {escalated: drop}\n", "proxy.escalated"),
        ("proxy: {allowed_networks: [0.0.0.0/0]}\n", "open relay"),
        ("proxy: {allowed_networks: ['::/0']}\n", "open relay"),
    ],
)
def test_proxy_mistakes_are_named(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_config(text, "f.yaml", {})


def test_divert_with_agents_is_fine() -> None:
    config = parse_config(
        "proxy: {escalated: divert}\nnotify: {agents: agents@example.com}\n", "f.yaml", {}
    )
    assert config.proxy.escalated == "divert"


def test_any_network_is_fine_when_everyone_must_authenticate() -> None:
    config = parse_config(
        "proxy:\n  allowed_networks: [0.0.0.0/0]\n  auth_users: {helpdesk: s3cret}\n"
        "  tls_cert: /etc/cert.pem\n  tls_key: /etc/key.pem\n",
        "f.yaml",
        {},
    )
    assert config.proxy.auth_users
