"""Sent found by its special-use attribute (RFC 6154), and one reply seen twice counted once."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailguard.store.overview import Overview
from tests.dovecot.fixture import SUPPORT, Dovecot, DovecotFactory
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.imap_support import (
    OWN_DOMAIN,
    customer_mail,
    mailguard_config,
    mid,
    running_mailguard,
)
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.dovecot

CARL = "carl@customer.example"


async def _question_and_reply(dovecot: Dovecot) -> tuple[EmailMessage, EmailMessage]:
    """A customer's question, delivered, and an agent's reply to it (not sent anywhere yet)."""
    question = customer_mail(CARL, "Parcel", "Hello,\n\nwhere is my parcel?\n")
    await dovecot.deliver_async(question, mail_from=CARL, rcpt=SUPPORT)
    reply = customer_mail(
        SUPPORT,
        "Re: Parcel",
        "Dear Carl,\n\nit is on its way.\n\nAnna\n",
        to=CARL,
        in_reply_to=mid(question),
        domain=OWN_DOMAIN,
    )
    return question, reply


@pytest.mark.parametrize("sent", ["Sent Items", "[Gmail]/Sent Mail"])
async def test_sent_under_another_name_is_found_without_configuration(
    dovecot_factory: DovecotFactory, tmp_path: Path, sent: str
) -> None:
    dovecot = dovecot_factory(sent=sent)
    config = mailguard_config(dovecot, tmp_path / "data")
    assert "sent" not in config.mailboxes[0].folders.model_fields_set
    async with running_mailguard(config) as mg:
        question, reply = await _question_and_reply(dovecot)
        await mg.processed(mid(question))
        dovecot.seed(SUPPORT, reply, sent)
        await mg.processed(mid(reply))
        view = await Overview(mg.store.engine).status()
    assert any(cp.folder == sent for cp in view.checkpoints), view.checkpoints
    assert ("support", "sent", f"{sent} (marked \\Sent)") in view.server_limits


@pytest.mark.smtp
@pytest.mark.slow
async def test_a_reply_through_the_proxy_and_in_sent_is_one_reply(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """Gmail files what its SMTP relayed in [Gmail]/Sent Mail itself: the same message twice."""
    dovecot = dovecot_factory(sent="[Gmail]/Sent Mail")
    config = daemon_config(tmp_path, dovecot, (smtp_sink.host, smtp_sink.port))
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        await daemon.healthy()
        _question, reply = await _question_and_reply(dovecot)

        def send() -> None:
            with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=10) as smtp:
                smtp.send_message(reply, from_addr=SUPPORT, to_addrs=[CARL])

        await asyncio.to_thread(send)
        dovecot.seed(SUPPORT, reply, "[Gmail]/Sent Mail")

        def events(event: str, decision: str) -> list[dict[str, object]]:
            return [
                e
                for e in daemon.log_events()
                if e.get("event") == event
                and e.get("message_id") == mid(reply)
                and e.get("decision") == decision
            ]

        async def seen_in_sent() -> bool:
            return bool(events("message_processed", "duplicate"))

        await wait_for("the copy in [Gmail]/Sent Mail read", seen_in_sent)
        # Decided once, when the proxy relayed it; its copy in Sent is the same message.
        assert len(events("smtp_message_handled", "processed")) == 1
        assert not events("message_processed", "processed")
        threads = await daemon.acli("threads", "--customer", CARL)
        assert threads.returncode == 0, threads.stderr
        outbound = [line for line in threads.stdout.splitlines() if " -> " in line]
        assert len(outbound) == 1, threads.stdout
        assert len(smtp_sink.envelopes) == 1
    finally:
        daemon.kill()
