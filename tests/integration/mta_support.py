"""Real MTAs for the proxy tests: a throw-away Postfix as the upstream relay, and swaks.

Tests using them carry ``@pytest.mark.smtp``. When a binary is missing (or Postfix cannot
run because this is not root) :func:`require` hands the decision to
:func:`tests.real_servers.require_or_skip`: a loud skip on a developer's machine, a failure in
CI. Tests that reached Postfix are counted through :func:`tests.real_servers.exercised`.
``scripts/test`` installs both (Debian packages ``postfix``, ``swaks``) when run as root.

Postfix runs from its own configuration directory (``postfix -c DIR start``), listening on
a loopback port, relaying everything to ``relayhost`` (the test's aiosmtpd sink): the system
instance and ``/etc/postfix/main.cf`` are never touched. Its files live in a
``tempfile.mkdtemp()`` directory because pytest's ``tmp_path`` is not reachable for the
unprivileged ``postfix`` user.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.real_servers import require_or_skip

POSTFIX = shutil.which("postfix") or (
    "/usr/sbin/postfix" if Path("/usr/sbin/postfix").exists() else None
)
SWAKS = shutil.which("swaks")


def require(binary: str | None, name: str, *, root: bool = False) -> str:
    """The binary's path, or skip (or, in CI, fail) the test saying what to install."""
    if binary is None:
        require_or_skip(
            "smtp",
            f"{name} is not installed (apt-get install postfix swaks, or run scripts/test as root)",
        )
    if root and os.geteuid() != 0:
        require_or_skip("smtp", f"{name} needs root to run its own instance")
    return binary


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Postfix's own services (master.cf), shared with tests/integration/postfix_site.py.
STOCK_SERVICES = """\
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
lmtp      unix  - - n - - lmtp
"""
MASTER_CF = "127.0.0.1:{port} inet n - n - - smtpd\npickup    unix  n - n 60 1 pickup\n" + (
    STOCK_SERVICES
)

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {base}/conf
queue_directory = {base}/queue
data_directory = {base}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = postfix.test
mydestination =
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{relay_port}
maillog_file = {base}/maillog
maillog_file_prefixes = {base}
smtpd_recipient_restrictions =
    check_recipient_access inline:{{ {{ reject@customer.example = REJECT no such user }} }},
    permit_mynetworks, reject
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtp_tls_security_level = none
alias_maps =
alias_database =
local_transport = error:no local delivery
"""


@dataclass
class Postfix:
    """A running Postfix instance: where it listens and its log."""

    base: Path
    port: int

    @property
    def log(self) -> str:
        path = self.base / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""


def postfix_command(base: Path, action: str) -> subprocess.CompletedProcess[str]:
    """``postfix -c BASE/conf ACTION`` (start, stop, reload, abort), its result."""
    postfix = require(POSTFIX, "Postfix", root=True)
    return subprocess.run(
        [postfix, "-c", str(base / "conf"), action],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def running_postfix(relay_port: int, cert: Path, key: Path) -> Iterator[Postfix]:
    """Postfix on 127.0.0.1:<free port> relaying everything to ``relay_port``."""
    require(POSTFIX, "Postfix", root=True)
    base = Path(tempfile.mkdtemp(prefix="mailguard-postfix-"))
    base.chmod(0o755)
    try:
        for sub in ("conf", "queue", "data", "tls"):
            (base / sub).mkdir()
        shutil.copy(cert, base / "tls" / "cert.pem")
        shutil.copy(key, base / "tls" / "key.pem")
        shutil.chown(base / "data", user="postfix")
        for attempt in range(3):
            port = free_port()
            (base / "conf" / "master.cf").write_text(MASTER_CF.format(port=port))
            (base / "conf" / "main.cf").write_text(
                MAIN_CF.format(
                    base=base,
                    relay_port=relay_port,
                    cert=base / "tls" / "cert.pem",
                    key=base / "tls" / "key.pem",
                )
            )
            started = postfix_command(base, "start")
            if started.returncode == 0 and _listening(port):
                break
            postfix_command(base, "stop")
            if attempt == 2:
                raise RuntimeError(
                    f"Postfix did not start: {started.stderr}\n{Postfix(base, port).log}"
                )
        instance = Postfix(base, port)
        try:
            yield instance
        finally:
            stopped = postfix_command(base, "stop")
            if stopped.returncode != 0:
                postfix_command(base, "abort")
            print(f"--- Postfix log ---\n{instance.log[-4000:]}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _listening(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


async def swaks(*args: str) -> tuple[int, str]:
    """Run swaks without blocking the event loop (the proxy under test runs on it)."""
    binary = require(SWAKS, "swaks")
    proc = await asyncio.create_subprocess_exec(
        binary,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return int(proc.returncode or 0), out.decode(errors="replace")
