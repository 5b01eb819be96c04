"""mailguard configurations that log in with OAuth2 tokens from a command, for the IMAP tests.

:func:`token_command` writes a small program (the ``command`` provider's kind of helper)
that mints a token the Dovecot fixture accepts and prints it with a lifetime; each run is
counted in a file next to it. :func:`oauth_config` guards support@ through any IMAP
endpoint (Dovecot itself, or the Exchange-like proxy) with ``auth: oauth2``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mailguard.config.model import Config, parse_config
from tests.dovecot.fixture import SUPPORT
from tests.integration.imap_support import OWN_DOMAIN

_SCRIPT = """\
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from tests.oauth.tokens import mint
here = Path(__file__).parent
with open(here / "runs", "a") as runs:
    runs.write("run\\n")
token = mint(bytes.fromhex({key!r}), {user!r}, lifetime={lifetime!r})
print(token)
print({claimed!r})
"""


def token_command(
    directory: Path, key: bytes, *, lifetime: float = 3600, claimed: float | None = None
) -> list[str]:
    """argv of a helper printing a token valid ``lifetime`` s, said to last ``claimed`` s."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "mint_token.py"  # not token.py: that would shadow the stdlib module
    root = str(Path(__file__).resolve().parents[2])
    script.write_text(
        _SCRIPT.format(
            root=root,
            key=key.hex(),
            user=SUPPORT,
            lifetime=lifetime,
            claimed=int(claimed if claimed is not None else lifetime),
        )
    )
    return [sys.executable, str(script)]


def command_runs(directory: Path) -> int:
    """How often the helper of :func:`token_command` in ``directory`` ran."""
    runs = directory / "runs"
    return len(runs.read_text().splitlines()) if runs.exists() else 0


def oauth_config(
    data_dir: Path,
    *,
    host: str,
    port: int,
    command: list[str],
    tls: str = "plain",
    ca_file: Path | None = None,
    extra_imap: str = "",
    extra_mailbox: str = "",
    top: str = "",
    poll_interval: str = "0.5s",
) -> Config:
    argv = ", ".join(f'"{part}"' for part in command)
    text = f"""
data_dir: {data_dir}
{top}
company:
  domains: [{OWN_DOMAIN}]
mailboxes:
  - name: support
    addresses: [{SUPPORT}]
    imap:
      host: {host}
      port: {port}
      tls: {tls}
      {f"ca_file: {ca_file}" if ca_file else ""}
      user: {SUPPORT}
      auth: oauth2
      oauth2:
        provider: command
        command: [{argv}]
        refresh_before: 1s
      poll_interval: {poll_interval}
      command_timeout: 5s
      reconnect_max: 1s
{extra_imap}
{extra_mailbox}
"""
    return parse_config(text, "test.yaml", env={})
