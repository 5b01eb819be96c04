"""Dovecot's own Sieve vacation reply through the real proxy, with the real IMAP watcher.

support@'s vacation reply is sent by Dovecot over SMTP to mailguard's proxy *during* the LMTP
delivery of the customer's message, before that message is in INBOX (DESIGN.md "Timing").
The proxy defers it; the watcher reads the message; the deferral worker decides the reply:
an angry first message's vacation reply is not relayed unchanged (held, rewritten or
diverted as ``proxy.escalated`` says), a calm one's reaches the upstream within seconds.
Upstream is the aiosmtpd ``smtp_sink``; the store is SQLite in tmp_path.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope
from structlog.testing import capture_logs

from mailguard.app.proxy import ProxyService
from tests.dovecot.fixture import SUPPORT, Dovecot, DovecotFactory
from tests.integration.imap_support import (
    ANGRY,
    Harness,
    customer_mail,
    folder_messages,
    mailguard_config,
    mid,
    running_mailguard,
    wait_until,
)
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp]

AGENTS = "agents@example.test"
# Generous for a loaded 2-core machine: the watcher's IDLE push (~0.5 s), the worker's poll
# (0.5 s) and the relay take about a second here.
WITHIN_S = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def guarded(
    dovecot_factory: DovecotFactory,
    sink: SmtpSink,
    tmp_path: Path,
    *,
    escalated: str = "hold",
    defer_unseen: str = "60s",
) -> AsyncIterator[tuple[Dovecot, Harness]]:
    """Dovecot sending support@'s vacation replies to the proxy; watcher, executor, proxy."""
    port = _free_port()
    dovecot = dovecot_factory(submission_host=f"127.0.0.1:{port}")
    config = mailguard_config(
        dovecot,
        tmp_path / "data",
        top=(
            f"relay: {{host: {sink.host}, port: {sink.port}}}\n"
            f"proxy: {{listen_port: {port}, escalated: {escalated}, "
            f"defer_unseen: {defer_unseen}}}\n"
            f"notify: {{agents: {AGENTS}}}\n"
        ),
    )
    async with running_mailguard(config) as harness:
        proxy = ProxyService(config, harness.engine, harness.store)
        await proxy.start()
        try:
            yield dovecot, harness
        finally:
            await proxy.close(5)


def _parsed(envelope: Envelope) -> EmailMessage:
    content = envelope.content
    raw = content if isinstance(content, bytes) else str(content).encode()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _vacations(sink: SmtpSink) -> list[tuple[Envelope, EmailMessage]]:
    found = [(e, _parsed(e)) for e in sink.envelopes]
    return [(e, m) for e, m in found if "Auto-Reply" in str(m["Subject"])]


async def _deliver(dovecot: Dovecot, msg: EmailMessage) -> float:
    """LMTP delivery (Sieve runs, the vacation goes to the proxy); returns its duration."""
    started = time.monotonic()
    await dovecot.deliver_async(msg, mail_from=str(msg["From"]), rcpt=SUPPORT)
    return time.monotonic() - started


async def test_a_calm_first_message_gets_the_vacation_reply_within_seconds(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    async with guarded(dovecot_factory, smtp_sink, tmp_path) as (dovecot, harness):
        calm = customer_mail("dora@customer.example", "Opening hours", "When are you open?\n")
        with capture_logs() as logs:
            delivery = await _deliver(dovecot, calm)
            started = time.monotonic()

            async def relayed() -> bool:
                return bool(_vacations(smtp_sink))

            await wait_until(relayed, WITHIN_S, "the vacation reply at the upstream")
            took = time.monotonic() - started
        [(envelope, reply)] = _vacations(smtp_sink)
        [row] = await harness.store.held_mail(every_state=True)
        assert dovecot.log_problems() == []
    print(f"\ncalm: delivery {delivery:.2f} s, vacation relayed {took:.2f} s after it")
    # The proxy answered at once: the delivery did not wait for the watcher.
    assert delivery < 5.0
    assert envelope.rcpt_tos == ["dora@customer.example"]
    assert str(reply["In-Reply-To"]).strip("<>") == mid(calm)
    assert "X-Mailguard-Handover" not in reply
    # It went the deferred way: stored, then relayed once the watcher had read the question.
    assert (row.state, row.awaits) == ("released", mid(calm))
    [ended] = [e for e in logs if e["event"] == "deferral_ended"]
    assert ended["awaits"] == mid(calm)


@pytest.mark.parametrize("escalated", ["hold", "rewrite", "divert"])
async def test_an_angry_first_message_does_not_get_the_vacation_reply_unchanged(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink, tmp_path: Path, escalated: str
) -> None:
    async with guarded(dovecot_factory, smtp_sink, tmp_path, escalated=escalated) as (
        dovecot,
        harness,
    ):
        angry = customer_mail("carl@customer.example", "THIRD time - cancel NOW", ANGRY)
        delivery = await _deliver(dovecot, angry)
        store = harness.store

        async def decided() -> bool:
            if escalated == "hold":
                rows = await store.held_mail(every_state=True)
                return bool(rows) and rows[0].state == "held"
            return bool(_vacations(smtp_sink))

        await wait_until(decided, WITHIN_S, f"the vacation reply to be {escalated}")
        [row] = await store.held_mail(every_state=True)
        assert row.awaits == mid(angry)
        if escalated == "hold":

            async def filed() -> bool:
                held = await folder_messages(dovecot, "Held")
                return any("Auto-Reply" in m["subject"] for m in held)

            # The executor files the held reply's copy where the agents look.
            await wait_until(filed, WITHIN_S, "the held copy in the Held folder")
        assert dovecot.log_problems() == []
    assert delivery < 5.0
    assert "frustration" in row.reason or escalated != "hold"
    vacations = _vacations(smtp_sink)
    to_carl = [m for e, m in vacations if "carl@customer.example" in e.rcpt_tos]
    unchanged = [m for m in to_carl if not m["X-Mailguard-Handover"]]
    assert unchanged == []
    if escalated == "hold":
        assert vacations == []
        assert row.state == "held"
    elif escalated == "rewrite":
        [(envelope, reply)] = vacations
        assert envelope.rcpt_tos == ["carl@customer.example"]
        assert reply["X-Mailguard-Handover"] == "yes"
        body = reply.get_body(("plain",))
        assert body is not None
        assert "passed to a member of our team" in str(body.get_content())
    else:
        [(envelope, reply)] = vacations
        assert envelope.rcpt_tos == [AGENTS]


async def test_with_deferral_off_the_vacation_reply_is_relayed_unchanged_as_before(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """``defer_unseen: 0`` keeps the old behaviour, which is the reason for the deferral:
    decided before the watcher could read the angry message, the reply goes out."""
    async with guarded(dovecot_factory, smtp_sink, tmp_path, defer_unseen="0s") as (
        dovecot,
        harness,
    ):
        angry = customer_mail("erin@customer.example", "THIRD time - cancel NOW", ANGRY)
        await _deliver(dovecot, angry)
        # Relayed inside the delivery: it is at the upstream when the delivery returns.
        [(envelope, reply)] = _vacations(smtp_sink)
        await harness.processed(mid(angry))
        assert await harness.open_escalations() == 1
        assert await harness.store.held_mail(every_state=True) == []
    assert envelope.rcpt_tos == ["erin@customer.example"]
    assert reply["X-Mailguard-Handover"] is None
