"""Deferred replies in `mailguard run` processes: across a SIGKILL and restart, and with two
replicas on one PostgreSQL deciding and relaying each reply once.

A robot's reply is sent through the proxy before the customer's message is delivered, so the
watcher cannot have recorded it: the proxy defers the reply. The customer's message then
arrives by LMTP into the Dovecot fixture and the watcher reads it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest

from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.imap_support import ANGRY, customer_mail, mid
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]


def _robot_reply(question: EmailMessage, n: int = 0) -> EmailMessage:
    """The ticket robot's acknowledgement of ``question``, as the helpdesk submits it."""
    return customer_mail(
        SUPPORT,
        f"[Ticket #{n}] {question['Subject']}",
        "Thank you for your message. This is an automated reply.\n",
        to=str(question["From"]),
        in_reply_to=mid(question),
        headers=[("Auto-Submitted", "auto-replied")],
        domain="example.test",
    )


def _config(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink) -> Path:
    """One configuration for every process; the database and ports come from the environment."""
    return daemon_config(
        tmp_path, dovecot, (sink.host, sink.port), imap={"takeover": "2s"}, postgres=True
    )


def _cli(config: Path, url: str, *args: str) -> str:
    env = dict(
        os.environ,
        MAILGUARD_IMAP_PASSWORD=PASSWORDS[SUPPORT],
        MAILGUARD_DB_URL=url,
        MG_HTTP_PORT="1",
        MG_SMTP_PORT="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mailguard", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _events(*logs: Path, name: str) -> list[dict[str, object]]:
    found = []
    for log in logs:
        for line in log.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == name:
                found.append(event)
    return found


async def test_a_deferred_reply_pending_at_sigkill_is_decided_after_the_restart(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'mailguard.db'}"
    config = _config(tmp_path, dovecot, smtp_sink)
    first = Daemon(config, tmp_path / "first.log", postgres_url=url)
    second = None
    try:
        await first.healthy()
        angry = customer_mail("carl@customer.example", "THIRD time writing - cancel NOW", ANGRY)
        reply = _robot_reply(angry)
        await aiosmtplib.send(reply, hostname="127.0.0.1", port=first.smtp_port, timeout=10)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        # Between the two runs: the reply waits in the database, the question arrives.
        listed = _cli(config, url, "held", "list")
        assert "deferred" in listed and f"<{mid(reply)}>" in listed, listed
        assert "deferred replies: 1" in _cli(config, url, "status")
        await dovecot.deliver_async(angry, mail_from=str(angry["From"]), rcpt=SUPPORT)

        second = Daemon(config, tmp_path / "second.log", postgres_url=url)
        await second.healthy()

        async def held() -> bool:
            return " held " in _cli(config, url, "held", "list")

        await wait_for("the leftover reply to be decided", held)
        assert second.stop() == 0, second.log.read_text()
    finally:
        for replica in (first, second):
            if replica is not None and replica.proc.poll() is None:
                replica.proc.kill()
                replica.proc.wait()
    listed = _cli(config, url, "held", "list")
    assert "customer escalated (frustration)" in listed, listed
    assert "deferred replies: 0" in _cli(config, url, "status")
    assert smtp_sink.envelopes == []
    [ended] = _events(second.log, name="deferral_ended")
    assert ended["message_id"] == mid(reply) and ended["awaits"] == mid(angry)


@pytest.mark.postgres
async def test_two_replicas_decide_and_relay_each_deferred_reply_once(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path, postgres_url: str
) -> None:
    config = _config(tmp_path, dovecot, smtp_sink)
    replicas = [
        Daemon(config, tmp_path / f"replica{i}.log", postgres_url=postgres_url) for i in (0, 1)
    ]
    try:
        for replica in replicas:
            await replica.healthy()
        questions = [
            customer_mail(f"c{i}@customer.example", f"Question {i}", "Where is my parcel?\n")
            for i in range(6)
        ]
        replies = [_robot_reply(q, i) for i, q in enumerate(questions)]
        # Each replica's proxy defers half of the replies; the watcher is in one of them.
        for i, reply in enumerate(replies):
            port = replicas[i % 2].smtp_port
            await aiosmtplib.send(reply, hostname="127.0.0.1", port=port, timeout=10)
        assert smtp_sink.envelopes == []
        for question in questions:
            await dovecot.deliver_async(question, mail_from=str(question["From"]), rcpt=SUPPORT)

        async def all_relayed() -> bool:
            return len(smtp_sink.envelopes) >= len(replies)

        await wait_for("every deferred reply at the upstream", all_relayed)
        # A second relay of any of them would come within the workers' next rounds.
        for replica in replicas:
            assert replica.stop() == 0, replica.log.read_text()
    finally:
        for replica in replicas:
            if replica.proc.poll() is None:
                replica.proc.kill()
                replica.proc.wait()
    relayed = sorted(
        str(line.split(b":", 1)[1].strip().strip(b"<>").decode())
        for envelope in smtp_sink.envelopes
        for line in bytes(envelope.content).split(b"\r\n")
        if line.lower().startswith(b"message-id:")
    )
    assert relayed == sorted(mid(r) for r in replies)
    logs = [r.log for r in replicas]
    decided = sorted(str(e["message_id"]) for e in _events(*logs, name="deferral_ended"))
    assert decided == sorted(mid(r) for r in replies)
    assert len(_events(*logs, name="deferred_relayed")) == len(replies)
