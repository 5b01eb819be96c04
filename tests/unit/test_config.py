"""Configuration: the example validates; each kind of mistake gets an actionable message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from mailguard.config import Config, load_config, parse_config
from mailguard.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "mailguard.example.yaml"

MAILBOX = """
mailboxes:
  - name: support
    addresses: [support@example.com]
"""


def problems_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text), "f.yaml", env or {})
    return str(caught.value).splitlines()


def test_example_config_validates_without_environment() -> None:
    config = load_config(EXAMPLE, env={})
    assert [m.name for m in config.mailboxes] == ["support", "m365"]
    assert config.policy.automated_streak.window == timedelta(days=14)
    assert config.proxy.max_message_size == 25 * 1024 * 1024


def test_example_config_takes_secrets_from_environment() -> None:
    config = load_config(EXAMPLE, env={"MAILGUARD_IMAP_PASSWORD": "s3cret"})
    imap = config.mailboxes[0].imap
    assert imap is not None and imap.password is not None
    assert imap.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(config)


def test_empty_file_means_embedded_defaults() -> None:
    config = parse_config("", "f.yaml", {})
    assert config == Config()
    assert config.storage_url == "sqlite:///data/mailguard.sqlite3"


BAD_CONFIGS = [
    pytest.param(
        "storge: {}\n",
        "f.yaml:1: storge: unknown key; did you mean 'storage'?",
        id="misspelt-top-level-key",
    ),
    pytest.param(
        "policy:\n  sla:\n    frist: 3h\n",
        "f.yaml:3: policy.sla.frist: unknown key; did you mean 'first'?",
        id="misspelt-nested-key",
    ),
    pytest.param(
        MAILBOX + "    imap: {host: imap.example.com, user: u, password: '${PW}'}\n",
        "f.yaml:5: mailboxes[0].imap.password: environment variable PW is not set",
        id="missing-environment-variable",
    ),
    pytest.param(
        "proxy:\n  listen_port: 99999\n",
        "f.yaml:2: proxy.listen_port: Input should be less than or equal to 65535 (got 99999)",
        id="port-out-of-range",
    ),
    pytest.param(
        "policy:\n  repeat_contact:\n    window: 3 days\n",
        "f.yaml:3: policy.repeat_contact.window: '3 days' is not a duration such as 30s, 15m, "
        "8h, 14d or 2w",
        id="bad-duration",
    ),
    pytest.param(
        "mailboxes:\n  - name: support\n    addresses: [support-at-example.com]\n",
        "f.yaml:3: mailboxes[0].addresses[0]: 'support-at-example.com' is not an e-mail address",
        id="bad-address",
    ),
    pytest.param(
        "mailboxes:\n  - addresses: [support@example.com]\n",
        "f.yaml:2: mailboxes[0].name: required key is missing",
        id="missing-required-key",
    ),
    pytest.param(
        MAILBOX + "    imap: {host: imap.example.com, tls: plain, user: u, password: p}\n",
        "f.yaml:5: mailboxes[0].imap: tls: plain sends the password in clear text to "
        "imap.example.com; use implicit or starttls, or set allow_plain_remote: true",
        id="plain-imap-to-remote-host",
    ),
    pytest.param(
        MAILBOX + "    imap: {host: imap.example.com, tls: ssl, user: u, password: p}\n",
        "f.yaml:5: mailboxes[0].imap.tls: Input should be 'implicit', 'starttls' or 'plain' "
        "(got 'ssl')",
        id="bad-tls-mode",
    ),
    pytest.param(
        "proxy:\n  tls_cert: /etc/cert.pem\n",
        "f.yaml:1: proxy: tls_cert and tls_key must be given together",
        id="cert-without-key",
    ),
    pytest.param(
        "proxy:\n  listen_host: 0.0.0.0\n  auth_users: {helpdesk: pw}\n",
        "f.yaml:1: proxy: auth_users without tls_cert would accept passwords in clear text on "
        "0.0.0.0; configure tls_cert and tls_key",
        id="auth-without-tls",
    ),
    pytest.param(
        "storage:\n  url: mysql://db/mailguard\n",
        "f.yaml:2: storage.url: must start with sqlite:// or postgresql://, not "
        "'mysql://db/mailguard'",
        id="unsupported-database",
    ),
    pytest.param(
        "mailboxes:\n  - name: a\n    addresses: [s@example.com]\n"
        "  - name: a\n    addresses: [t@example.com]\n",
        "f.yaml:1: mailboxes: mailbox names must be unique; repeated: a",
        id="duplicate-mailbox-name",
    ),
    pytest.param(
        "classifier:\n  extra_rules:\n    - {name: x, kind: bounce, target: subject, "
        "pattern: '(unclosed'}\n",
        "f.yaml:3: classifier.extra_rules[0].pattern: invalid regular expression: missing ), "
        "unterminated subpattern at position 0",
        id="bad-regex",
    ),
    pytest.param(
        "mailboxes:\n  - name: support\n    addresses: [support@example.com]\n"
        "    keywords: {escalated: 'has space'}\n",
        "f.yaml:4: mailboxes[0].keywords.escalated: 'has space' is not a valid IMAP keyword "
        "(letters, digits, $ and -)",
        id="bad-imap-keyword",
    ),
    pytest.param(
        "policy:\n  frustration: {threshold: 1.5}\n",
        "f.yaml:2: policy.frustration.threshold: Input should be less than or equal to 1 (got 1.5)",
        id="threshold-out-of-range",
    ),
    pytest.param(
        "proxy: [1, 2]\n",
        "f.yaml:1: proxy: Input should be a valid dictionary or instance of ProxyConfig",
        id="wrong-type-for-section",
    ),
    pytest.param(
        "proxy:\n  listen_port: 25\n  listen_port: 26\n",
        "f.yaml:3: proxy.listen_port: duplicate key",
        id="duplicate-key",
    ),
    pytest.param(
        "policy: {sla: {first: 8h}\n",
        "f.yaml:2: (top level): invalid YAML: expected ',' or '}', but got '<stream end>'",
        id="yaml-syntax-error",
    ),
    pytest.param(
        "- just\n- a list\n",
        "f.yaml:1: (top level): the file must be a mapping of keys",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_bad_config_is_reported_with_file_line_and_key(text: str, expected: str) -> None:
    assert expected in problems_of(text)


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of("storge: {}\nproxy:\n  listen_port: 0\n  tls_crt: x\n")
    assert len(problems) == 3
    assert problems[0].startswith("f.yaml:1: storge")


def test_dollar_escape_and_fallback() -> None:
    text = MAILBOX + "    imap: {host: h.example.com, user: 'a$$b', password: '${PW:-dflt}'}\n"
    imap = parse_config(dedent(text), "f.yaml", {}).mailboxes[0].imap
    assert imap is not None
    assert imap.user == "a$b"
    assert imap.password.get_secret_value() == "dflt"


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope.yaml: \(top level\): cannot read"):
        load_config(missing)


def test_same_address_in_two_mailboxes_is_refused() -> None:
    text = (
        "mailboxes:\n  - name: a\n    addresses: [s@example.com]\n"
        "  - name: b\n    addresses: [S@example.com]\n"
    )
    assert "f.yaml:1: mailboxes: s@example.com is guarded by both a and b" in problems_of(text)


def test_defaults_follow_the_tls_mode() -> None:
    text = MAILBOX + "    imap: {host: 127.0.0.1, tls: plain, user: u, password: p}\n"
    imap = parse_config(dedent(text), "f.yaml", {}).mailboxes[0].imap
    assert imap is not None
    assert imap.effective_port == 143


def test_dry_run_is_global_unless_a_mailbox_sets_its_own() -> None:
    from mailguard.config.settings import dry_run_of

    text = (
        "dry_run: true\n"
        "mailboxes:\n"
        "  - {name: support, addresses: [s@example.com], dry_run: false}\n"
        "  - {name: sales, addresses: [v@example.com]}\n"
        "  - {name: new, addresses: [n@example.com], dry_run: true}\n"
    )
    dry_run = dry_run_of(parse_config(text, "f.yaml", {}))
    assert [dry_run(name) for name in ("support", "sales", "new", None)] == [
        False,
        True,
        True,
        True,
    ]
    assert dry_run.describe() == "yes (support: no)"
    live = dry_run_of(parse_config(text.replace("dry_run: true\n", "", 1), "f.yaml", {}))
    assert [live(name) for name in ("support", "sales", "new")] == [False, False, True]
    assert live.describe() == "no (new: yes)"
    assert "f.yaml:3: mailboxes[0].dry_run: Input should be a valid boolean" in "\n".join(
        problems_of(text.replace("dry_run: false}", "dry_run: maybe}"))
    )
