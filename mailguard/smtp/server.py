"""The proxy's listener, served from the daemon's own event loop (not aiosmtpd's Controller).

Refusals come first, so mailguard is never an open relay:

* a client outside ``allowed_networks`` gets ``554 5.7.1`` as its greeting (RFC 5321 §3.1)
  and the connection is closed before any command;
* more than ``max_connections`` sessions: ``421`` and close;
* with ``auth_users`` AUTH (PLAIN/LOGIN, only after TLS) is required before MAIL;
  ``require_tls`` refuses MAIL before STARTTLS;
* messages over ``max_message_size`` get ``552`` (aiosmtpd, after reading the data).

8BITMIME and SMTPUTF8 are announced and the client's MAIL parameters are passed on.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import ssl
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from prometheus_client import Counter, Gauge

from mailguard.config.model import ProxyConfig
from mailguard.errors import MailguardError
from mailguard.ops.metrics import CERTIFICATE_EXPIRY
from mailguard.smtp import replies
from mailguard.smtp.handler import ProxyHandler
from mailguard.smtp.session import StreamingDataSMTP

log = structlog.get_logger("mailguard.smtp.server")

SMTP_SESSIONS = Gauge("mailguard_smtp_sessions", "Open client sessions of the proxy")
SMTP_REFUSED = Counter(
    "mailguard_smtp_refused_connections", "Client connections refused, by reason", ["reason"]
)
SMTP_AUTH_FAILURES = Counter("mailguard_smtp_auth_failures", "Failed AUTH attempts")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ListenError(MailguardError):
    """The proxy cannot listen where it is configured to (port taken, address not local)."""

    def __init__(self, host: str, port: int, problem: str) -> None:
        self.host = host
        self.port = port
        self.problem = problem
        super().__init__(
            f"the SMTP proxy cannot listen on {host}:{port}: {problem} "
            "(proxy.listen_host/listen_port, or proxy.enabled: false)"
        )


class Gate:
    """Who may connect, and how many at once."""

    def __init__(self, networks: Sequence[Network], max_connections: int) -> None:
        self._networks = tuple(networks)
        self._max = max_connections
        self.active = 0
        self.sessions: set[ProxySMTP] = set()

    def allowed(self, peer: Any) -> bool:
        """True if the peer's address is in one of the allowed networks."""
        try:
            address = ipaddress.ip_address(peer[0])
        except (TypeError, ValueError, IndexError):
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self._networks)

    def refusal(self, peer: Any) -> str | None:
        """The greeting that refuses this peer, or None to serve it."""
        if not self.allowed(peer):
            SMTP_REFUSED.labels("network").inc()
            log.warning("smtp_client_refused", peer=str(peer[0] if peer else peer))
            return replies.S554_NOT_ALLOWED
        if self.active >= self._max:
            SMTP_REFUSED.labels("connections").inc()
            return replies.S421_TOO_MANY
        return None


class Authenticator:
    """Checks AUTH PLAIN/LOGIN credentials against ``proxy.auth_users``."""

    def __init__(self, users: dict[str, str]) -> None:
        self._users = users

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if mechanism not in ("PLAIN", "LOGIN") or not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = data.login.decode("utf-8", errors="replace")
        expected = self._users.get(user)
        given = data.password
        ok = expected is not None and hmac.compare_digest(expected.encode(), given)
        if not ok:
            SMTP_AUTH_FAILURES.inc()
            log.warning("smtp_auth_failed", user=user)
        # handled=False: aiosmtpd answers 535 itself (handled=True would mean we did).
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


class ProxySMTP(StreamingDataSMTP):
    """aiosmtpd's SMTP session with the network gate and the connection count."""

    def __init__(
        self, handler: ProxyHandler, gate: Gate, *, implicit_tls: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(handler, **kwargs)
        self._gate = gate
        if implicit_tls:
            # The whole session is TLS from the first byte, which aiosmtpd (knowing only
            # STARTTLS) cannot see: AUTH is allowed at once.
            self._auth_require_tls = False

    async def _handle_client(self) -> None:
        peer = self.session.peer if self.session is not None else None
        refusal = self._gate.refusal(peer)
        if refusal is not None:
            await self.push(refusal)
            if self.transport is not None:
                self.transport.close()
            return
        self._gate.active += 1
        self._gate.sessions.add(self)
        SMTP_SESSIONS.set(self._gate.active)
        try:
            await super()._handle_client()
        finally:
            self._gate.active -= 1
            self._gate.sessions.discard(self)
            SMTP_SESSIONS.set(self._gate.active)


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server context from the configured PEM certificate and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def certificate_expiry(cert: str) -> datetime:
    """When the first certificate of the PEM file ``cert`` (the server's own) expires."""
    with open(cert, "rb") as handle:
        first = x509.load_pem_x509_certificate(handle.read())
    return first.not_valid_after_utc


class ProxyServer:
    """The listening socket and its sessions; ``start`` and ``close`` on the running loop."""

    def __init__(self, config: ProxyConfig, handler: ProxyHandler) -> None:
        self._config = config
        self._handler = handler
        self._gate = Gate(config.allowed_networks, config.max_connections)
        self._server: asyncio.Server | None = None
        self._tls: ssl.SSLContext | None = None
        # The certificate served to new sessions and its expiry, for /status.
        self.certificate: dict[str, str] | None = None
        if config.tls_cert is not None and config.tls_key is not None:
            self._tls = server_tls_context(str(config.tls_cert), str(config.tls_key))
            self._loaded(str(config.tls_cert))
        users = {u: p.get_secret_value() for u, p in config.auth_users.items()}
        self._authenticator = Authenticator(users) if users else None

    def reload_tls(self, cert: str, key: str) -> datetime | None:
        """Load ``cert`` and ``key`` for the sessions that start from now on; returns the new
        certificate's expiry (None when the proxy has no TLS: that takes a restart).

        Open sessions keep the certificate they negotiated. The pair is first loaded into a
        context of its own, so a bad file or a key that does not match raises here
        (``ssl.SSLError``, ``OSError``) and the certificate in use stays; then into the
        context the listener serves from (the same object for STARTTLS and implicit TLS).
        """
        if self._tls is None:
            return None
        server_tls_context(cert, key)
        certificate_expiry(cert)  # a file that is no certificate fails before the swap
        self._tls.load_cert_chain(cert, key)
        return self._loaded(cert)

    def _loaded(self, cert: str) -> datetime:
        expiry = certificate_expiry(cert)
        if self.certificate is not None and self.certificate["file"] != cert:
            CERTIFICATE_EXPIRY.remove(self.certificate["file"])
        CERTIFICATE_EXPIRY.labels(cert).set(expiry.timestamp())
        self.certificate = {"file": cert, "expires": expiry.isoformat()}
        return expiry

    @property
    def active_sessions(self) -> int:
        """Client sessions being served now."""
        return self._gate.active

    def _session(self) -> ProxySMTP:
        cfg = self._config
        implicit = cfg.tls_mode == "implicit"
        return ProxySMTP(
            self._handler,
            self._gate,
            implicit_tls=implicit,
            hostname=cfg.hostname,
            data_size_limit=cfg.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            # With implicit TLS the session is encrypted from the start: no STARTTLS offer.
            tls_context=None if implicit else self._tls,
            require_starttls=cfg.require_tls and not implicit,
            auth_required=self._authenticator is not None,
            auth_require_tls=True,
            authenticator=self._authenticator,
            timeout=300,
        )

    async def start(self, port: int | None = None) -> int:
        """Listen on the configured port (or ``port``; 0 picks a free one); return it."""
        cfg = self._config
        loop = asyncio.get_running_loop()
        ssl_context = self._tls if cfg.tls_mode == "implicit" else None
        listen_port = cfg.listen_port if port is None else port
        try:
            self._server = await loop.create_server(
                self._session, cfg.listen_host, listen_port, ssl=ssl_context
            )
        except OSError as exc:
            raise ListenError(cfg.listen_host, listen_port, exc.strerror or str(exc)) from exc
        port = int(self._server.sockets[0].getsockname()[1])
        log.info(
            "smtp_proxy_listening",
            host=cfg.listen_host,
            port=port,
            tls=cfg.tls_mode if self._tls else "none",
            auth=self._authenticator is not None,
        )
        return port

    async def close(self, grace: float = 10.0) -> None:
        """Stop accepting, let messages being decided or relayed finish within ``grace``
        seconds, then drop every session (a client mid-DATA got no 250 and retries)."""
        if self._server is None:
            return
        self._server.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        # Polling keeps the handler and the sessions free of shutdown bookkeeping; it runs
        # once, at shutdown.
        while self._handler.in_flight and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        for session in list(self._gate.sessions):
            if session.transport is not None:
                session.transport.close()
        while self._gate.active and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        await self._server.wait_closed()
        self._server = None
