"""The IMAP connection against real Dovecot: TLS modes, authentication, commands, IDLE."""

from __future__ import annotations

import asyncio
import ssl
from typing import Literal

import pytest

from mailguard.imap.connection import (
    ConnectParams,
    ImapAuthError,
    ImapConnection,
    ImapConnectionLost,
)
from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot, make_message
from tests.integration.imap_support import kick

pytestmark = pytest.mark.dovecot


def params(
    dovecot: Dovecot,
    tls: Literal["implicit", "starttls", "plain"] = "implicit",
    *,
    auth: Literal["auto", "login", "plain"] = "auto",
    password: str | None = None,
    ca_file: str | None = "default",
) -> ConnectParams:
    return ConnectParams(
        host=dovecot.host,
        port=dovecot.imaps_port if tls == "implicit" else dovecot.imap_port,
        tls=tls,
        user=SUPPORT,
        password=password or PASSWORDS[SUPPORT],
        ca_file=str(dovecot.cafile) if ca_file == "default" else ca_file,
        auth=auth,
        timeout=5.0,
    )


@pytest.mark.parametrize(
    ("tls", "auth"),
    [("implicit", "auto"), ("implicit", "login"), ("starttls", "plain"), ("plain", "login")],
)
async def test_connects_and_selects_in_every_tls_mode(
    dovecot: Dovecot,
    tls: Literal["implicit", "starttls", "plain"],
    auth: Literal["auto", "login", "plain"],
) -> None:
    conn = await ImapConnection.open(params(dovecot, tls, auth=auth))
    try:
        state = await conn.select("INBOX")
        assert state.uidvalidity > 0
        assert state.exists == 0
        assert conn.has("MOVE") and conn.has("UIDPLUS")
        if tls == "starttls":
            # After STARTTLS the capabilities were asked again (RFC 3501 section 6.2.1).
            assert not conn.has("STARTTLS")
    finally:
        await conn.close()


async def test_refuses_a_certificate_it_cannot_verify(dovecot: Dovecot) -> None:
    # The system trust store does not know the instance's self-signed certificate.
    with pytest.raises(ssl.SSLCertVerificationError):
        await ImapConnection.open(params(dovecot, ca_file=None))


async def test_starttls_refuses_an_unverified_certificate(dovecot: Dovecot) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        await ImapConnection.open(params(dovecot, "starttls", ca_file=None))


async def test_wrong_password_is_an_auth_error(dovecot: Dovecot) -> None:
    with pytest.raises(ImapAuthError):
        await ImapConnection.open(params(dovecot, password="wrong"))


async def test_append_search_fetch_peek_and_flags(dovecot: Dovecot) -> None:
    conn = await ImapConnection.open(params(dovecot))
    try:
        await conn.ensure_folder("Escalated")
        await conn.ensure_folder("Escalated")  # idempotent
        msg = make_message(sender="c@customer.example", to=SUPPORT, subject="hi")
        appended = await conn.append("Escalated", msg.as_bytes())
        assert appended is not None
        state = await conn.select("Escalated")
        assert appended[0] == state.uidvalidity
        mid = str(msg["Message-ID"]).strip("<>")
        assert await conn.search_message_id(mid) == [appended[1]]
        [batch] = [b async for b in conn.fetch([appended[1]])]
        assert batch == [(appended[1], msg.as_bytes().replace(b"\n", b"\r\n"))]
        assert await conn.search("UNSEEN") == [appended[1]]  # BODY.PEEK kept it unread
        await conn.add_flags([appended[1]], ["$MailguardEscalated", "\\Flagged"])
        assert await conn.search("KEYWORD", "$MailguardEscalated") == [appended[1]]
        await conn.move([appended[1]], "INBOX")
        assert await conn.search("ALL") == []
    finally:
        await conn.close()


async def test_fetch_batches_many_messages(dovecot: Dovecot) -> None:
    conn = await ImapConnection.open(params(dovecot))
    try:
        for i in range(450):
            await conn.append(
                "INBOX", make_message(sender="c@x.example", to=SUPPORT, subject=f"{i}").as_bytes()
            )
        await conn.select("INBOX")
        uids = await conn.search("ALL")
        got = [uid for batch in [b async for b in conn.fetch(uids)] for uid, _ in batch]
        assert got == uids and len(uids) == 450
    finally:
        await conn.close()


async def test_idle_wakes_on_delivery_and_on_request(dovecot: Dovecot) -> None:
    conn = await ImapConnection.open(params(dovecot))
    try:
        await conn.select("INBOX")
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, wake.set)
        assert await conn.idle(10, wake) is False
        msg = make_message(sender="c@customer.example", to=SUPPORT, subject="push")
        deliver = asyncio.create_task(
            dovecot.deliver_async(msg, mail_from="c@customer.example", rcpt=SUPPORT)
        )
        assert await conn.idle(10) is True
        await deliver
        assert len(await conn.search("ALL")) == 1
    finally:
        await conn.close()


async def test_a_dropped_connection_fails_the_waiting_command(dovecot: Dovecot) -> None:
    conn = await ImapConnection.open(params(dovecot))
    try:
        await conn.select("INBOX")
        idle = asyncio.create_task(conn.idle(30))
        await asyncio.sleep(0.3)
        kick(dovecot)
        with pytest.raises(ImapConnectionLost):
            await asyncio.wait_for(idle, 5)
        assert not conn.alive
    finally:
        await conn.close()


async def test_move_without_move_capability_expunges_only_those_uids(dovecot: Dovecot) -> None:
    conn = await ImapConnection.open(params(dovecot))
    try:
        for subject in ("keep, deleted by an agent", "move me"):
            msg = make_message(sender="c@x.example", to=SUPPORT, subject=subject)
            await conn.append("INBOX", msg.as_bytes())
        await conn.ensure_folder("Escalated")
        await conn.select("INBOX")
        agent_deleted, to_move = await conn.search("ALL")
        await conn.add_flags([agent_deleted], ["\\Deleted"])
        # Fault injection: a server without RFC 6851 MOVE (UIDPLUS stays).
        conn._client.protocol.capabilities.discard("MOVE")
        await conn.move([to_move], "Escalated")
        assert await conn.search("ALL") == [agent_deleted]  # never a plain EXPUNGE
        await conn.select("Escalated")
        assert len(await conn.search("ALL")) == 1
    finally:
        await conn.close()
