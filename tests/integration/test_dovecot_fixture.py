"""The real-Dovecot fixture, exercised the way mailguard's IMAP side will use it (aioimaplib).

These tests pin down the server behaviour the watcher relies on: IMAPS with the fixture's CA,
LMTP delivery visible to UID SEARCH/FETCH, UID MOVE, IDLE pushes and the Sieve vacation
auto-responder of support@ (RFC 3834).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import random
import re
import shutil
import socket
import ssl
import tempfile
from pathlib import Path

import aioimaplib
import pytest

from tests.dovecot.fixture import (
    AGENT,
    CUSTOMER,
    HOST,
    PASSWORDS,
    SUPPORT,
    Dovecot,
    DovecotFactory,
    make_message,
    start_dovecot,
    unusable_reason,
)
from tests.real_servers import exercised, require_or_skip
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.timeout(15)]

CARL = "Carl Customer <carl@customer.example>"
CARL_ADDR = "carl@customer.example"
# Dovecot batches change notifications (~0.5 s); anything under 2 s would be flaky.
IDLE_PUSH_TIMEOUT_S = 3.0


def _uids(search_response: aioimaplib.Response) -> list[int]:
    """UIDs of a UID SEARCH: aioimaplib gives the untagged data without `* SEARCH`."""
    assert search_response.result == "OK", search_response
    data, _completion = search_response.lines
    return [int(uid) for uid in data.split() if uid.isdigit()]


def _exists(select_response: aioimaplib.Response) -> int:
    for line in select_response.lines:
        match = re.fullmatch(rb"(\d+) EXISTS", line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no EXISTS in {select_response.lines!r}")


async def test_every_user_logs_in_over_imaps_with_the_fixture_ca(dovecot: Dovecot) -> None:
    for user in PASSWORDS:
        async with dovecot.imap(user) as imap:
            selected = await imap.select("INBOX")
            assert selected.result == "OK"
            assert _exists(selected) == 0
            assert {"IDLE", "MOVE", "UIDPLUS"} <= imap.protocol.capabilities


async def test_imaps_is_refused_without_the_fixture_ca(dovecot: Dovecot) -> None:
    # Proves the CA file is what makes the TLS tests pass, not a disabled verification.
    system_cas_only = ssl.create_default_context()
    client = aioimaplib.IMAP4(
        dovecot.host, dovecot.imaps_port, timeout=5, ssl_context=system_cas_only
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        await client.wait_hello_from_server()


async def test_lmtp_delivery_is_found_by_uid_search_and_fetch(dovecot: Dovecot) -> None:
    message = make_message(
        sender=CARL,
        to=SUPPORT,
        subject="Voucher not accepted",
        message_id="<voucher-1@customer.example>",
    )
    await dovecot.deliver_async(message, mail_from=CARL_ADDR, rcpt=SUPPORT)

    async with dovecot.imap(SUPPORT) as imap:
        await imap.select("INBOX")
        found = await imap.uid_search("HEADER", "Message-ID", "<voucher-1@customer.example>")
        assert found.result == "OK"
        [uid] = _uids(found)
        fetched = await imap.uid("fetch", str(uid), "(UID FLAGS BODY.PEEK[HEADER])")
        assert fetched.result == "OK"
        header = next(line for line in fetched.lines if isinstance(line, bytearray))
        assert b"Subject: Voucher not accepted" in header
        assert f"UID {uid}".encode() in fetched.lines[0]
    assert dovecot.log_problems() == []


async def test_uid_move_puts_the_message_in_another_folder(dovecot: Dovecot) -> None:
    dovecot.seed(AGENT, make_message(sender=CARL, to=AGENT, subject="one"))
    dovecot.seed(AGENT, make_message(sender=CARL, to=AGENT, subject="two"))

    async with dovecot.imap(AGENT) as imap:
        assert (await imap.create("Escalated")).result == "OK"
        await imap.select("INBOX")
        uid = _uids(await imap.uid_search("SUBJECT", "two"))[0]
        # `move()` would take a sequence number; the watcher only ever deals in UIDs.
        moved = await imap.uid("move", str(uid), "Escalated")
        assert moved.result == "OK"
        assert any(b"COPYUID" in line for line in moved.lines)

        inbox = await imap.select("INBOX")
        assert _exists(inbox) == 1
        escalated = await imap.select("Escalated")
        assert _exists(escalated) == 1
        fetched = await imap.uid("fetch", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert any(b"Subject: two" in bytes(line) for line in fetched.lines)


async def test_idle_is_told_about_a_new_delivery(dovecot: Dovecot) -> None:
    async with dovecot.imap(AGENT) as imap:
        await imap.select("INBOX")
        idle = await imap.idle_start(timeout=10)
        message = make_message(sender=CARL, to=AGENT, subject="are you there?")
        await dovecot.deliver_async(message, mail_from=CARL_ADDR, rcpt=AGENT)

        pushed: list[bytes] = []
        while not any(line.endswith(b"EXISTS") for line in pushed):
            pushed += await imap.wait_server_push(timeout=IDLE_PUSH_TIMEOUT_S)
        assert b"1 EXISTS" in pushed

        imap.idle_done()
        done = await asyncio.wait_for(idle, timeout=IDLE_PUSH_TIMEOUT_S)
        assert done.result == "OK"


async def test_support_vacation_auto_reply_lands_in_the_outbox(dovecot: Dovecot) -> None:
    message = make_message(
        sender=CARL,
        to=SUPPORT,
        subject="Printer on fire",
        message_id="<fire-1@customer.example>",
    )
    await dovecot.deliver_async(message, mail_from=CARL_ADDR, rcpt=SUPPORT)

    # The capture script runs synchronously inside the LMTP DATA phase.
    [reply] = dovecot.outbox()
    assert reply.message["Auto-Submitted"].startswith("auto-replied")
    assert reply.message["In-Reply-To"] == "<fire-1@customer.example>"
    assert CARL_ADDR in reply.message["To"]
    assert reply.message["From"].addresses[0].addr_spec == SUPPORT
    assert reply.envelope_sender == "<>"
    assert dovecot.log_problems() == []


async def test_vacation_stays_silent_to_robots_and_repeat_senders(dovecot: Dovecot) -> None:
    first = make_message(sender=CARL, to=SUPPORT, subject="first")
    await dovecot.deliver_async(first, mail_from=CARL_ADDR, rcpt=SUPPORT)
    again = make_message(sender=CARL, to=SUPPORT, subject="second")
    await dovecot.deliver_async(again, mail_from=CARL_ADDR, rcpt=SUPPORT)
    robot = make_message(
        sender="robot@vendor.example",
        to=SUPPORT,
        subject="Re: your ticket",
        headers=[("Auto-Submitted", "auto-replied")],
    )
    await dovecot.deliver_async(robot, mail_from="robot@vendor.example", rcpt=SUPPORT)

    # One reply per sender per :days period, and never to another auto-responder.
    assert [r.message["Subject"] for r in dovecot.outbox()] == [
        "Auto-Reply: we received your message"
    ]
    async with dovecot.imap(SUPPORT) as imap:
        assert _exists(await imap.select("INBOX")) == 3


async def test_plain_imap_port_and_customer_mailbox_work(dovecot: Dovecot) -> None:
    dovecot.seed(CUSTOMER, make_message(sender=SUPPORT, to=CUSTOMER, subject="hi"), "Archive")
    async with dovecot.imap(CUSTOMER, tls=False) as imap:
        archive = await imap.select("Archive")
        assert _exists(archive) == 1


def test_instance_runs_unprivileged_outside_pytest_tmp(dovecot: Dovecot) -> None:
    status = Path(f"/proc/{dovecot.pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    real_uid = int(uid_line.split()[1])
    # As root, start.sh drops to the dovecot user: Dovecot refuses root login processes, and
    # that user could not traverse pytest's 0700 /tmp/pytest-of-root, hence no tmp_path.
    expected = pwd.getpwnam("dovecot").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert real_uid == expected != 0
    assert dovecot.base.stat().st_uid == expected
    assert "pytest-of-" not in str(dovecot.base)


def test_a_taken_port_makes_the_start_draw_another_port_base(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = unusable_reason()
    if reason is not None:
        require_or_skip("dovecot", reason)
    draw = random.choice
    with socket.socket() as blocker:
        blocker.bind((HOST, 0))
        blocker.listen()
        taken_base = blocker.getsockname()[1] - 143  # so that the IMAP port is the taken one
        draws = iter([taken_base])
        monkeypatch.setattr(random, "choice", lambda seq: next(draws, None) or draw(seq))
        base = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-"))
        try:
            server = start_dovecot(base)
            exercised(request.node, "dovecot")
            try:
                assert server.port_base != taken_base
                with socket.create_connection((HOST, server.imap_port), timeout=5) as imap:
                    assert imap.recv(100).startswith(b"* OK")
            finally:
                server.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)


@pytest.mark.smtp
async def test_vacation_reply_can_be_submitted_over_smtp(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink
) -> None:
    # What the SMTP-proxy tests need: Dovecot's auto-reply arriving at a server under test.
    dovecot = dovecot_factory(submission_host=smtp_sink.address)
    message = make_message(sender=CARL, to=SUPPORT, subject="Help", message_id="<h@c.example>")
    await dovecot.deliver_async(message, mail_from=CARL_ADDR, rcpt=SUPPORT)

    [envelope] = smtp_sink.envelopes
    assert envelope.mail_from == "<>"
    assert envelope.rcpt_tos == [CARL_ADDR]
    assert isinstance(envelope.content, bytes)
    assert b"Auto-Submitted: auto-replied" in envelope.content
    assert b"In-Reply-To: <h@c.example>" in envelope.content
    assert dovecot.outbox() == []
    assert dovecot.log_problems() == []
