"""A real SMTP peer for tests: an aiosmtpd server on an ephemeral 127.0.0.1 port.

The ``smtp_sink`` fixture runs it on the test's own event loop and keeps every envelope it
accepts. Tests that take it must be marked ``@pytest.mark.smtp``; they are counted in the run
summary's "real servers exercised" line. An SMTP peer outside this process (Postfix, a
swaks-driven check) goes through the same switch: call
``tests.real_servers.require_or_skip("smtp", reason)`` when it is missing and
``tests.real_servers.exercised(request.node, "smtp")`` once it answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.real_servers import exercised, require_marker, require_or_skip

HOST = "127.0.0.1"


class _Collector:
    """aiosmtpd handler that keeps every envelope it is given."""

    def __init__(self, envelopes: list[Envelope]) -> None:
        self.envelopes = envelopes

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@dataclass
class SmtpSink:
    """A listening aiosmtpd server; ``envelopes`` holds what it accepted, oldest first."""

    host: str
    port: int
    envelopes: list[Envelope] = field(default_factory=list)

    @property
    def address(self) -> str:
        """``host:port``, as Dovecot's ``submission_host`` and relay settings take it."""
        return f"{self.host}:{self.port}"


@pytest.fixture
async def smtp_sink(request: pytest.FixtureRequest) -> AsyncIterator[SmtpSink]:
    """An aiosmtpd server on an ephemeral port of the test's loop, closed after the test."""
    require_marker(request.node, "smtp")
    envelopes: list[Envelope] = []
    loop = asyncio.get_running_loop()
    try:
        server = await loop.create_server(lambda: SMTP(_Collector(envelopes)), HOST, 0)
    except OSError as exc:
        require_or_skip("smtp", f"cannot listen on {HOST}: {exc}")
    exercised(request.node, "smtp")
    try:
        yield SmtpSink(HOST, int(server.sockets[0].getsockname()[1]), envelopes)
    finally:
        server.close()
        await server.wait_closed()
