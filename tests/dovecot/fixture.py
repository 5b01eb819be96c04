"""A throw-away real Dovecot 2.3 per test: IMAP, IMAPS, LMTP, Sieve vacation, ManageSieve.

`scripts/dovecot/start.sh` (shared with scripts/demo) renders `dovecot.conf.tmpl` into a fresh
base directory and starts a self-contained instance on 127.0.0.1 in ~0.1 s; `stop.sh --fast`
ends it in a few ms. Nothing from /etc/dovecot is read, so the instance cannot be confused with
a system one.

Ports are `port_base + 143` (IMAP, STARTTLS), `+ 993` (IMAPS, self-signed EC cert whose CA file is
`Dovecot.cafile`), `+ 24` (LMTP) and `+ 4190` (ManageSieve). Users (passwd-file, see
`PASSWORDS`): support@ has an active Sieve *vacation* script, a real RFC 3834 auto-responder whose
replies are captured in `base/outbox/` (or sent by SMTP to `submission_host`).

Tests that take the `dovecot` fixture must be marked `@pytest.mark.dovecot`; when no Dovecot is
installed the fixture skips with the reason, or fails the test where real servers are required
(CI; see tests/real_servers.py).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import grp
import os
import pwd
import random
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Protocol

import aioimaplib
import pytest

from tests.real_servers import exercised, require_marker, require_or_skip

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parents[1] / "scripts" / "dovecot"
START_SCRIPT = SCRIPTS / "start.sh"
STOP_SCRIPT = SCRIPTS / "stop.sh"
HOST = "127.0.0.1"

SUPPORT = "support@example.test"
AGENT = "agent@example.test"
CUSTOMER = "customer@example.test"
# These mirror the passwd-file that start.sh writes; test_dovecot_fixture logs in as each of them,
# so a drift between the two fails there rather than somewhere obscure.
PASSWORDS: Mapping[str, str] = {
    SUPPORT: "support-pw",
    AGENT: "agent-pw",
    CUSTOMER: "customer-pw",
}

# Ports in use are only noticed by Dovecot's bind(); start.sh then fails fast and we roll again.
_PORT_BASE_RANGE = range(20000, 61000, 10)
_START_ATTEMPTS = 20
_SCRIPT_TIMEOUT_S = 30.0
_CLOSE_TIMEOUT_S = 2.0
_LOG_PROBLEM = re.compile(r": (Error|Fatal|Panic|Warning):")


class DovecotStartError(RuntimeError):
    """start.sh failed for a reason other than a port that was already taken."""


def find_dovecot() -> str | None:
    """Path of the dovecot binary, or None; a non-root PATH often lacks /usr/sbin."""
    found = shutil.which("dovecot")
    if found is not None:
        return found
    fallback = Path("/usr/sbin/dovecot")
    return str(fallback) if os.access(fallback, os.X_OK) else None


def unusable_reason() -> str | None:
    """Why no instance can be started on this machine, or None when one can."""
    if find_dovecot() is None:
        return (
            "Dovecot is not installed (no dovecot on PATH nor /usr/sbin/dovecot); "
            "apt-get install dovecot-imapd dovecot-lmtpd dovecot-sieve dovecot-managesieved"
        )
    if os.geteuid() == 0:
        # Dovecot refuses to run its login processes as root, so start.sh drops privileges.
        user = _run_user()
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"running as root needs the unprivileged user {user!r} to run Dovecot as"
        if shutil.which("setpriv") is None:
            return "running as root needs setpriv (util-linux) to drop to the dovecot user"
    return None


def _run_user() -> str:
    return os.environ.get("DOVECOT_RUN_USER", "dovecot")


def _privilege_drop() -> list[str]:
    """Command prefix that runs a helper as the instance's user (empty unless we are root).

    Mail files written by root (e.g. by `doveadm save`) would be unreadable for the instance.
    """
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam(_run_user())
    group = grp.getgrgid(user.pw_gid).gr_name
    return ["setpriv", f"--reuid={user.pw_name}", f"--regid={group}", "--init-groups"]


def make_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str = "Hello,\n\nplease help.\n",
    message_id: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """A small RFC 5322 message; `headers` are added as given (e.g. Auto-Submitted)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="customer.example")
    for name, value in headers:
        msg[name] = value
    msg.set_content(body)
    return msg


@dataclass(frozen=True)
class CapturedReply:
    """One message Dovecot handed to its sendmail (a Sieve vacation reply)."""

    raw: bytes
    argv: tuple[str, ...]

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def envelope_sender(self) -> str:
        """The `-f` argument: `<>` for an auto-reply (RFC 3834 section 3.3)."""
        return self.argv[self.argv.index("-f") + 1]


@dataclass(frozen=True)
class Dovecot:
    """A running instance; `base` holds its config, log, TLS files, mail and outbox."""

    base: Path
    port_base: int
    pid: int
    host: str = HOST

    @property
    def imap_port(self) -> int:
        return self.port_base + 143

    @property
    def imaps_port(self) -> int:
        return self.port_base + 993

    @property
    def lmtp_port(self) -> int:
        return self.port_base + 24

    @property
    def managesieve_port(self) -> int:
        return self.port_base + 4190

    @property
    def cafile(self) -> Path:
        """The self-signed server certificate, which is its own CA."""
        return self.base / "ssl" / "cert.pem"

    @property
    def config(self) -> Path:
        return self.base / "dovecot.conf"

    @property
    def oauth_key(self) -> bytes:
        """The HS256 key the instance validates OAuth2 tokens with (started with `oauth2=`)."""
        path = self.base / "keys" / "default" / "HS256" / "default"
        return base64.b64decode(path.read_text())

    @property
    def log_file(self) -> Path:
        return self.base / "dovecot.log"

    def ssl_context(self) -> ssl.SSLContext:
        """Verifying client context that trusts exactly this instance's certificate."""
        return ssl.create_default_context(cafile=str(self.cafile))

    def deliver(self, message: EmailMessage | bytes, *, mail_from: str, rcpt: str) -> None:
        """Deliver over LMTP to one recipient, as an MTA would; Sieve runs during DATA.

        One recipient per transaction because LMTP answers DATA once per recipient and
        smtplib reads only one reply (RFC 2033 section 4.2).
        """
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            if isinstance(message, EmailMessage):
                lmtp.send_message(message, from_addr=mail_from, to_addrs=[rcpt])
            else:
                lmtp.sendmail(mail_from, [rcpt], message)

    async def deliver_async(
        self, message: EmailMessage | bytes, *, mail_from: str, rcpt: str
    ) -> None:
        """`deliver` off the event loop, so IMAP clients on the loop keep reading meanwhile."""
        await asyncio.to_thread(self.deliver, message, mail_from=mail_from, rcpt=rcpt)

    def seed(self, user: str, message: EmailMessage | bytes, folder: str = "INBOX") -> None:
        """Store a message directly with `doveadm save` (no LMTP, so no Sieve and no vacation)."""
        raw = message.as_bytes() if isinstance(message, EmailMessage) else message
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        cmd = [*_privilege_drop(), doveadm, "-c", str(self.config)]
        cmd += ["save", "-u", user, "-m", folder]
        done = subprocess.run(cmd, input=raw, capture_output=True, timeout=_SCRIPT_TIMEOUT_S)
        if done.returncode != 0:
            problem = done.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"doveadm save to {user}/{folder} failed: {problem}")

    def outbox(self) -> list[CapturedReply]:
        """Replies captured so far, oldest first (file names start with the epoch time)."""
        replies = []
        for eml in sorted((self.base / "outbox").glob("*.eml")):
            argv = eml.with_suffix(".args").read_text().splitlines()
            replies.append(CapturedReply(raw=eml.read_bytes(), argv=tuple(argv)))
        return replies

    def log_problems(self) -> list[str]:
        """Error/Fatal/Panic/Warning lines of dovecot.log.

        Dovecot still answers 250 to LMTP when the vacation sendmail fails: only the log says so.
        """
        lines = self.log_file.read_text(errors="replace").splitlines()
        return [line for line in lines if _LOG_PROBLEM.search(line)]

    @contextlib.asynccontextmanager
    async def imap(
        self,
        user: str,
        *,
        tls: bool = True,
        command_timeout: float = 5.0,
        conn_lost_cb: Callable[[Exception | None], None] | None = None,
    ) -> AsyncIterator[Any]:
        """A logged-in aioimaplib client (IMAPS with this instance's CA unless `tls=False`).

        `IMAP4(..., ssl_context=...)` rather than `IMAP4_SSL`: the latter drops `conn_lost_cb`.
        On exit the client logs out and the socket is closed before this returns.
        """
        lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_connection_lost(exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)
            if conn_lost_cb is not None:
                conn_lost_cb(exc)

        port = self.imaps_port if tls else self.imap_port
        client = aioimaplib.IMAP4(
            self.host,
            port,
            timeout=command_timeout,
            conn_lost_cb=on_connection_lost,
            ssl_context=self.ssl_context() if tls else None,
        )
        try:
            await client.wait_hello_from_server()
            response = await client.login(user, PASSWORDS[user])
            if response.result != "OK":
                raise RuntimeError(f"IMAP LOGIN as {user} failed: {response}")
            yield client
        finally:
            await _close_imap(client, lost)

    def stop(self) -> None:
        """Kill the master; its children exit on their own and the ports are free at once."""
        subprocess.run(
            ["bash", str(STOP_SCRIPT), str(self.base), "--fast"],
            check=True,
            timeout=_SCRIPT_TIMEOUT_S,
        )


async def _close_imap(client: Any, lost: asyncio.Future[None]) -> None:
    """Log out if still possible, close the socket and wait until it really is closed.

    aioimaplib never closes its transport, and closing a TLS transport only starts the
    close_notify exchange: the socket underneath is closed later, when connection_lost runs.
    A socket still open when the test's loop ends surfaces as a ResourceWarning in some later
    test, which filterwarnings=error turns into an error there.
    """
    if client.protocol.state in (aioimaplib.AUTH, aioimaplib.SELECTED):
        if client.has_pending_idle():
            client.idle_done()
        with contextlib.suppress(aioimaplib.AioImapException, asyncio.TimeoutError, OSError):
            await client.logout()
    transport = client.protocol.transport
    if transport is None:
        # Never connected (refused, or the TLS handshake failed before connection_made).
        return
    transport.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(lost, timeout=_CLOSE_TIMEOUT_S)
    if not lost.done():
        transport.abort()


def start_dovecot(
    base: Path,
    *,
    binary: str | None = None,
    submission_host: str | None = None,
    oauth2: str | None = None,
    sent: str | None = None,
    extra_conf: Path | None = None,
) -> Dovecot:
    """Start an instance in `base` on a random free port base.

    `base` must be traversable by the instance's user: as root that is the unprivileged
    dovecot user, so pytest's `tmp_path` (under a 0700 /tmp/pytest-of-root) cannot be used.
    With `submission_host` ("127.0.0.1:PORT") vacation replies go there by SMTP instead of
    to the outbox directory. With `oauth2` ("xoauth2 oauthbearer", or one of them) the
    instance also takes OAuth2 bearer tokens over those mechanisms: JWTs signed HS256 with
    `Dovecot.oauth_key`, issuer https://issuer.test, sub = the user (tests/oauth/tokens.py).
    `sent` names the folder marked \\Sent (default Sent), e.g. "Sent Items".
    With `extra_conf` (a file of Dovecot settings, e.g. a `sendmail_path`) that file is
    included in place of the vacation's sendmail or submission_host line.
    """
    env = dict(os.environ)
    dovecot_bin = binary or find_dovecot()
    if dovecot_bin is not None:
        env["DOVECOT_BIN"] = dovecot_bin
    if submission_host is not None:
        env["DOVECOT_SUBMISSION_HOST"] = submission_host
    else:
        env.pop("DOVECOT_SUBMISSION_HOST", None)
    for name, value in (("DOVECOT_OAUTH2", oauth2), ("DOVECOT_SENT", sent)):
        if value is not None:
            env[name] = value
        else:
            env.pop(name, None)
    if extra_conf is not None:
        env["DOVECOT_EXTRA_CONF"] = str(extra_conf)
    else:
        env.pop("DOVECOT_EXTRA_CONF", None)
    failures = []
    for _ in range(_START_ATTEMPTS):
        port_base = random.choice(_PORT_BASE_RANGE)
        done = subprocess.run(
            ["bash", str(START_SCRIPT), str(base), str(port_base)],
            capture_output=True,
            text=True,
            env=env,
            timeout=_SCRIPT_TIMEOUT_S,
        )
        if done.returncode == 0:
            return Dovecot(base=base, port_base=port_base, pid=int(done.stdout.strip()))
        if "Address already in use" not in done.stderr:
            raise DovecotStartError(f"start.sh {base} {port_base} failed:\n{done.stderr}")
        failures.append(port_base)
    raise DovecotStartError(f"no free port base after {_START_ATTEMPTS} tries: {failures}")


class DovecotFactory(Protocol):
    """Signature of the `dovecot_factory` fixture."""

    def __call__(
        self,
        *,
        submission_host: str | None = None,
        oauth2: str | None = None,
        sent: str | None = None,
        extra_conf: Path | None = None,
    ) -> Dovecot: ...


@pytest.fixture
def dovecot_factory(request: pytest.FixtureRequest) -> Iterator[DovecotFactory]:
    """Start instances with options (e.g. `submission_host`); all are stopped at teardown."""
    # The marker is what lets `-m "not dovecot"` deselect these tests on machines without it.
    require_marker(request.node, "dovecot")
    reason = unusable_reason()
    if reason is not None:
        require_or_skip("dovecot", reason)
    started: list[Dovecot] = []
    bases: list[Path] = []

    def start(
        *,
        submission_host: str | None = None,
        oauth2: str | None = None,
        sent: str | None = None,
        extra_conf: Path | None = None,
    ) -> Dovecot:
        # Not tmp_path: see start_dovecot. mkdtemp() makes a directory right under the temp dir.
        bases.append(Path(tempfile.mkdtemp(prefix="mailguard-dovecot-")))
        started.append(
            start_dovecot(
                bases[-1],
                submission_host=submission_host,
                oauth2=oauth2,
                sent=sent,
                extra_conf=extra_conf,
            )
        )
        exercised(request.node, "dovecot")
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            # Printed output is only shown for failing tests: that is when the log helps.
            print(f"--- tail of {server.log_file}")
            print("\n".join(server.log_file.read_text(errors="replace").splitlines()[-30:]))
            server.stop()
        for base in bases:
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_factory: DovecotFactory) -> Dovecot:
    """A fresh instance per test (~0.1 s to start, a few ms to stop)."""
    return dovecot_factory()
