"""The milter's listener, served from the daemon's own event loop.

``inet:HOST:PORT`` or ``unix:/path`` (:class:`~mailguard.config.milter.MilterConfig`), the
forms Postfix's ``smtpd_milters`` takes too. Each MTA connection is one
:class:`~mailguard.milter.connection.MilterConnection`; Postfix opens one per SMTP session
(and per cleanup run for sendmail's mail) and sends its messages through it one at a time.
Closing stops accepting, lets messages being decided finish within a grace period and then
drops the connections: Postfix answers its clients with the milter's default action
(``tempfail`` in the recipe) and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import structlog
from prometheus_client import Counter, Gauge

from mailguard.config.milter import MilterConfig
from mailguard.errors import MailguardError
from mailguard.milter.connection import MilterConnection, MilterProtocolError
from mailguard.milter.handler import MilterHandler

log = structlog.get_logger("mailguard.milter.server")

MILTER_CONNECTIONS = Gauge("mailguard_milter_connections", "Open MTA connections of the milter")
MILTER_REFUSED = Counter(
    "mailguard_milter_refused_connections", "MTA connections refused: over milter.max_connections"
)


class MilterListenError(MailguardError):
    """The milter cannot listen where it is configured to (port taken, no such directory)."""

    def __init__(self, listen: str, problem: str) -> None:
        self.listen = listen
        self.problem = problem
        super().__init__(f"the milter cannot listen on {listen}: {problem} (milter.listen)")


class MilterServer:
    """The listening socket and its connections; ``start`` and ``close`` on the running loop."""

    def __init__(self, config: MilterConfig, handler: MilterHandler) -> None:
        self._config = config
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connections(self) -> int:
        """MTA connections being served now."""
        return len(self._tasks)

    async def start(self, port: int | None = None) -> str:
        """Listen; return where (``inet:HOST:PORT`` with the real port, or ``unix:PATH``).

        ``port`` overrides an inet listener's port (0 picks a free one; tests).
        """
        cfg = self._config
        try:
            if cfg.unix_path is not None:
                path = Path(cfg.unix_path)
                _remove_stale_socket(path)
                self._server = await asyncio.start_unix_server(self._serve, path)
                os.chmod(path, int(cfg.socket_mode, 8))
                where = f"unix:{path}"
            else:
                host, listen_port = cfg.inet
                listen_port = listen_port if port is None else port
                self._server = await asyncio.start_server(self._serve, host, listen_port)
                bound = int(self._server.sockets[0].getsockname()[1])
                where = f"inet:{host}:{bound}"
        except OSError as exc:
            raise MilterListenError(cfg.listen, exc.strerror or str(exc)) from exc
        log.info("milter_listening", listen=where, max_connections=cfg.max_connections)
        return where

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._tasks) >= self._config.max_connections:
            # Postfix applies the milter's default action (tempfail): the mail waits.
            MILTER_REFUSED.inc()
            writer.close()
            return
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - asyncio always runs callbacks in a task
            return
        self._tasks.add(task)
        MILTER_CONNECTIONS.set(len(self._tasks))
        try:
            await MilterConnection(reader, writer, self._handler).serve()
        except MilterProtocolError as exc:
            log.warning("milter_protocol_error", error=str(exc))
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("milter_connection_lost", error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a packet kilter.protocol refuses: this connection only
            # Postfix applies the milter's default action (tempfail) to what it was sending.
            log.warning("milter_protocol_error", error=f"{type(exc).__name__}: {exc}")
        finally:
            self._tasks.discard(task)
            MILTER_CONNECTIONS.set(len(self._tasks))

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let decisions in flight finish within ``grace``, then drop the
        connections (Postfix then applies the milter's default action to what it has)."""
        if self._server is None:
            return
        self._server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Polling keeps the connections free of shutdown bookkeeping; it runs once.
        while self._handler.in_flight and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.wait_closed()
        self._server = None
        if self._config.unix_path is not None:
            _remove_socket(Path(self._config.unix_path))


def _remove_stale_socket(path: Path) -> None:
    """A socket file left by a process that died is removed; any other file is not."""
    if path.is_socket():
        path.unlink()
    elif path.exists():
        raise OSError(17, f"{path} exists and is not a socket")


def _remove_socket(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
