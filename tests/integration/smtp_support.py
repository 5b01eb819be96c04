"""Real servers on loopback for the proxy tests: an upstream sink with fault injection and
the proxy itself on the test's own event loop (ephemeral ports).

The sink is a real aiosmtpd server, like Mailman's ``testing/mta.py``: queue an error code
for the next MAIL, RCPT or DATA (``fail_next``), or stall the next DATA (``stall``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult

from mailguard.config.model import ProxyConfig, RelayConfig
from mailguard.domain.policy import Policy
from mailguard.engine.service import Deferral, Engine
from mailguard.smtp.handler import HandoverText, ProxyHandler, ProxySettings
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.smtp.server import ProxyServer
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import build_engine
from tests.real_servers import exercised, require_marker


@pytest.fixture
def smtp_counted(request: pytest.FixtureRequest) -> None:
    """Count the test as one against a real SMTP peer (the run summary's "smtp" line).

    Every test of the proxy talks SMTP over loopback to the proxy, an aiosmtpd server, and
    the proxy to an aiosmtpd sink (or Postfix); the modules carry ``pytest.mark.smtp``.
    """
    require_marker(request.node, "smtp")
    exercised(request.node, "smtp")


@dataclass
class Received:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    mail_options: list[str]


@dataclass
class SinkHandler:
    """Stores what arrives; answers with queued faults first."""

    received: list[Received] = field(default_factory=list)
    faults: dict[str, list[str]] = field(default_factory=dict)
    stall_event: asyncio.Event | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def _fault(self, command: str) -> str | None:
        queue = self.faults.get(command)
        return queue.pop(0) if queue else None

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self._fault("MAIL")
        if fault:
            return fault
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        fault = self._fault("RCPT")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.stall_event is not None:
            await self.stall_event.wait()
        fault = self._fault("DATA")
        if fault:
            return fault
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.original_content),
                list(envelope.mail_options),
            )
        )
        self.arrived.set()
        return "250 2.0.0 Ok: queued as SINK1"


class Sink:
    """The upstream relay of the tests; with ``tls`` and ``users``: STARTTLS (or implicit
    TLS) and AUTH required, as a provider's submission server does."""

    def __init__(
        self,
        tls: ssl.SSLContext | None = None,
        users: dict[str, str] | None = None,
        *,
        implicit: bool = False,
    ) -> None:
        self.handler = SinkHandler()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tls = tls
        self._users = users
        self._implicit = implicit
        self.logins: list[str] = []

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def fail_next(self, command: str, reply: str) -> None:
        """The next ``command`` (MAIL, RCPT or DATA) is answered with ``reply``."""
        self.handler.faults.setdefault(command, []).append(reply)

    def stall(self) -> asyncio.Event:
        """Stall every DATA until the returned event is set."""
        self.handler.stall_event = asyncio.Event()
        return self.handler.stall_event

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        login = data.login.decode()
        ok = self._users is not None and self._users.get(login) == data.password.decode()
        if ok:
            self.logins.append(login)
        return AuthResult(success=ok, handled=False)

    def _session(self) -> SMTP:
        options: dict[str, Any] = {}
        if self._users is not None:
            options = {"authenticator": self._authenticate, "auth_required": True}
        session = SMTP(
            self.handler,
            hostname="sink.test",
            enable_SMTPUTF8=True,
            data_size_limit=None,
            tls_context=None if self._implicit else self._tls,
            require_starttls=self._tls is not None and not self._implicit,
            **options,
        )
        if self._implicit:
            # aiosmtpd only knows STARTTLS; with implicit TLS the session is encrypted.
            session._auth_require_tls = False
        return session

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._session, "127.0.0.1", 0, ssl=self._tls if self._implicit else None
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.handler.stall_event is not None:
            self.handler.stall_event.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@asynccontextmanager
async def running_sink() -> AsyncIterator[Sink]:
    sink = Sink()
    await sink.start()
    try:
        yield sink
    finally:
        await sink.close()


HANDOVER = HandoverText(
    subject_prefix="[handed over] ",
    sentences={"en": "A person will answer you shortly.", "de": "Ein Mensch antwortet bald."},
    default_language="en",
)


@dataclass
class Proxy:
    """A running proxy: its port, engine, store, relay and server."""

    port: int
    engine: Engine
    store: SqlStore
    relay: Relay
    server: ProxyServer
    handler: ProxyHandler


@asynccontextmanager
async def running_proxy(
    store: SqlStore,
    upstream_port: int,
    *,
    policy: Policy | None = None,
    agents: str | None = "agents@example.com",
    relay_timeout: float = 2.0,
    relay_config: RelayConfig | None = None,
    trace_header: bool = False,
    dry_run: bool = False,
    deferral: Deferral | None = None,
    on_actions: Callable[[], None] = lambda: None,
    **proxy_options: Any,
) -> AsyncIterator[Proxy]:
    """The proxy on 127.0.0.1:<ephemeral> relaying to ``upstream_port`` (or ``relay_config``)."""
    engine = build_engine(store, policy)
    relay = Relay(
        relay_config
        or RelayConfig(
            host="127.0.0.1",
            port=upstream_port,
            timeout=timedelta(seconds=relay_timeout),
            pool_size=4,
        )
    )
    options: dict[str, Any] = {
        "allowed_networks": [ipaddress.IPv4Network("127.0.0.1/32")],
    }
    options.update(proxy_options)
    config = ProxyConfig(**options)
    handler = ProxyHandler(
        engine,
        relay,
        store,
        ProxySettings(
            HANDOVER,
            agents=agents,
            trace_header=trace_header,
            dry_run=dry_run,
            deferral=deferral,
        ),
        on_actions=on_actions,
        receipts=Receipts(store, relay, "mailguard.test"),
    )
    server = ProxyServer(config, handler)
    port = await server.start(0)
    try:
        yield Proxy(port, engine, store, relay, server, handler)
    finally:
        await server.close(grace=2)
        await relay.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed EC certificate for localhost/127.0.0.1 (cert, key), made by openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def client_tls(cert: Path) -> ssl.SSLContext:
    """A client context that trusts exactly ``cert`` (verification stays on)."""
    return ssl.create_default_context(cafile=str(cert))


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context for the sink from the test certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context
