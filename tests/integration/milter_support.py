"""The whole company for the milter tests: Postfix from the recipe, Dovecot, OpenDKIM, mailguard.

:func:`running_company` builds, in the order an administrator would:

1. the internet's side: an aiosmtpd sink as Postfix's ``relayhost`` (what "left the company");
2. the site's Postfix (:mod:`tests.integration.postfix_site`), MX and submission listeners;
3. Dovecot (the fixture) with the shipped ``config/postfix/dovecot-sieve.conf``: support@'s
   Sieve vacation sends through this Postfix's ``sendmail``;
4. the recipe: ``config/postfix/*.cf`` applied with ``postconf`` and ``postfix reload``;
5. OpenDKIM signing for ``example.test`` on the recipe's ``dkim_milter`` (its port);
6. ``mailguard run`` with the milter on the recipe's ``mailguard_milter`` (its port), the
   proxy off, ``relay:`` at the recipe's return listener, agents notified at agent@.

Tests use the pieces through :class:`Company`; DKIM signatures are checked with dkimpy
(:func:`dkim_verifies`) against this run's public key, since there is no DNS here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim

from tests.dovecot.fixture import AGENT, SUPPORT, Dovecot, DovecotFactory
from tests.integration.daemon_support import Daemon, daemon_config, merge
from tests.integration.mta_support import require
from tests.integration.postfix_site import RECIPE, Site, accepts, running_site
from tests.integration.smtp_support import Sink, running_sink

OPENDKIM = shutil.which("opendkim") or "/usr/sbin/opendkim"
OPENDKIM_GENKEY = shutil.which("opendkim-genkey") or "/usr/sbin/opendkim-genkey"
SELECTOR = "mg"
DOMAIN = "example.test"
MAILBOXES = (SUPPORT, AGENT, "customer@example.test")


@dataclass
class DkimKey:
    """A signing key and the TXT record a resolver would return for it."""

    private: Path
    record: bytes


def dkim_key(directory: Path) -> DkimKey:
    """A fresh 1024-bit key for ``SELECTOR._domainkey.example.test``."""
    require(OPENDKIM_GENKEY if Path(OPENDKIM_GENKEY).exists() else None, "opendkim-tools")
    subprocess.run(
        [OPENDKIM_GENKEY, "-D", str(directory), "-d", DOMAIN, "-s", SELECTOR, "-b", "1024"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = (directory / f"{SELECTOR}.txt").read_text()
    record = "".join(re.findall(r'"([^"]*)"', text)).encode()
    return DkimKey(directory / f"{SELECTOR}.private", record)


def dkim_verifies(raw: bytes, key: DkimKey) -> bool:
    """dkimpy's verification of the message's signature against ``key`` (no DNS)."""

    def dns(name: bytes, timeout: int = 5) -> bytes:
        wanted = f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
        return key.record if name.rstrip(b".") == wanted.rstrip(b".") else b""

    return bool(dkim.verify(raw, dnsfunc=dns))


OPENDKIM_CONF = """\
Syslog no
Background no
Mode sv
Domain {domain}
Selector {selector}
KeyFile {key}
Socket inet:{port}@127.0.0.1
InternalHosts 127.0.0.1
UserID opendkim
RequireSafeKeys false
Canonicalization relaxed/simple
PidFile {base}/opendkim.pid
"""


@contextlib.contextmanager
def running_opendkim(base: Path, port: int) -> Iterator[DkimKey]:
    """OpenDKIM signing example.test on 127.0.0.1:``port``, in the foreground, stopped by PID."""
    require(OPENDKIM if Path(OPENDKIM).exists() else None, "OpenDKIM (apt-get install opendkim)")
    base.mkdir()
    key = dkim_key(base)
    conf = base / "opendkim.conf"
    conf.write_text(
        OPENDKIM_CONF.format(
            domain=DOMAIN, selector=SELECTOR, key=key.private, port=port, base=base
        )
    )
    shutil.chown(key.private, user="opendkim")
    shutil.chown(base, user="opendkim")
    log = (base / "opendkim.log").open("w")
    proc = subprocess.Popen([OPENDKIM, "-x", str(conf), "-f"], stdout=log, stderr=log)
    try:
        _wait_port(port, proc)
        yield key
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"OpenDKIM exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"OpenDKIM did not listen on {port}")


@dataclass
class Company:
    """Everything running: the sink, Postfix, Dovecot, OpenDKIM's key and mailguard."""

    sink: Sink
    site: Site
    dovecot: Dovecot
    key: DkimKey
    daemon: Daemon | None
    config: Path
    log: Path
    tmp: Path
    postgres_url: str | None = None

    def start_mailguard(self) -> Daemon:
        """(Re)start ``mailguard run`` on the same configuration and database."""
        log = self.log.with_name(f"{self.log.name}.{_n()}")
        self.daemon = Daemon(self.config, log, postgres_url=self.postgres_url)
        return self.daemon

    async def sendmail(self, message: EmailMessage | bytes, *, sender: str, rcpt: str) -> None:
        """Submit through this Postfix's ``sendmail`` (pickup), as Dovecot's vacation does."""
        raw = message.as_bytes() if isinstance(message, EmailMessage) else message
        proc = await asyncio.create_subprocess_exec(
            str(self.site.sendmail), "-i", "-f", sender, "--", rcpt, stdin=subprocess.PIPE
        )
        await proc.communicate(raw)
        assert proc.returncode == 0

    async def ready(self) -> None:
        """Wait until the daemon is healthy and its milter listens."""
        assert self.daemon is not None
        await self.daemon.healthy()
        for _ in range(200):
            if await asyncio.to_thread(accepts, self.site.milter_port):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"milter not listening:\n{self.daemon.log.read_text()[-3000:]}")

    def events(self, name: str) -> list[dict[str, Any]]:
        """``mailguard run``'s log events of this name, from every run so far."""
        found = []
        for path in sorted(self.tmp.glob(f"{self.log.name}*")):
            for line in path.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if isinstance(event, dict) and event.get("event") == name:
                        found.append(event)
        return found

    async def submit(
        self, message: EmailMessage | bytes, *, sender: str, rcpts: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        """Send through the submission listener, as the helpdesk or an agent does."""
        return await asyncio.to_thread(_send, self.site.submission_port, message, sender, rcpts)

    async def from_internet(
        self, message: EmailMessage | bytes, *, sender: str, rcpts: list[str]
    ) -> dict[str, tuple[int, bytes]]:
        """Send to the MX listener, as a customer's server does."""
        return await asyncio.to_thread(_send, self.site.mx_port, message, sender, rcpts)

    async def sink_got(self, count: int, within: float = 30) -> None:
        """Wait until the sink holds ``count`` messages."""
        for _ in range(int(within * 10)):
            if len(self.sink.received) >= count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(
            f"the sink got {len(self.sink.received)} of {count} messages:\n{self.site.log[-3000:]}"
        )


_COUNTER = [0]


def _n() -> int:
    _COUNTER[0] += 1
    return _COUNTER[0]


def _send(
    port: int, message: EmailMessage | bytes, sender: str, rcpts: list[str]
) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        if isinstance(message, EmailMessage):
            return smtp.send_message(message, from_addr=sender, to_addrs=rcpts)
        return smtp.sendmail(sender, rcpts, message)


def dovecot_side(site: Site) -> Path:
    """The shipped Dovecot settings with this site's ``sendmail`` for /usr/sbin/sendmail."""
    shipped = (RECIPE / "dovecot-sieve.conf").read_text()
    assert "sendmail_path = /usr/sbin/sendmail" in shipped
    path = site.base / "dovecot-sieve.conf"
    path.write_text(shipped.replace("/usr/sbin/sendmail", str(site.sendmail)))
    return path


@contextlib.asynccontextmanager
async def running_company(
    tmp_path: Path,
    dovecot_factory: DovecotFactory,
    *,
    extra: Mapping[str, Any] | None = None,
    start: bool = True,
    postgres_url: str | None = None,
) -> AsyncIterator[Company]:
    """Everything of the module docstring, torn down in reverse order."""
    dkim_base = Path(tempfile.mkdtemp(prefix="mailguard-dkim-"))
    os.chmod(dkim_base, 0o755)  # noqa: S103 (OpenDKIM runs as its own user)
    async with running_sink() as sink:
        with running_site(sink_port=sink.port, mailboxes=MAILBOXES) as site:
            dovecot = dovecot_factory(extra_conf=dovecot_side(site))
            site.deliver_to(dovecot.lmtp_port)
            site.apply_recipe()
            try:
                with running_opendkim(dkim_base / "opendkim", site.dkim_port) as key:
                    settings: dict[str, Any] = {
                        "proxy": {"enabled": False},
                        "milter": {"listen": f"inet:127.0.0.1:{site.milter_port}"},
                        "notify": {"agents": AGENT, "sender": f"mailguard@{DOMAIN}"},
                        "maintenance_interval": "1s",
                    }
                    config = daemon_config(
                        tmp_path,
                        dovecot,
                        ("127.0.0.1", site.return_port),
                        extra=merge(settings, extra or {}),
                        postgres=postgres_url is not None,
                    )
                    log = tmp_path / "mailguard.log"
                    company = Company(
                        sink, site, dovecot, key, None, config, log, tmp_path, postgres_url
                    )
                    if start:
                        company.start_mailguard()
                        await company.ready()
                    try:
                        yield company
                    finally:
                        if company.daemon is not None:
                            company.daemon.stop()
            finally:
                shutil.rmtree(dkim_base, ignore_errors=True)


async def inbox(dovecot: Dovecot, user: str, folder: str = "INBOX") -> list[bytes]:
    """Every message in ``user``'s ``folder``, as a mail client downloads it."""
    async with dovecot.imap(user) as imap:
        response = await imap.select(folder)
        assert response.result == "OK", response
        fetched = await imap.fetch("1:*", "(BODY.PEEK[])")
        messages = [bytes(line) for line in fetched.lines if isinstance(line, bytearray)]
        return messages
