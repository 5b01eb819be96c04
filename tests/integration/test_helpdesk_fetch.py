"""A helpdesk that fetches INBOX (Debian's fetchmail, deleting what it fetched) beside mailguard.

With ``helpdesk.fetches_inbox: true`` mailguard copies escalated mail (escalate_mode copy by
default) and never takes a message out of INBOX, so the fetcher receives every customer
message, the escalated ones included; the agents' notification says where the thread is
in the helpdesk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot
from tests.integration.imap_support import (
    ANGRY,
    customer_mail,
    folder_messages,
    mailguard_config,
    mid,
    running_mailguard,
    wait_until,
)
from tests.real_servers import require_or_skip
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]

POLL = 3  # seconds between fetchmail's polls


class Fetchmail:
    """``fetchmail -d POLL`` on the support INBOX; every fetched message becomes a file."""

    def __init__(self, dovecot: Dovecot, base: Path) -> None:
        self.inbox = base / "fetched"
        self.inbox.mkdir(parents=True)
        self.log = base / "fetchmail.log"
        rc = base / "fetchmailrc"
        rc.write_text(
            "set no bouncemail\n"
            f"poll {dovecot.host} port {dovecot.imap_port} protocol IMAP\n"
            f'  user "{SUPPORT}" password "{PASSWORDS[SUPPORT]}" is "root" here\n'
            "  sslproto ''\n"
            "  folder INBOX\n"
            "  nokeep fetchall\n"
            f"  mda \"/bin/sh -c 'cat > {self.inbox}/$(date +%s%N).eml'\"\n"
        )
        rc.chmod(0o600)
        env = dict(os.environ, HOME=str(base))
        # Not --logfile: with --nodetach fetchmail logs to its standard error.
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                "fetchmail",
                "-f",
                str(rc),
                "--pidfile",
                str(base / "fetchmail.pid"),
                "--daemon",
                str(POLL),
                "--nodetach",
                "--verbose",
            ],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

    def polls(self) -> int:
        """Polls finished so far (fetchmail logs a line when it goes to sleep)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count("sleeping at")

    def fetched(self) -> set[str]:
        found = set()
        for eml in self.inbox.glob("*.eml"):
            message = message_from_bytes(eml.read_bytes())
            found.add(str(message["Message-ID"] or "").strip().strip("<>"))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()


@pytest.fixture
def fetcher(dovecot: Dovecot, tmp_path: Path) -> Iterator[Fetchmail]:
    if shutil.which("fetchmail") is None:
        require_or_skip("dovecot", "fetchmail is not installed (apt-get install fetchmail)")
    fetchmail = Fetchmail(dovecot, tmp_path / "fetchmail")
    try:
        yield fetchmail
    finally:
        fetchmail.stop()


async def _after_a_poll(fetcher: Fetchmail) -> None:
    """Wait until fetchmail has just finished a poll: the next one is POLL seconds away."""
    seen = fetcher.polls()

    async def polled() -> bool:
        return fetcher.polls() > seen

    await wait_until(polled, POLL * 5, "a fetchmail poll")


async def test_the_fetcher_gets_every_message_while_mailguard_escalates(
    dovecot: Dovecot, fetcher: Fetchmail, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    top = f"""
relay:
  host: {smtp_sink.host}
  port: {smtp_sink.port}
notify:
  agents: agents@example.test
  sender: mailguard@example.test
"""
    helpdesk = """
    helpdesk:
      fetches_inbox: true
      name: Zammad
      link: https://helpdesk.example.test/#search/{message_id}
"""
    config = mailguard_config(dovecot, tmp_path / "data", top=top, extra_imap=helpdesk)
    mailbox = config.mailboxes[0]
    assert mailbox.imap is not None and mailbox.imap.escalate_mode == "copy"
    calm = [
        customer_mail(f"calm{n}@customer.example", f"Question {n}", "Where is my parcel?\n")
        for n in range(2)
    ]
    angry = [
        customer_mail(f"angry{n}@customer.example", f"Charged twice {n}", ANGRY) for n in range(2)
    ]
    async with running_mailguard(config) as mg:
        for message in [calm[0], angry[0], calm[1], angry[1]]:
            # Right after a poll, so that mailguard reads the message before the next one;
            # the fetcher deletes it then, escalated or not.
            await _after_a_poll(fetcher)
            await dovecot.deliver_async(message, mail_from=str(message["From"]), rcpt=SUPPORT)
            await mg.processed(mid(message), within=POLL * 3)

        everything = {mid(m) for m in calm + angry}

        async def all_fetched() -> bool:
            return everything <= fetcher.fetched()

        await wait_until(all_fetched, POLL * 6, "every message fetched by the helpdesk")

        async def notified() -> bool:
            return len(smtp_sink.envelopes) >= len(angry)

        await wait_until(notified, 20, "the agents notified of both escalations")
        assert await mg.open_escalations() == len(angry)
    escalated = {m["message_id"] for m in await folder_messages(dovecot, "Escalated")}
    assert {mid(m) for m in angry} <= escalated  # copies for the agents in IMAP
    assert not await folder_messages(dovecot, "INBOX")  # the fetcher took everything
    bodies = [_text(e.content) for e in smtp_sink.envelopes]
    for message in angry:
        link = f"https://helpdesk.example.test/#search/{mid(message)}"
        assert any(f"Where: Zammad: {link}" in body for body in bodies), bodies
    assert all('a copy is in the folder "Escalated"' in body for body in bodies)


def _text(content: object) -> str:
    raw = content if isinstance(content, bytes) else str(content).encode()
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
