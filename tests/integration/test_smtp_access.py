"""Who may send through the proxy: never an open relay.

Clients outside ``allowed_networks`` (a client bound to 127.0.0.2), unauthenticated clients
where AUTH is required, AUTH before TLS, MAIL before STARTTLS where TLS is required: all
refused and nothing relayed. Plus the size limit (552) and the connection limit (421).
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import pytest
from pydantic import SecretStr

from mailguard.config.model import ProxyConfig, RelayConfig
from mailguard.smtp.server import ListenError, ProxyServer
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import mail, migrated_store
from tests.integration.smtp_support import (
    Sink,
    client_tls,
    running_proxy,
    running_sink,
    self_signed,
    server_tls,
    smtp_counted,  # noqa: F401 (fixture)
)

RAW = mail(
    sender="support@example.com",
    to="carl@customer.example",
    subject="Re: order",
    at=__import__("datetime").datetime(2026, 11, 30, tzinfo=__import__("datetime").UTC),
    message_id="access-1@example.com",
    body="Dear Carl,\r\nyour order left today.\r\n",
)
USERS = {"helpdesk": SecretStr("s3cret")}

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    async with migrated_store(sqlite_url) as s:
        yield s


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


async def test_client_outside_allowed_networks_is_refused(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(
        store,
        sink.port,
        allowed_networks=[ipaddress.ip_network("127.0.0.1/32")],
    ) as proxy:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=proxy.port, source_address=("127.0.0.2", 0), timeout=5
        )
        with pytest.raises(aiosmtplib.SMTPConnectResponseError) as refused:
            await client.connect()
        assert refused.value.code == 554
        # The allowed address is served on the same listener.
        allowed = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
        await allowed.connect()
        await allowed.quit()
    assert sink.received == []


async def test_auth_required_refuses_unauthenticated_mail(
    store: SqlStore, sink: Sink, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    async with running_proxy(
        store, sink.port, tls_cert=cert, tls_key=key, auth_users=USERS
    ) as proxy:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=proxy.port, tls_context=client_tls(cert), timeout=5
        )
        await client.connect()  # STARTTLS is negotiated by default when offered
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await client.mail("support@example.com")
        assert refused.value.code == 530
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
            await client.login("helpdesk", "wrong")
        assert wrong.value.code == 535
        client.close()
    assert sink.received == []


async def test_auth_is_not_offered_before_starttls(
    store: SqlStore, sink: Sink, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    async with running_proxy(
        store, sink.port, tls_cert=cert, tls_key=key, auth_users=USERS
    ) as proxy:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, start_tls=False, timeout=5)
        await client.connect()
        await client.ehlo()
        assert not client.supports_extension("auth")
        response = await client.execute_command(b"AUTH", b"PLAIN", b"AGhlbHBkZXNrAHMzY3JldA==")
        assert response.code == 538  # encryption required (RFC 4954)
        client.close()
    assert sink.received == []


async def test_starttls_and_auth_plain_relay(
    store: SqlStore, sink: Sink, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    async with running_proxy(
        store, sink.port, tls_cert=cert, tls_key=key, auth_users=USERS, require_tls=True
    ) as proxy:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=proxy.port, tls_context=client_tls(cert), timeout=5
        )
        await client.connect()
        await client.login("helpdesk", "s3cret")
        errors, _ = await client.sendmail("support@example.com", ["carl@customer.example"], RAW)
        await client.quit()
    assert errors == {}
    assert len(sink.received) == 1


async def test_implicit_tls_and_auth_login_relay(
    store: SqlStore, sink: Sink, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    async with running_proxy(
        store, sink.port, tls_cert=cert, tls_key=key, auth_users=USERS, tls_mode="implicit"
    ) as proxy:
        client = aiosmtplib.SMTP(
            hostname="127.0.0.1",
            port=proxy.port,
            use_tls=True,
            tls_context=client_tls(cert),
            timeout=5,
        )
        await client.connect()
        await client.ehlo()
        await client.auth_login("helpdesk", "s3cret")
        errors, _ = await client.sendmail("support@example.com", ["carl@customer.example"], RAW)
        await client.quit()
    assert errors == {}
    assert len(sink.received) == 1


async def test_require_tls_refuses_mail_before_starttls(
    store: SqlStore, sink: Sink, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    async with running_proxy(
        store, sink.port, tls_cert=cert, tls_key=key, require_tls=True
    ) as proxy:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, start_tls=False, timeout=5)
        await client.connect()
        await client.ehlo()
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await client.mail("support@example.com")
        assert refused.value.code == 530
        client.close()
    assert sink.received == []


async def test_message_over_the_size_limit_gets_552(store: SqlStore, sink: Sink) -> None:
    big = RAW + (b"x" * 70 + b"\r\n") * 30
    async with running_proxy(store, sink.port, max_message_size=1024) as proxy:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
        await client.connect()
        # Declared SIZE is refused at MAIL already; undeclared, at the end of DATA.
        await client.ehlo()
        await client.execute_command(b"MAIL", b"FROM:<support@example.com>")
        await client.rcpt("carl@customer.example")
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(big)
        assert refused.value.code == 552
        client.close()
    assert sink.received == []


async def test_connection_limit_gives_421(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(store, sink.port, max_connections=1) as proxy:
        first = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
        await first.connect()
        second = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
        with pytest.raises(aiosmtplib.SMTPConnectResponseError) as refused:
            await second.connect()
        assert refused.value.code == 421
        await first.quit()
        await asyncio.sleep(0.05)
        third = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
        await third.connect()
        await third.quit()


async def test_port_in_use_is_a_readable_error(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(store, sink.port) as proxy:
        second = ProxyServer(ProxyConfig(), proxy.handler)
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{proxy.port}"):
            await second.start(proxy.port)


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_relay_speaks_tls_and_auth_to_the_upstream(
    store: SqlStore, tls_files: tuple[Path, Path], mode: str
) -> None:
    cert, key = tls_files
    upstream = Sink(
        server_tls(cert, key), {"mailguard": "relay-secret"}, implicit=mode == "implicit"
    )
    await upstream.start()
    try:
        relay = RelayConfig(
            host="127.0.0.1",
            port=upstream.port,
            tls=mode,
            ca_file=cert,
            user="mailguard",
            password=SecretStr("relay-secret"),
            timeout=timedelta(seconds=5),
        )
        async with running_proxy(store, upstream.port, relay_config=relay) as proxy:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
            await client.connect()
            errors, _ = await client.sendmail("support@example.com", ["carl@customer.example"], RAW)
            await client.quit()
    finally:
        await upstream.close()
    assert errors == {}
    assert upstream.logins == ["mailguard"]
    assert [r.raw for r in upstream.received] == [RAW]


async def test_wrong_relay_password_is_a_451_not_a_loss(
    store: SqlStore, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    upstream = Sink(server_tls(cert, key), {"mailguard": "relay-secret"})
    await upstream.start()
    try:
        relay = RelayConfig(
            host="127.0.0.1",
            port=upstream.port,
            tls="starttls",
            ca_file=cert,
            user="mailguard",
            password=SecretStr("wrong"),
            timeout=timedelta(seconds=5),
        )
        async with running_proxy(store, upstream.port, relay_config=relay) as proxy:
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=5)
            await client.connect()
            with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                await client.sendmail("support@example.com", ["carl@customer.example"], RAW)
            client.close()
    finally:
        await upstream.close()
    # An upstream that refuses our credentials is a configuration problem that an operator
    # fixes: the client keeps the message meanwhile.
    assert refused.value.code == 451
    assert upstream.received == []
