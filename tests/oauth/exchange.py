"""A thin IMAP proxy in front of Dovecot that behaves as Exchange Online does (fault injection).

Dovecot cannot be made to refuse keywords, so this proxy, between mailguard and a real
Dovecot, rewrites what Exchange does differently:

- ``PERMANENTFLAGS`` without ``\\*`` (``strip_keywords``), and a STORE carrying a keyword
  answered ``BAD Command Argument Error. 11`` and not passed on (``refuse_keywords``;
  with ``strip_keywords`` off the server claims keywords and still refuses them);
- no ``SPECIAL-USE`` capability (LIST still marks ``\\Sent``), no OAUTHBEARER, optionally no
  ``SASL-IR`` (then the initial response is sent after an empty challenge);
- ``BYE Session invalidated - AccessTokenExpired`` when the session's token (read from
  the client's XOAUTH2 response) expires;
- optionally IDLE that misses new mail (``drop_idle_pushes``: EXISTS/RECENT are dropped
  while the client idles).

Literals (``{n}``) pass through unchanged in both directions. Counters say what happened:
``refused_stores``, ``keyword_stores`` (keyword STOREs the client sent), ``byes``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
from dataclasses import dataclass, field

import jwt

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_STORE = re.compile(rb"^(\S+) (?:UID )?STORE \S+ [+-]?FLAGS(?:\.SILENT)? \((.*)\)", re.IGNORECASE)
_AUTH = re.compile(rb"^(\S+) AUTHENTICATE XOAUTH2(?: (\S+))?\r\n$", re.IGNORECASE)
_IDLE = re.compile(rb"^\S+ IDLE\r\n$", re.IGNORECASE)
_PUSH = re.compile(rb"^\* \d+ (EXISTS|RECENT)\r\n$", re.IGNORECASE)
_PERMANENT = re.compile(rb"(\[PERMANENTFLAGS \([^)]*?) ?\\\*([^)]*\)\])")
_CAPABILITY = re.compile(rb"(CAPABILITY [^\]\r\n]*)")
EXCHANGE_REFUSAL = b"BAD Command Argument Error. 11"
ALLOWED_KEYWORDS = {b"$mdnsent"}


@dataclass
class ExchangeProxy:
    """Listens on 127.0.0.1 and forwards each connection to ``upstream`` (plain IMAP)."""

    upstream_port: int
    strip_keywords: bool = True
    refuse_keywords: bool = True
    sasl_ir: bool = True
    drop_idle_pushes: bool = False
    refused_stores: int = 0
    keyword_stores: int = 0
    byes: int = 0
    logins: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> ExchangeProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=2**22)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            server_r, server_w = await asyncio.open_connection(
                "127.0.0.1", self.upstream_port, limit=2**22
            )
            session = _Session(self, client_w, server_w)
            await asyncio.gather(session.from_client(client_r), session.from_server(server_r))
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            client_w.close()
            with contextlib.suppress(Exception):
                await client_w.wait_closed()


class _Session:
    def __init__(
        self, proxy: ExchangeProxy, client: asyncio.StreamWriter, server: asyncio.StreamWriter
    ) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.idling = False
        self.to_client = asyncio.Lock()
        self.expiry: asyncio.TimerHandle | None = None
        self.pending_auth: bytes | None = None  # the tag of an AUTHENTICATE without SASL-IR

    def _close(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        self.server.close()
        self.client.close()

    async def from_client(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                if self.pending_auth is not None and not line.startswith(b"*"):
                    self._watch_token(line.strip())
                    self.pending_auth = None
                elif await self._client_line(line):
                    continue
                self.server.write(line)
                if match := _LITERAL.search(line):
                    self.server.write(await reader.readexactly(int(match.group(1))))
                await self.server.drain()
        finally:
            self._close()

    async def _client_line(self, line: bytes) -> bool:
        """Handle one command line; True when it was answered here (not forwarded)."""
        if _IDLE.match(line):
            self.idling = True
        elif line.strip().upper() == b"DONE":
            self.idling = False
        if match := _AUTH.match(line):
            self.proxy.logins += 1
            if match.group(2):
                self._watch_token(match.group(2))
            else:
                self.pending_auth = match.group(1)
        store = _STORE.match(line)
        if store and self.proxy.refuse_keywords:
            flags = store.group(2).split()
            if any(not f.startswith(b"\\") and f.lower() not in ALLOWED_KEYWORDS for f in flags):
                self.proxy.keyword_stores += 1
                self.proxy.refused_stores += 1
                async with self.to_client:
                    self.client.write(store.group(1) + b" " + EXCHANGE_REFUSAL + b"\r\n")
                    await self.client.drain()
                return True
        return False

    def _watch_token(self, encoded: bytes) -> None:
        try:
            message = base64.b64decode(encoded).decode()
            token = message.split("auth=Bearer ", 1)[1].split("\x01", 1)[0]
            exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (ValueError, IndexError, KeyError, jwt.PyJWTError):
            return
        loop = asyncio.get_running_loop()
        self.expiry = loop.call_later(
            max(0.0, exp - time.time()), lambda: loop.create_task(self._bye())
        )

    async def _bye(self) -> None:
        async with self.to_client:
            self.proxy.byes += 1
            with contextlib.suppress(ConnectionError):
                self.client.write(b"* BYE Session invalidated - AccessTokenExpired\r\n")
                await self.client.drain()
            self._close()

    async def from_server(self, reader: asyncio.StreamReader) -> None:
        try:
            while line := await reader.readline():
                async with self.to_client:
                    if self.idling and self.proxy.drop_idle_pushes and _PUSH.match(line):
                        continue
                    self.client.write(self._rewrite(line))
                    if match := _LITERAL.search(line):
                        self.client.write(await reader.readexactly(int(match.group(1))))
                    await self.client.drain()
        finally:
            self._close()

    def _rewrite(self, line: bytes) -> bytes:
        if self.proxy.strip_keywords:
            line = _PERMANENT.sub(rb"\1\2", line)
        if b"CAPABILITY" in line.upper():
            line = _CAPABILITY.sub(lambda m: self._capabilities(m.group(1)), line)
        return line

    def _capabilities(self, text: bytes) -> bytes:
        drop = {b"SPECIAL-USE", b"AUTH=OAUTHBEARER", b"STARTTLS", b"LOGINDISABLED"}
        if not self.proxy.sasl_ir:
            drop.add(b"SASL-IR")
        return b" ".join(word for word in text.split(b" ") if word.upper() not in drop)
