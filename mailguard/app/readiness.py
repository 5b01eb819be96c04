"""``/readyz``: can this replica take SMTP right now (the database and the upstream relay)?

``/healthz`` answers whether the process is stuck (:mod:`mailguard.ops.liveness`);
``/readyz`` actively probes what the SMTP side needs: a ``SELECT 1`` on the database and an
SMTP greeting from the upstream relay (when the proxy or the milter is on), and, with
``relay.auth: oauth2``, the relay's token. A balancer sends SMTP only to ready replicas.
IMAP and the executor are left out on purpose: one IMAP outage must not take every SMTP
replica out of the balancer. They are in ``/status`` and the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import text

from mailguard.config.model import RelayConfig
from mailguard.oauth.tokens import TokenSource
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
        relay_token: TokenSource | None = None,
    ) -> None:
        self._store = store
        self._relay = relay
        self._relay_token = relay_token if relay is not None else None

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
        if self._relay_token is not None:
            # A relay that greets but refuses our token (or none can be had) relays nothing.
            checks["oauth2:relay"] = self._relay_token.status
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
