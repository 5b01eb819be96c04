"""``/readyz``: can this replica do its work right now (database, upstream relay, IMAP)?

``/healthz`` answers whether the daemon's loop is alive and its parts report no trouble;
``/readyz`` actively probes what mail needs: a ``SELECT 1`` on the database, an SMTP greeting
from the upstream relay (when the proxy is on), and each watched mailbox connected or
standing by for another replica. A balancer sends SMTP only to ready replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from sqlalchemy import text

from mailguard.config.model import RelayConfig
from mailguard.store.repository import SqlStore

PROBE_TIMEOUT = 2.0
_REASON_MAX = 200


def _failing(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"failing: {type(exc).__name__}: {first}"[:_REASON_MAX]


class Readiness:
    """Runs the probes; each entry is ``ok`` or ``failing: <why>``."""

    def __init__(
        self,
        store: SqlStore,
        relay: RelayConfig | None,
        mail_health: Callable[[], dict[str, str]],
    ) -> None:
        self._store = store
        self._relay = relay
        self._mail_health = mail_health

    async def checks(self) -> dict[str, str]:
        """All probes, run concurrently, each bounded by :data:`PROBE_TIMEOUT`."""
        probes = {"database": self._database()}
        if self._relay is not None:
            probes["relay"] = self._relay_greets(self._relay)
        results = await asyncio.gather(*probes.values(), return_exceptions=True)
        checks = {
            name: "ok" if result is None else _failing(result)
            for name, result in zip(probes, results, strict=True)
        }
        # The watchers report their own state: a standby is ready (it has nothing to watch),
        # a holder only while its connections are up.
        checks.update(self._mail_health())
        return checks

    async def _database(self) -> None:
        async with asyncio.timeout(PROBE_TIMEOUT), self._store.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    @staticmethod
    async def _relay_greets(relay: RelayConfig) -> None:
        """A TCP connection and a 220 greeting (RFC 5321 §4.2), then QUIT.

        Only the greeting: a full EHLO/STARTTLS/AUTH round per probe would load the
        upstream for nothing, and the relay's own errors are counted per message.
        """
        async with asyncio.timeout(PROBE_TIMEOUT):
            reader, writer = await asyncio.open_connection(relay.host, relay.port)
            if relay.tls == "implicit":
                # The greeting comes only after a TLS handshake; that the port accepts is
                # what this probe can tell without one.
                writer.close()
                return
            try:
                greeting = await reader.readline()
                if not greeting.startswith(b"220"):
                    raise ConnectionError(f"greeting {greeting[:60]!r}")
                writer.write(b"QUIT\r\n")
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
                    await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
