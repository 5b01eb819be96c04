"""The oauth2: blocks, auth: oauth2 and helpdesk: in the configuration, with check-config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

from mailguard.config.model import parse_config
from mailguard.errors import ConfigError

IMAP = """
mailboxes:
  - name: support
    addresses: [support@example.com]
    imap:
      host: outlook.office365.com
      user: support@example.com
{imap}
"""


def _text(imap: str) -> str:
    lines = dedent(imap).strip("\n").splitlines()
    return IMAP.format(imap="\n".join("      " + line for line in lines))


def problems(imap: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(_text(imap), "f.yaml", {})
    return str(caught.value).splitlines()


def valid(imap: str) -> None:
    parse_config(_text(imap), "f.yaml", {})


def test_microsoft_with_a_secret_is_valid() -> None:
    valid(
        """
        auth: oauth2
        oauth2:
          provider: microsoft
          tenant: contoso.onmicrosoft.com
          client_id: abc
          client_secret: s
        """
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            "auth: oauth2\noauth2:\n  provider: microsoft\n  client_id: abc\n  client_secret: s",
            "provider microsoft: tenant is required",
        ),
        (
            "auth: oauth2\noauth2:\n  provider: microsoft\n  tenant: t\n  client_id: abc",
            "exactly one of client_secret and certificate is required",
        ),
        (
            "auth: oauth2\noauth2:\n  provider: google\n  service_account_file: sa.json\n"
            "  refresh_token: x",
            "refresh_token is not used by this provider",
        ),
        (
            "auth: oauth2\noauth2:\n  provider: oauth2\n  token_url: http://idp.example/token\n"
            "  client_id: x",
            "token_url must be an https:// URL",
        ),
        ("auth: oauth2\noauth2:\n  provider: command\n  command: []", "must name a program"),
        ("auth: oauth2\noauth2:\n  provider: kerberos", "Input should be 'microsoft'"),
        ("auth: oauth2", "auth: oauth2 needs an oauth2: block"),
        (
            "auth: oauth2\npassword: x\noauth2:\n  provider: command\n  command: [t]",
            "password is not used with auth: oauth2",
        ),
        ("password: x\noauth2:\n  provider: command\n  command: [t]", "only with auth: oauth2"),
        ("auth: login", "password is required (or auth: oauth2"),
    ],
)
def test_each_provider_names_what_is_wrong(block: str, expected: str) -> None:
    found = problems(block)
    assert any("mailboxes[0].imap" in line and expected in line for line in found), found


def test_relay_oauth2_needs_the_user() -> None:
    text = "relay:\n  auth: oauth2\n  oauth2:\n    provider: command\n    command: [t]\n"
    with pytest.raises(ConfigError, match="auth: oauth2 needs user"):
        parse_config(text, "f.yaml", {})
    parse_config(text.replace("  auth:", "  user: a@example.com\n  auth:"), "f.yaml", {})


def test_helpdesk_mode_copies_by_default_and_refuses_move() -> None:
    base = _text("password: x") + "    helpdesk:\n      fetches_inbox: true\n"
    config = parse_config(base, "f.yaml", {})
    imap = config.mailboxes[0].imap
    assert imap is not None and imap.escalate_mode == "copy"
    moving = base.replace("password: x", "password: x\n      escalate_mode: move")
    with pytest.raises(ConfigError, match="contradict"):
        parse_config(moving, "f.yaml", {})
    flag = base.replace("password: x", "password: x\n      escalate_mode: flag")
    imap = parse_config(flag, "f.yaml", {}).mailboxes[0].imap
    assert imap is not None and imap.escalate_mode == "flag"


def test_check_config_checks_the_provider_files(tmp_path: Path) -> None:
    """check-config reads what the providers will need, without asking any server."""
    broken_sa = tmp_path / "sa.json"
    broken_sa.write_text('{"type": "authorized_user"}')
    config = tmp_path / "m.yaml"
    config.write_text(
        _text(f"auth: oauth2\noauth2:\n  provider: google\n  service_account_file: {broken_sa}")
        + "relay:\n  auth: oauth2\n  user: a@example.com\n  oauth2:\n"
        f"    provider: microsoft\n    tenant: t\n    client_id: c\n"
        f"    certificate: {tmp_path / 'missing.pem'}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mailguard", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"mailboxes[0].imap.oauth2: service_account_file: {broken_sa} is not a service-account"
        in done.stderr
    )
    assert f"relay.oauth2: certificate: cannot read {tmp_path / 'missing.pem'}" in done.stderr
