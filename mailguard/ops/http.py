"""A tiny HTTP endpoint: liveness (``/healthz``), readiness (``/readyz``), ``/status``,
``/metrics``.

It speaks just enough HTTP/1.1 for probes and scrapers: one GET per connection, bounded
request size and read time, so a hostile client cannot hold the daemon. The daemon serves it
from a thread and event loop of its own (:class:`HttpThread`): a blocked daemon loop is what
``/healthz`` must report, so the answer cannot depend on that loop running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

_MAX_REQUEST = 8192
_READ_TIMEOUT = 5.0

HealthCheck = Callable[[], dict[str, str]]
ReadyCheck = Callable[[], Awaitable[dict[str, str]]]
StatusReport = Callable[[], Awaitable[dict[str, Any]]]


class HealthServer:
    """Serves ``/healthz`` from a callable, ``/readyz`` from an async probe and ``/status``
    from an async report (when given), ``/metrics`` from a Prometheus registry."""

    def __init__(
        self,
        health: HealthCheck,
        registry: CollectorRegistry = REGISTRY,
        ready: ReadyCheck | None = None,
        status: StatusReport | None = None,
    ) -> None:
        self._health = health
        self._ready = ready
        self._status = status
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
            target = _target(head)
            if self._ready is not None and target == b"/readyz":
                # The probes have their own timeouts, shorter than the read timeout.
                status, content_type, body = _checks(await self._ready())
            elif self._status is not None and target == b"/status":
                # Information, not a probe: 200 whatever it says (its "status" field says it).
                report = json.dumps(await self._status(), indent=2, sort_keys=False)
                status, content_type, body = "200 OK", "application/json", report.encode() + b"\n"
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


class HttpThread:
    """A :class:`HealthServer` on a thread and event loop of its own.

    ``health`` is called on that thread (it must only read: the watchdog's and the
    supervisor's state). ``ready`` and ``status`` are coroutines of the daemon's loop: they are
    run there and waited for at most ``timeout`` seconds; a loop that does not answer in time
    is reported as blocked (``/readyz`` 503, ``/status`` says so).
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        health: HealthCheck,
        ready: ReadyCheck,
        status: StatusReport,
        *,
        timeout: float = 5.0,
    ) -> None:
        self._main = loop
        self._timeout = timeout
        self._server = HealthServer(
            health,
            ready=self._on_main(ready, lambda: {"event_loop": _BLOCKED}),
            status=self._on_main(status, lambda: {"status": "degraded", "event_loop": _BLOCKED}),
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def _on_main(
        self, work: Callable[[], Awaitable[Any]], blocked: Callable[[], Any]
    ) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            future = asyncio.run_coroutine_threadsafe(_awaited(work), self._main)
            try:
                async with asyncio.timeout(self._timeout):
                    return await asyncio.wrap_future(future)
            except TimeoutError:
                future.cancel()
                return blocked()

        return call

    async def start(self, host: str, port: int) -> int:
        """Start the thread and listen there; returns the bound port."""
        started: concurrent.futures.Future[int] = concurrent.futures.Future()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                started.set_result(loop.run_until_complete(self._server.start(host, port)))
            except BaseException as exc:
                started.set_exception(exc)
                loop.close()
                return
            try:
                loop.run_forever()
                loop.run_until_complete(self._server.close())
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name="mailguard-http", daemon=True)
        self._thread.start()
        return await asyncio.wrap_future(started)

    async def close(self) -> None:
        """Stop listening and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # already closed
            loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join, self._timeout)
        self._loop = self._thread = None


_BLOCKED = "failing: the event loop did not answer in time (blocked)"


async def _awaited(work: Callable[[], Awaitable[Any]]) -> Any:
    return await work()
