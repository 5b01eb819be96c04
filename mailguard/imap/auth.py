"""Logging in on aioimaplib: LOGIN, AUTHENTICATE PLAIN, and OAuth2 (XOAUTH2, OAUTHBEARER).

aioimaplib 2.0.3 only knows an inline XOAUTH2 and never answers a continuation of
AUTHENTICATE: a refused token (the server's error challenge, ``+ <base64 JSON>``) leaves the
command waiting for ever. :class:`SaslCommand` answers continuations itself: with the
initial response where the server lacks SASL-IR (RFC 4959), and the error challenge with
the mechanism's abort response, after which the server sends its final NO. The reason in
the challenge goes into the error.

The protocol subclass remembers an unsolicited ``BYE`` (Exchange ends a session with
``BYE ... AccessTokenExpired`` when the token runs out), so a lost connection can say why.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aioimaplib

from mailguard.imap.params import ConnectParams, ImapAuthError, ImapError
from mailguard.oauth import sasl
from mailguard.oauth.tokens import OAuth2Error, Token

_T = TypeVar("_T")
Race = Callable[[Awaitable[_T], str], Awaitable[_T]]


class Protocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]
    """aioimaplib's protocol, remembering what an unsolicited ``BYE`` said."""

    bye: str | None = None
    logging_out = False

    def _handle_line(self, line: bytes, current_cmd: Any) -> Any:
        if line.startswith(b"* BYE") and not self.logging_out and current_cmd is None:
            self.bye = line[5:].strip().decode(errors="replace")[:200]
        return super()._handle_line(line, current_cmd)


class Client(aioimaplib.IMAP4):  # type: ignore[misc]
    """aioimaplib's client on :class:`Protocol`."""

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Callable[[Exception | None], None] | None = None,
        ssl_context: Any = None,
    ) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(
            local_loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        )


class SaslCommand(aioimaplib.Command):  # type: ignore[misc]
    """``AUTHENTICATE`` that answers the server's continuations (see the module docstring)."""

    def __init__(
        self, protocol: Any, mechanism: str, message: bytes, *, initial_inline: bool
    ) -> None:
        encoded = base64.b64encode(message).decode("ascii")
        args = (mechanism, encoded) if initial_inline else (mechanism,)
        super().__init__("AUTHENTICATE", protocol.new_tag(), *args, loop=protocol.loop)
        self._protocol = protocol
        self._initial: str | None = None if initial_inline else encoded
        self._abort = base64.b64encode(sasl.abort_response(mechanism)).decode("ascii")
        self.challenge: str | None = None

    def append_to_resp(self, line: bytes, result: str = "Pending") -> None:
        if result == "Pending" and isinstance(line, bytes) and line.startswith(b"+"):
            if self._initial is not None:
                reply, self._initial = self._initial, None
            else:
                self.challenge = sasl.error_reason(line[1:].strip())
                reply = self._abort
            self._protocol.transport.write(reply.encode("ascii") + b"\r\n")
            return
        super().append_to_resp(line, result)


async def starttls(
    protocol: Any,
    params: ConnectParams,
    race: Race[Any],
    execute: Callable[..., Awaitable[Any]],
) -> None:
    """STARTTLS (aioimaplib has no method for it): the command, then the transport upgraded."""
    if not has(protocol, "STARTTLS"):
        raise ImapError(f"{params.host} does not offer STARTTLS; refusing to log in in clear")
    await execute("STARTTLS")
    loop = asyncio.get_running_loop()
    transport = await race(
        loop.start_tls(
            protocol.transport,
            protocol,
            params.ssl_context(),
            server_hostname=params.host,
            ssl_handshake_timeout=params.timeout,
        ),
        "STARTTLS handshake",
    )
    protocol.transport = transport
    # RFC 3501 section 6.2.1: forget what was said before TLS, ask again.
    await race(protocol.capability(), "CAPABILITY")


def has(protocol: Any, capability: str) -> bool:
    return capability.upper() in {c.upper() for c in protocol.capabilities}


async def authenticate(protocol: Any, params: ConnectParams, race: Race[Any]) -> Token | None:
    """Log in as ``params`` says; returns the OAuth2 token used (None for a password)."""
    if params.auth == "oauth2":
        return await _oauth2(protocol, params, race)
    if params.password is None:
        raise ImapError("no password configured")
    use_plain = params.auth == "plain" or (
        params.auth == "auto" and has(protocol, "AUTH=PLAIN") and has(protocol, "SASL-IR")
    )
    if use_plain:
        token = f"\0{params.user}\0{params.password}".encode()
        encoded = base64.b64encode(token).decode("ascii")
        command = aioimaplib.Command(
            "AUTHENTICATE", protocol.new_tag(), "PLAIN", encoded, loop=protocol.loop
        )
        response = await race(protocol.execute(command, scrub=encoded), "AUTHENTICATE")
    else:
        response = await race(protocol.login(params.user, params.password), "LOGIN")
    if response.result != "OK":
        raise ImapAuthError(f"{params.host} refused the login of {params.user}")
    await _authenticated(protocol, race)
    return None


async def _oauth2(protocol: Any, params: ConnectParams, race: Race[Any]) -> Token:
    source = params.token
    if source is None:
        raise ImapError("auth: oauth2 without a token source")
    mechanism = sasl.choose(protocol.capabilities)
    if mechanism is None:
        raise ImapAuthError(
            f"{params.host} offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2: cannot use OAuth2",
            refused=False,
        )
    try:
        token = await source.token()
    except OAuth2Error as exc:
        raise ImapAuthError(f"no OAuth2 token for {params.user}: {exc}", refused=False) from exc
    if mechanism == sasl.OAUTHBEARER:
        message = sasl.oauthbearer(params.user, token.value, params.host, params.port)
    else:
        message = sasl.xoauth2(params.user, token.value)
    command = SaslCommand(protocol, mechanism, message, initial_inline=has(protocol, "SASL-IR"))
    response = await race(protocol.execute(command, scrub=token.value), "AUTHENTICATE")
    if response.result != "OK":
        source.refused(token.value)  # the next attempt asks the provider for a new one
        said = bytes(response.lines[-1]).decode(errors="replace") if response.lines else ""
        reason = f"{command.challenge}; " if command.challenge else ""
        raise ImapAuthError(
            f"{params.host} refused the OAuth2 token of {params.user} ({mechanism}): "
            f"{reason}{response.result} {said}".strip()
        )
    source.accepted(token.value)
    await _authenticated(protocol, race)
    return token


async def _authenticated(protocol: Any, race: Race[Any]) -> None:
    protocol.state = aioimaplib.AUTH
    # The capabilities after authentication differ (MOVE, IDLE, ...): ask again.
    await race(protocol.capability(), "CAPABILITY")
