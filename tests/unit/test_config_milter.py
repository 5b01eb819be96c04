"""The milter's configuration: off by default, the MTA's notation, loopback unless allowed."""

from __future__ import annotations

import pytest

from mailguard.config import parse_config
from mailguard.errors import ConfigError


def milter(text: str) -> object:
    return parse_config(text, "f.yaml", {}).milter


def test_off_unless_configured() -> None:
    assert parse_config("", "f.yaml", {}).milter is None


@pytest.mark.parametrize(
    ("listen", "inet", "path"),
    [
        ("inet:127.0.0.1:8891", ("127.0.0.1", 8891), None),
        ("inet:[::1]:8891", ("::1", 8891), None),
        ("inet:localhost:10000", ("localhost", 10000), None),
        ("unix:/run/mailguard/milter.sock", None, "/run/mailguard/milter.sock"),
    ],
)
def test_listen_forms(listen: str, inet: tuple[str, int] | None, path: str | None) -> None:
    config = parse_config(f"milter: {{listen: '{listen}'}}", "f.yaml", {}).milter
    assert config is not None
    assert config.unix_path == path
    if inet is not None:
        assert config.inet == inet


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("milter: {listen: 'inet:8891@127.0.0.1'}", "must be inet:HOST:PORT"),
        ("milter: {listen: 'unix:milter.sock'}", "absolute path"),
        ("milter: {listen: 'inet:127.0.0.1:70000'}", "between 1 and 65535"),
        ("milter: {listen: 'inet:0.0.0.0:8891'}", "not a loopback address"),
        ("milter: {}", "listen"),
        ("milter: {listen: 'inet:127.0.0.1:8891', socket_mode: '999'}", "socket_mode"),
    ],
)
def test_bad_milter_settings_name_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_config(text, "f.yaml", {})


def test_off_loopback_only_when_allowed() -> None:
    text = "milter: {listen: 'inet:10.0.0.5:8891', allow_remote: true}"
    config = parse_config(text, "f.yaml", {}).milter
    assert config is not None and config.inet == ("10.0.0.5", 8891)


def test_divert_without_agents_is_refused_for_the_milter_too() -> None:
    text = "proxy: {enabled: false, escalated: divert}\nmilter: {listen: 'inet:127.0.0.1:8891'}\n"
    with pytest.raises(ConfigError, match="divert needs notify.agents"):
        parse_config(text, "f.yaml", {})
