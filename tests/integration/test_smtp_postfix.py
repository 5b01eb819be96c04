"""Between real MTAs: swaks (STARTTLS, AUTH) -> mailguard proxy -> Postfix (STARTTLS) -> sink.

Postfix is the upstream relay the way it is in production: it takes the message, queues it
and delivers it on (to the test's aiosmtpd sink); its refusals reach the client.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from mailguard.config.model import RelayConfig
from mailguard.domain.model import Direction, Source
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import mail, migrated_store
from tests.integration.mta_support import SWAKS, Postfix, require, running_postfix, swaks
from tests.integration.smtp_support import Sink, running_proxy, running_sink, self_signed
from tests.real_servers import exercised

pytestmark = [pytest.mark.smtp, pytest.mark.slow]

NOW = datetime.now(UTC).replace(microsecond=0)
USERS = {"helpdesk": SecretStr("s3cret")}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    async with migrated_store(sqlite_url) as s:
        yield s


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


@pytest.fixture
def postfix(
    request: pytest.FixtureRequest, sink: Sink, tls_files: tuple[Path, Path]
) -> Iterator[Postfix]:
    require(SWAKS, "swaks")
    with running_postfix(sink.port, *tls_files) as instance:
        exercised(request.node, "smtp")
        yield instance


def postfix_relay(postfix: Postfix, cert: Path) -> RelayConfig:
    """The proxy speaks STARTTLS to Postfix, verifying its certificate."""
    return RelayConfig(
        host="127.0.0.1",
        port=postfix.port,
        tls="starttls",
        ca_file=cert,
        timeout=timedelta(seconds=10),
    )


async def test_swaks_through_the_proxy_and_postfix(
    store: SqlStore, sink: Sink, postfix: Postfix, tls_files: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = tls_files
    raw = mail(
        sender="support@example.com",
        to="carl@customer.example",
        subject="Re: order 4711",
        at=NOW,
        message_id="swaks-1@example.com",
        body="Dear Carl,\r\nyour parcel left today.\r\nAnna\r\n",
    )
    data = tmp_path / "message.eml"
    data.write_bytes(raw)
    async with running_proxy(
        store,
        postfix.port,
        relay_config=postfix_relay(postfix, cert),
        tls_cert=cert,
        tls_key=key,
        auth_users=USERS,
    ) as proxy:
        code, out = await swaks(
            "--server",
            f"127.0.0.1:{proxy.port}",
            "--tls",
            "--tls-verify",
            "--tls-ca-path",
            str(cert),
            "--auth",
            "PLAIN",
            "--auth-user",
            "helpdesk",
            "--auth-password",
            "s3cret",
            "--from",
            "support@example.com",
            "--to",
            "carl@customer.example",
            "--data",
            f"@{data}",
        )
        assert code == 0, out
        assert "250 2.0.0 Ok: relayed" in out
        await asyncio.wait_for(sink.handler.arrived.wait(), 30)
    [got] = sink.received
    assert got.rcpt_tos == ["carl@customer.example"]
    delivered = email.message_from_bytes(got.raw, policy=email.policy.default)
    assert delivered["Message-ID"] == "<swaks-1@example.com>"
    assert "postfix.test" in str(delivered["Received"])
    body = delivered.get_content().replace("\r\n", "\n")
    assert body.startswith("Dear Carl,\nyour parcel left today.\nAnna\n")
    # Postfix logs the delivery after the sink's 250, which the test may see first.
    for _ in range(100):
        if "status=sent" in postfix.log:
            break
        await asyncio.sleep(0.1)
    assert "status=sent" in postfix.log


async def test_postfix_refusal_reaches_the_client(
    store: SqlStore, sink: Sink, postfix: Postfix, tls_files: tuple[Path, Path]
) -> None:
    cert, _ = tls_files
    async with running_proxy(
        store, postfix.port, relay_config=postfix_relay(postfix, cert)
    ) as proxy:
        code, out = await swaks(
            "--server",
            f"127.0.0.1:{proxy.port}",
            "--from",
            "support@example.com",
            "--to",
            "reject@customer.example",
            "--header",
            "Message-ID: <swaks-reject@example.com>",
            "--body",
            "Dear customer, hello.",
        )
    assert code != 0
    assert "554 5.7.1" in out and "no such user" in out, out
    assert sink.received == []


async def test_held_reply_never_reaches_postfix(
    store: SqlStore, sink: Sink, postfix: Postfix, tls_files: tuple[Path, Path]
) -> None:
    async with running_proxy(store, postfix.port) as proxy:
        inbound = mail(
            sender="carl@customer.example",
            to="support@example.com",
            subject="Automatic reply: order",
            at=NOW - timedelta(minutes=1),
            message_id="ooo-swaks@customer.example",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am out of the office.\n",
        )
        await proxy.engine.process(
            inbound, source=Source.IMAP, now=NOW, direction=Direction.INBOUND
        )
        code, out = await swaks(
            "--server",
            f"127.0.0.1:{proxy.port}",
            "--from",
            "support@example.com",
            "--to",
            "carl@customer.example",
            "--header",
            "Message-ID: <ack-swaks@example.com>",
            "--header",
            "In-Reply-To: <ooo-swaks@customer.example>",
            "--header",
            "Auto-Submitted: auto-replied",
            "--header",
            "Subject: Re: Automatic reply: order",
            "--body",
            "We received your message and will answer soon.",
        )
    assert code == 0, out
    assert "held by mailguard" in out
    assert sink.received == []
    assert "ack-swaks" not in postfix.log
    assert len(await store.held_mail()) == 1
