"""A tiny HTTP endpoint: liveness (``/healthz``), readiness (``/readyz``), ``/metrics``.

It speaks just enough HTTP/1.1 for probes and scrapers: one GET per connection, bounded
request size and read time, so a hostile client cannot hold the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

_MAX_REQUEST = 8192
_READ_TIMEOUT = 5.0

HealthCheck = Callable[[], dict[str, str]]
ReadyCheck = Callable[[], Awaitable[dict[str, str]]]


class HealthServer:
    """Serves ``/healthz`` from a callable, ``/readyz`` from an async probe (when given) and
    ``/metrics`` from a Prometheus registry."""

    def __init__(
        self,
        health: HealthCheck,
        registry: CollectorRegistry = REGISTRY,
        ready: ReadyCheck | None = None,
    ) -> None:
        self._health = health
        self._ready = ready
        self._registry = registry
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def close(self) -> None:
        """Stop listening and wait for open connections to finish."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            if self._ready is not None and _target(head) == b"/readyz":
                # The probes have their own timeouts, shorter than the read timeout.
                status, content_type, body = _checks(await self._ready())
            else:
                status, content_type, body = self._respond(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, content_type, body = "400 Bad Request", "text/plain", b"bad request\n"
        except ConnectionError:
            return
        header = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(header.encode("ascii") + body)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    def _respond(self, head: bytes) -> tuple[str, str, bytes]:
        if len(head) > _MAX_REQUEST:
            return "431 Request Header Fields Too Large", "text/plain", b"too large\n"
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or parts[0] != b"GET":
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        target = parts[1].split(b"?", 1)[0]
        if target == b"/healthz":
            return _checks(self._health())
        if target == b"/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        return "404 Not Found", "text/plain", b"not found\n"


def _target(head: bytes) -> bytes | None:
    """The path of a well-formed ``GET`` request line, else None (``_respond`` says why)."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    if len(head) > _MAX_REQUEST or len(parts) != 3 or parts[0] != b"GET":
        return None
    return parts[1].split(b"?", 1)[0]


def _checks(checks: dict[str, str]) -> tuple[str, str, bytes]:
    """200 when every check is ``ok``, else 503; the JSON names each check and its reason."""
    healthy = all(value == "ok" for value in checks.values())
    body = json.dumps({"status": "ok" if healthy else "degraded", "checks": checks})
    status = "200 OK" if healthy else "503 Service Unavailable"
    return status, "application/json", body.encode() + b"\n"
