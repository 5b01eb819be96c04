"""A tiny HTTP endpoint for liveness (``/healthz``) and Prometheus metrics (``/metrics``).

It speaks just enough HTTP/1.1 for probes and scrapers: one GET per connection, bounded
request size and read time, so a hostile client cannot hold the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

_MAX_REQUEST = 8192
_READ_TIMEOUT = 5.0

HealthCheck = Callable[[], dict[str, str]]


class HealthServer:
    """Serves ``/healthz`` from a callable and ``/metrics`` from a Prometheus registry."""

    def __init__(self, health: HealthCheck, registry: CollectorRegistry = REGISTRY) -> None:
        self._health = health
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
            checks = self._health()
            healthy = all(value == "ok" for value in checks.values())
            body = json.dumps({"status": "ok" if healthy else "degraded", "checks": checks})
            status = "200 OK" if healthy else "503 Service Unavailable"
            return status, "application/json", body.encode() + b"\n"
        if target == b"/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        return "404 Not Found", "text/plain", b"not found\n"
