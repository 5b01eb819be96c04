"""The demo's stage: a throw-away Dovecot, an upstream SMTP sink and `mailguard run`.

Used by scripts/demo.py. Dovecot comes from scripts/dovecot/start.sh (the same scripts the tests
use); the sink stands in for the company's relay and records what mailguard relayed; the daemon
runs as a subprocess on a generated configuration. Every wait polls a real condition.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import os
import random
import re
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[1]
DOVECOT_SCRIPTS = ROOT / "scripts" / "dovecot"
HOST = "127.0.0.1"
DOMAIN = "example.test"
MAILBOXES = ("support", "shop", "vouchers")
# The throw-away Dovecot's users; mailguard gets it through the environment, as in production.
PASSWORD = "demo-pw"  # noqa: S105
ANNA, BEN, CARL = "anna@customer.example", "ben@customer.example", "carl@customer.example"
AGENT = f"agent@{DOMAIN}"
TIMEOUT_S = 20.0
T = TypeVar("T")


class DemoFailed(RuntimeError):
    """The story did not play as expected; the message says which step."""


class Sink:
    """The company's upstream relay: an aiosmtpd server that records what mailguard relayed."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def subjects(self) -> list[str]:
        found = []
        for env in self.envelopes:
            raw = env.content if isinstance(env.content, bytes) else str(env.content).encode()
            # The header only (a notification's body quotes the customer's subjects too),
            # unfolded and decoded as a mail client shows it.
            headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
            found.append(str(headers["Subject"] or "(no subject)").strip())
        return found


def say(text: str = "") -> None:
    print(text, flush=True)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = TIMEOUT_S) -> T:
    """Poll ``probe`` until it returns something truthy; DemoFailed naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def mail(
    sender: str,
    to: str,
    subject: str,
    body: str,
    *,
    reply_to: EmailMessage | None = None,
    auto: bool = False,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain=sender.split("@", 1)[1])
    msg["Date"] = formatdate(usegmt=True)
    if reply_to is not None:
        msg["In-Reply-To"] = msg["References"] = str(reply_to["Message-ID"])
    if auto:
        msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(body)
    return msg


class Stage:
    """The throw-away servers and the daemon, with the ways the story talks to them."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.base = work / "dovecot"
        self.port_base = 0
        self.sink = Sink()
        self.controller = Controller(self.sink, hostname=HOST, port=free_port())
        self.proxy_port = free_port()
        self.http_port = free_port()
        self.config = work / "mailguard.yaml"
        self.daemon: subprocess.Popen[bytes] | None = None
        self.daemon_log = work / "mailguard.log"

    # -- setting up ----------------------------------------------------------------------
    def start_dovecot(self) -> None:
        self.base.mkdir()
        users = [*MAILBOXES, "agent"]
        (self.base / "users").write_text(
            "".join(f"{u}@{DOMAIN}:{{PLAIN}}{PASSWORD}::::::\n" for u in users)
        )
        env = dict(os.environ, DOVECOT_SUBMISSION_HOST=f"{HOST}:{self.proxy_port}")
        for _ in range(20):
            port_base = random.randrange(20000, 61000, 10)  # noqa: S311 (a port, not a secret)
            done = subprocess.run(
                ["bash", str(DOVECOT_SCRIPTS / "start.sh"), str(self.base), str(port_base)],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
            if done.returncode == 0:
                self.port_base = port_base
                return
            if "Address already in use" not in done.stderr:
                raise DemoFailed(f"Dovecot did not start:\n{done.stderr}")
        raise DemoFailed("no free ports for Dovecot after 20 tries")

    def write_config(self) -> None:
        boxes = "".join(
            f"""  - name: {box}
    addresses: [{box}@{DOMAIN}]
    imap:
      host: {HOST}
      port: {self.port_base + 993}
      ca_file: {self.base / "ssl" / "cert.pem"}
      user: {box}@{DOMAIN}
      password: ${{MAILGUARD_DEMO_PASSWORD}}
      poll_interval: 0.5s
      backfill: 0s
"""
            for box in MAILBOXES
        )
        self.config.write_text(
            f"""data_dir: {self.work / "data"}
logging: {{format: json, level: info}}
http: {{listen_port: {self.http_port}}}
company:
  domains: [{DOMAIN}]
  helpdesk_senders: ["noreply@{DOMAIN}"]
  agents: [{AGENT}]
relay: {{host: {HOST}, port: {self.controller.port}}}
proxy: {{listen_port: {self.proxy_port}}}
notify: {{agents: {AGENT}, sender: mailguard@{DOMAIN}}}
mailboxes:
{boxes}"""
        )

    def start_daemon(self) -> None:
        env = dict(os.environ, MAILGUARD_DEMO_PASSWORD=PASSWORD)
        with self.daemon_log.open("wb") as log:
            self.daemon = subprocess.Popen(
                [sys.executable, "-m", "mailguard", "run", "-c", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.work,
            )
        wait_for("mailguard run to report every mailbox connected (/status)", self.healthy, 30)

    def healthy(self) -> bool:
        """The daemon's /status shows every mailbox watched with its connections up."""
        if self.daemon is not None and self.daemon.poll() is not None:
            raise DemoFailed(f"mailguard run exited:\n{self.daemon_log.read_text()[-3000:]}")
        url = f"http://{HOST}:{self.http_port}/status"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                status = json.loads(response.read())
        except (OSError, ValueError):
            return False
        mailboxes = status.get("mailboxes", {})
        return all(mailboxes.get(box, {}).get("status") == "ok" for box in MAILBOXES)

    def stop(self) -> None:
        """Stop the daemon, Dovecot and the sink; each even if another fails."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        if self.port_base:
            subprocess.run(
                ["bash", str(DOVECOT_SCRIPTS / "stop.sh"), str(self.base), "--fast"],
                timeout=30,
                check=False,
            )
        with contextlib.suppress(RuntimeError, AssertionError):
            self.controller.stop()

    # -- talking to it ---------------------------------------------------------------------
    def deliver(self, msg: EmailMessage) -> None:
        """What the company's MTA does with incoming mail: LMTP into Dovecot (Sieve runs)."""
        with smtplib.LMTP(HOST, self.port_base + 24, timeout=10) as lmtp:
            lmtp.send_message(msg, to_addrs=[str(msg["To"])])

    def deliver_seen(self, msg: EmailMessage) -> None:
        """Deliver, then wait until the daemon's watcher logged it as processed.

        A helpdesk answers mail it has received; waiting keeps the story in that order.
        """
        self.deliver(msg)
        wanted = str(msg["Message-ID"]).strip("<>")
        wait_for(
            f"mailguard to read '{msg['Subject']}' in {msg['To']}", lambda: self.processed(wanted)
        )

    def log_event(self, event: str, field: str, value: str) -> dict[str, object] | None:
        """The first ``event`` in the daemon's JSON log whose ``field`` is ``value``."""
        for line in self.daemon_log.read_text(errors="replace").splitlines():
            if f'"{event}"' not in line:
                continue
            with contextlib.suppress(ValueError):
                found: dict[str, object] = json.loads(line)
                if found.get("event") == event and found.get(field) == value:
                    return found
        return None

    def processed(self, message_id: str) -> bool:
        """The daemon's JSON log has a ``message_processed`` event for ``message_id``."""
        for line in self.daemon_log.read_text(errors="replace").splitlines():
            if '"message_processed"' not in line:
                continue
            with contextlib.suppress(ValueError):
                if json.loads(line).get("message_id") == message_id:
                    return True
        return False

    def send(self, msg: EmailMessage) -> None:
        """What the helpdesk does with outgoing mail: SMTP to mailguard's proxy."""
        with smtplib.SMTP(HOST, self.proxy_port, timeout=30) as smtp:
            smtp.send_message(msg)

    @contextlib.contextmanager
    def imap(self, box: str) -> Iterator[imaplib.IMAP4_SSL]:
        context = ssl.create_default_context(cafile=str(self.base / "ssl" / "cert.pem"))
        client = imaplib.IMAP4_SSL(HOST, self.port_base + 993, ssl_context=context, timeout=10)
        try:
            client.login(f"{box}@{DOMAIN}", PASSWORD)
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def folder(self, box: str, name: str) -> list[tuple[str, str]]:
        """(subject, flags) of every message in ``box``'s folder ``name``, read-only."""
        with self.imap(box) as client:
            typ, count = client.select(f'"{name}"', readonly=True)
            if typ != "OK" or count[0] in (None, b"0"):  # no such folder yet, or empty
                return []
            typ, data = client.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            if typ != "OK":
                return []
            found = []
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0])
                subject = item[1].decode(errors="replace").partition(":")[2].strip()
                found.append((subject, flags.group(1).decode() if flags else ""))
            return found

    def notify_actions(self) -> list[tuple[str, str, str]]:
        """(state, target, payload as JSON) of every ``notify`` action in the outbox (SQLite)."""
        db = self.work / "data" / "mailguard.sqlite3"
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            rows = conn.execute(
                "SELECT state, target, payload FROM outbox_actions WHERE kind = 'notify' "
                "ORDER BY id"
            ).fetchall()
        return [(str(state), str(target), str(payload)) for state, target, payload in rows]

    def note_text(self, box: str, subject: str) -> str:
        """The text of the first note in ``box``'s Escalated folder about ``subject``."""
        with self.imap(box) as client:
            client.select('"Escalated"', readonly=True)
            typ, found = client.search(None, "SUBJECT", f'"[mailguard] Escalated: {subject}"')
            if typ != "OK" or not found[0]:
                return ""
            typ, data = client.fetch(found[0].split()[0].decode(), "(BODY.PEEK[])")
        first = data[0]
        if not isinstance(first, tuple):
            return ""
        part = message_from_bytes(first[1], policy=policy.default)
        body = part.get_body(preferencelist=("plain",)) if isinstance(part, EmailMessage) else None
        return str(body.get_content()) if isinstance(body, EmailMessage) else ""

    def mailguard(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "mailguard", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=self.work,
            env=dict(os.environ, MAILGUARD_DEMO_PASSWORD=PASSWORD),
        )
        if check and done.returncode != 0:
            raise DemoFailed(f"mailguard {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout
