"""One IMAP connection on aioimaplib, with its traps handled in one place.

- TLS: implicit (993) or STARTTLS (143: aioimaplib has no STARTTLS method, so the command is
  sent and the transport upgraded with ``loop.start_tls``); certificates are verified, with
  an optional CA file; ``plain`` only where the configuration allowed it.
- LOGIN or AUTHENTICATE PLAIN (RFC 4616, with the SASL-IR initial response of RFC 4959).
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
import base64
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import aioimaplib

from mailguard.imap import parse
from mailguard.imap.params import (
    ConnectParams,
    ImapAuthError,
    ImapCommandError,
    ImapConnectionLost,
    ImapError,
    encode_folder,
)
from mailguard.imap.parse import FolderState

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

    def __init__(self, client: Any, lost: asyncio.Future[None], timeout: float) -> None:
        self._client = client
        self._lost = lost
        self._timeout = timeout
        self.selected: str | None = None

    @classmethod
    async def open(cls, params: ConnectParams) -> ImapConnection:
        """Connect, secure, authenticate; raises :class:`ImapError` or ``OSError``."""
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[None] = loop.create_future()

        def on_lost(_exc: Exception | None) -> None:
            if not lost.done():
                lost.set_result(None)

        context = params.ssl_context() if params.tls == "implicit" else None
        client = aioimaplib.IMAP4(
            params.host,
            params.port,
            timeout=params.timeout,
            conn_lost_cb=on_lost,
            ssl_context=context,
        )
        conn = cls(client, lost, params.timeout)
        try:
            await conn._race(client.wait_hello_from_server(), "connect")
            if params.tls == "starttls":
                await conn._starttls(params)
            await conn._authenticate(params)
        except BaseException:
            await conn.close()
            raise
        return conn

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
            raise ImapConnectionLost(f"connection lost during {what}")
        # aioimaplib's queue now holds a command that will never finish: drop the connection.
        self._lost_by_timeout()
        raise ImapConnectionLost(f"{what} timed out after {self._timeout:g}s")

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

    async def _starttls(self, params: ConnectParams) -> None:
        protocol = self._client.protocol
        if not self.has("STARTTLS"):
            raise ImapError(f"{params.host} does not offer STARTTLS; refusing to log in in clear")
        await self.execute("STARTTLS")
        loop = asyncio.get_running_loop()
        transport = await self._race(
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
        await self._race(protocol.capability(), "CAPABILITY")

    async def _authenticate(self, params: ConnectParams) -> None:
        protocol = self._client.protocol
        use_plain = params.auth == "plain" or (
            params.auth == "auto" and self.has("AUTH=PLAIN") and self.has("SASL-IR")
        )
        if use_plain:
            token = f"\0{params.user}\0{params.password}".encode()
            command = aioimaplib.Command(
                "AUTHENTICATE",
                protocol.new_tag(),
                "PLAIN",
                base64.b64encode(token).decode("ascii"),
                loop=protocol.loop,
            )
            response = await self._race(
                protocol.execute(command, scrub=base64.b64encode(token).decode("ascii")),
                "AUTHENTICATE",
            )
        else:
            response = await self._race(protocol.login(params.user, params.password), "LOGIN")
        if response.result != "OK":
            raise ImapAuthError(f"{params.host} refused the login of {params.user}")
        protocol.state = aioimaplib.AUTH
        await self._race(protocol.capability(), "CAPABILITY")

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
        return parse.folder_state(response.lines)

    async def ensure_folder(self, folder: str) -> None:
        """CREATE the folder unless it exists (and subscribe to it so agents see it)."""
        response = await self.execute("LIST", '""', encode_folder(folder))
        if any(bytes(line).startswith(b"LIST ") for line in response.lines[:-1]):
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
        if uids:
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
                raise ImapConnectionLost("connection lost during IDLE")
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
