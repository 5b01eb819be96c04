"""One IMAP connection on aioimaplib, with its traps handled in one place.

- TLS: implicit (993) or STARTTLS (143: aioimaplib has no STARTTLS method, so the command is
  sent and the transport upgraded with ``loop.start_tls``); certificates are verified, with
  an optional CA file; ``plain`` only where the configuration allowed it.
- LOGIN, AUTHENTICATE PLAIN (RFC 4616, with the SASL-IR initial response of RFC 4959), or
  OAuth2 (XOAUTH2 or OAUTHBEARER, by the server's capabilities; :mod:`mailguard.imap.auth`).
  A connection logged in with a token says when it must be replaced (:meth:`renew_in`).
- Keywords only where the selected folder's PERMANENTFLAGS allow them (RFC 3501 7.1): a STORE
  never carries a keyword there, and a refused keyword STORE is not sent again
  (:mod:`mailguard.imap.capabilities`).
- Every command races the connection-lost callback and a timeout: aioimaplib fails no
  pending command when the connection drops, so without the race a wait hangs forever. A
  command that timed out leaves aioimaplib's command queue in an unknown state, so the
  connection is then closed and must be replaced.
- One command at a time: callers own a connection from one task.
- UID FETCH in batches of at most ``parse.FETCH_BATCH`` (50): its parser recurses once per
  line, and its cost per message grows with the size of a response.
- ``close`` really closes the socket and waits for ``connection_lost``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import aioimaplib

from mailguard.imap import auth, parse
from mailguard.imap.params import (
    ConnectParams,
    ImapAuthError,
    ImapCommandError,
    ImapConnectionLost,
    ImapError,
    encode_folder,
)
from mailguard.imap.parse import FolderState
from mailguard.oauth.tokens import Token

__all__ = [
    "ConnectParams",
    "ImapAuthError",
    "ImapCommandError",
    "ImapConnection",
    "ImapConnectionLost",
    "ImapError",
    "encode_folder",
]

_T = TypeVar("_T")
_CLOSE_TIMEOUT = 2.0


class ImapConnection:
    """A logged-in connection; build it with :meth:`open`, end it with :meth:`close`."""

    def __init__(self, client: Any, lost: asyncio.Future[None], params: ConnectParams) -> None:
        self._client = client
        self._lost = lost
        self._timeout = params.timeout
        self._params = params
        self._token: Token | None = None
        # Folders whose keyword STORE the server refused, when no capabilities object is
        # shared (a bare connection): never sent again on this connection either.
        self._refused: set[str] = set()
        self.selected: str | None = None
        self.state: FolderState | None = None

    @classmethod
    async def open(cls, params: ConnectParams) -> ImapConnection:
        """Connect, secure, authenticate; raises :class:`ImapError` or ``OSError``."""
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[None] = loop.create_future()

        def on_lost(_exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)

        context = params.ssl_context() if params.tls == "implicit" else None
        client = auth.Client(
            params.host,
            params.port,
            timeout=params.timeout,
            conn_lost_cb=on_lost,
            ssl_context=context,
        )
        conn = cls(client, lost, params)
        try:
            await conn._race(client.wait_hello_from_server(), "connect")
            if params.tls == "starttls":
                await auth.starttls(client.protocol, params, conn._race, conn.execute)
            conn._token = await auth.authenticate(client.protocol, params, conn._race)
        except BaseException:
            await conn.close()
            raise
        return conn

    def renew_in(self) -> float | None:
        """Seconds until this connection's OAuth2 token is due for renewal (None: never).

        The watcher ends the connection by then and opens a new one with a new token, so
        no session runs on an expired token (Exchange would end it with BYE).
        """
        return None if self._token is None else self._token.seconds_left(time.monotonic())

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(self._client.protocol.capabilities)

    def has(self, capability: str) -> bool:
        return capability.upper() in {c.upper() for c in self._client.protocol.capabilities}

    @property
    def alive(self) -> bool:
        return not self._lost.done() and self._client.protocol.state in (
            aioimaplib.AUTH,
            aioimaplib.SELECTED,
        )

    async def _race(self, awaitable: Awaitable[_T], what: str) -> _T:
        """Await ``awaitable`` unless the connection drops or the timeout passes first."""
        task = asyncio.ensure_future(awaitable)
        waiters: set[asyncio.Future[Any]] = {task, self._lost}
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=self._timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            task.cancel()
            raise
        if task in done:
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if self._lost.done():
            raise self._lost_error(f"connection lost during {what}")
        # aioimaplib's queue now holds a command that will never finish: drop the connection.
        self._lost_by_timeout()
        raise ImapConnectionLost(f"{what} timed out after {self._timeout:g}s")

    def _lost_error(self, message: str) -> ImapConnectionLost:
        bye = self._client.protocol.bye
        if bye is not None and self._token is not None and self._params.token is not None:
            # A session ended by the server while we were logged in with a token: most
            # likely its expiry (Exchange: "BYE ... AccessTokenExpired"). The next
            # connection must not present the same token again.
            self._params.token.expired(self._token.value)
        return ImapConnectionLost(message, bye)

    def _lost_by_timeout(self) -> None:
        transport = self._client.protocol.transport
        if transport is not None:
            transport.abort()

    async def execute(self, name: str, *args: str, untagged: str | None = None) -> Any:
        """Send one command; return its response, raising on NO/BAD."""
        protocol = self._client.protocol
        command = aioimaplib.Command(
            name, protocol.new_tag(), *args, untagged_resp_name=untagged, loop=protocol.loop
        )
        response = await self._race(protocol.execute(command), name)
        return self._check(name, response)

    async def uid(self, name: str, *args: str) -> Any:
        """``UID <name> ...`` (FETCH, STORE, COPY, MOVE, EXPUNGE, SEARCH)."""
        protocol = self._client.protocol
        tag = protocol.new_tag()
        if name == "FETCH":
            command: Any = aioimaplib.FetchCommand(tag, *args, prefix="UID", loop=protocol.loop)
        else:
            untagged = "FETCH" if name == "STORE" else None
            command = aioimaplib.Command(
                name, tag, *args, prefix="UID", untagged_resp_name=untagged, loop=protocol.loop
            )
        response = await self._race(protocol.execute(command), f"UID {name}")
        return self._check(f"UID {name}", response)

    @staticmethod
    def _check(name: str, response: Any) -> Any:
        if response.result != "OK":
            text = bytes(response.lines[-1]).decode(errors="replace") if response.lines else ""
            raise ImapCommandError(name, response.result, text)
        return response

    # -- folders -------------------------------------------------------------------------

    async def select(self, folder: str) -> FolderState:
        """SELECT (with CONDSTORE where offered, for HIGHESTMODSEQ)."""
        protocol = self._client.protocol
        args = [encode_folder(folder)]
        if self.has("CONDSTORE"):
            args.append("(CONDSTORE)")
        try:
            response = await self.execute("SELECT", *args)
        except ImapCommandError:
            self.selected = None
            protocol.state = aioimaplib.AUTH
            raise
        protocol.state = aioimaplib.SELECTED
        self.selected = folder
        self.state = parse.folder_state(response.lines)
        if self._params.capabilities is not None:
            self._params.capabilities.selected(folder, self.state)
        return self.state

    async def list_folders(self) -> list[tuple[frozenset[str], str]]:
        """Every folder with its attributes (``LIST "" "*"``; RFC 6154 marks ``\\Sent``)."""
        response = await self.execute("LIST", '""', '"*"')
        return parse.list_entries(response.lines)

    def keywords_allowed(self, folder: str) -> bool:
        """Whether a keyword may be stored in ``folder`` (the selected one, usually)."""
        caps = self._params.capabilities
        known = caps.keywords(folder) if caps is not None else None
        if known is not None:
            return known
        if folder in self._refused:
            return False
        return self.state is None or folder != self.selected or self.state.keywords

    async def ensure_folder(self, folder: str) -> None:
        """CREATE the folder unless it exists (and subscribe to it so agents see it)."""
        response = await self.execute("LIST", '""', encode_folder(folder))
        if parse.list_entries(response.lines):
            return
        try:
            await self.execute("CREATE", encode_folder(folder))
        except ImapCommandError as exc:
            # Another client (or replica) may have created it in between: ALREADYEXISTS.
            if "ALREADYEXISTS" not in exc.text.upper():
                raise
        with contextlib.suppress(ImapCommandError):
            await self.execute("SUBSCRIBE", encode_folder(folder))

    # -- messages ------------------------------------------------------------------------

    async def search(self, *criteria: str) -> list[int]:
        """UID SEARCH in the selected folder."""
        response = await self.uid("SEARCH", *criteria)
        return parse.search_uids(response.lines)

    async def search_message_id(self, message_id: str) -> list[int]:
        """UIDs in the selected folder whose Message-ID header is ``<message_id>``."""
        return await self.search("HEADER", "Message-ID", parse.quote(f"<{message_id}>"))

    async def fetch(
        self, uids: Sequence[int], item: str = "BODY.PEEK[]"
    ) -> AsyncGenerator[list[tuple[int, bytes]], None]:
        """Yield (UID, bytes) per batch of at most 50 UIDs; ``BODY.PEEK`` leaves \\Seen alone."""
        for batch in parse.batches(sorted(uids)):
            yield await self.fetch_batch(batch, item)

    async def fetch_batch(
        self, uids: Sequence[int], item: str = "BODY.PEEK[]"
    ) -> list[tuple[int, bytes]]:
        """One ``UID FETCH`` of at most ``parse.FETCH_BATCH`` UIDs: (UID, bytes)."""
        if len(uids) > parse.FETCH_BATCH:
            raise ValueError(f"{len(uids)} UIDs in one FETCH: at most {parse.FETCH_BATCH}")
        response = await self.uid("FETCH", parse.uid_set(uids), f"(UID {item})")
        return parse.fetched_literals(response.lines)

    async def add_flags(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        """Add flags in the selected folder; keywords only where it stores them.

        A refused STORE with a keyword is retried once without it (Exchange refuses
        ``\\Flagged`` and a keyword together) and the folder remembered, so the keyword is
        not sent again: a repeated refusal would otherwise fail the same work for ever.
        """
        folder = self.selected or ""
        system = [f for f in flags if f.startswith("\\")]
        wanted = list(flags) if self.keywords_allowed(folder) else system
        if not uids or not wanted:
            return
        try:
            await self._store(uids, wanted)
        except ImapCommandError as exc:
            if wanted == system:
                raise
            self._refused.add(folder)
            if self._params.capabilities is not None:
                self._params.capabilities.refused(folder, exc.text)
            if system:
                await self._store(uids, system)

    async def _store(self, uids: Sequence[int], flags: Sequence[str]) -> None:
        await self.uid("STORE", parse.uid_set(uids), "+FLAGS.SILENT", f"({' '.join(flags)})")

    async def move(self, uids: Sequence[int], folder: str) -> None:
        """Move with UID MOVE (RFC 6851), else UID COPY + \\Deleted + UID EXPUNGE (RFC 4315).

        Never a plain EXPUNGE: it would also remove messages an agent marked \\Deleted.
        """
        if not uids:
            return
        target = encode_folder(folder)
        if self.has("MOVE"):
            await self.uid("MOVE", parse.uid_set(uids), target)
            return
        if not self.has("UIDPLUS"):
            raise ImapError("the server has neither MOVE nor UIDPLUS: cannot move safely")
        await self.uid("COPY", parse.uid_set(uids), target)
        await self.delete(uids)

    async def delete(self, uids: Sequence[int]) -> None:
        """\\Deleted and UID EXPUNGE of exactly these UIDs (needs UIDPLUS)."""
        if not uids:
            return
        if not self.has("UIDPLUS"):
            raise ImapError("the server lacks UIDPLUS: cannot expunge single messages safely")
        await self.add_flags(uids, ["\\Deleted"])
        await self.uid("EXPUNGE", parse.uid_set(uids))

    async def copy(self, uids: Sequence[int], folder: str) -> None:
        if uids:
            await self.uid("COPY", parse.uid_set(uids), encode_folder(folder))

    async def append(
        self,
        folder: str,
        raw: bytes,
        flags: Sequence[str] = (),
        internal_date: datetime | None = None,
    ) -> tuple[int, int] | None:
        """APPEND; returns (UIDVALIDITY, UID) from APPENDUID where the server sends it."""
        protocol = self._client.protocol
        response = await self._race(
            protocol.append(
                raw,
                encode_folder(folder),
                f"({' '.join(flags)})" if flags else None,
                internal_date,
                timeout=self._timeout,
            ),
            "APPEND",
        )
        self._check("APPEND", response)
        return parse.append_uid(response.lines)

    # -- IDLE ----------------------------------------------------------------------------

    async def idle(self, renew_after: float, wake: asyncio.Event | None = None) -> bool:
        """IDLE (RFC 2177) until the server pushes, ``renew_after`` seconds pass or ``wake`` is set.

        Returns True if the server pushed something. The connection must have a folder
        selected; DONE is sent and the IDLE command completed before this returns.
        """
        protocol = self._client.protocol
        while not protocol.idle_queue.empty():
            protocol.idle_queue.get_nowait()
        idle_task = asyncio.ensure_future(protocol.idle())
        ack = asyncio.ensure_future(protocol.wait_for_idle_response())
        try:
            await self._race(
                asyncio.wait({idle_task, ack}, return_when=asyncio.FIRST_COMPLETED), "IDLE"
            )
            if idle_task.done():
                self._check("IDLE", idle_task.result())
                return False
            push = asyncio.ensure_future(protocol.idle_queue.get())
            waiters: set[asyncio.Future[Any]] = {push, idle_task, self._lost}
            woken = None
            if wake is not None:
                woken = asyncio.ensure_future(wake.wait())
                waiters.add(woken)
            try:
                done, _ = await asyncio.wait(
                    waiters, timeout=renew_after, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                push.cancel()
                if woken is not None:
                    woken.cancel()
            if self._lost.done():
                raise self._lost_error("connection lost during IDLE")
            pushed = push in done and not push.cancelled()
            if not idle_task.done():
                protocol.idle_done()
            self._check("IDLE", await self._race(asyncio.shield(idle_task), "IDLE DONE"))
            return pushed
        finally:
            ack.cancel()
            if not idle_task.done():
                idle_task.cancel()

    # -- closing -------------------------------------------------------------------------

    async def close(self) -> None:
        """Log out if possible, close the socket and wait until it is really closed."""
        client = self._client
        protocol = client.protocol
        graceful = False
        if not self._lost.done() and protocol.state in (aioimaplib.AUTH, aioimaplib.SELECTED):
            if protocol.has_pending_idle_command():
                protocol.idle_done()
            protocol.logging_out = True
            with contextlib.suppress(ImapError, aioimaplib.AioImapException, OSError):
                await self._race(protocol.logout(), "LOGOUT")
                graceful = True
        transport = protocol.transport
        if transport is None:
            # The connection never came up (refused, or the TLS handshake failed).
            with contextlib.suppress(BaseException):
                await client._client_task
            transport = protocol.transport
            if transport is None:
                return
        if graceful:
            transport.close()
        else:
            # A server that is not reading (e.g. delaying a failed login) would never
            # answer TLS close_notify: drop the socket at once.
            transport.abort()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._lost), _CLOSE_TIMEOUT)
        if not self._lost.done():
            transport.abort()
