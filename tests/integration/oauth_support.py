"""mailguard configurations that log in with OAuth2 tokens from a command, for the IMAP tests.

:func:`token_command` writes a small program (the ``command`` provider's kind of helper)
that mints a token the Dovecot fixture accepts and prints it with a lifetime; each run is
counted in a file next to it. :func:`oauth_config` guards support@ through any IMAP
endpoint (Dovecot itself, or the Exchange-like proxy) with ``auth: oauth2``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mailguard.config.model import Config
from mailguard.imap.connection import ConnectParams
from mailguard.oauth.tokens import TokenSource
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import mailguard_config

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


TIMEOUT = 5.0
"""The command timeout of :func:`oauth_params` connections."""


def oauth_params(dovecot: Dovecot, source: TokenSource, user: str = SUPPORT) -> ConnectParams:
    """IMAPS to ``dovecot`` as ``user`` with tokens from ``source``."""
    return ConnectParams(
        host=dovecot.host,
        port=dovecot.imaps_port,
        tls="implicit",
        user=user,
        ca_file=str(dovecot.cafile),
        auth="oauth2",
        timeout=TIMEOUT,
        token=source,
    )


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
    dovecot: Dovecot,
    data_dir: Path,
    *,
    command: list[str],
    port: int | None = None,
    tls: str = "plain",
    extra_imap: str = "",
    poll_interval: str = "0.5s",
) -> Config:
    """support@ with ``auth: oauth2`` and the command provider, on ``dovecot`` or ``port``."""
    argv = ", ".join(f'"{part}"' for part in command)
    credentials = f"""\
      auth: oauth2
      oauth2:
        provider: command
        command: [{argv}]
        refresh_before: 1s"""
    return mailguard_config(
        dovecot,
        data_dir,
        tls=tls,
        port=port,
        credentials=credentials,
        extra_imap=extra_imap,
        poll_interval=poll_interval,
    )
