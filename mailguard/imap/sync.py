"""Reading a folder from its checkpoint: which UIDs are new, and moving the checkpoint on.

Per folder the store keeps (UIDVALIDITY, last UID). RFC 3501 section 2.3.1.1: UIDs only
grow under one UIDVALIDITY, so "new" is every UID above the last one read. A new UIDVALIDITY
(a restored or rebuilt mailbox) invalidates every UID: the folder is read again from the
start, and the engine's idempotency (mailbox, Message-ID, direction) keeps anything from
being acted on twice. On the very first start a folder is read back over a configurable
window (``backfill``), or not at all (agent folders: their past is no signal).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from mailguard.imap import metrics, parse
from mailguard.imap.connection import ImapConnection
from mailguard.imap.parse import FolderState
from mailguard.imap.ports import SyncStore

log = structlog.get_logger("mailguard.imap.sync")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Start(StrEnum):
    """Where a folder without a checkpoint starts."""

    BACKFILL = "backfill"
    END = "end"


def imap_date(when: datetime) -> str:
    """An RFC 3501 search date (``1-Feb-2026``), independent of the locale."""
    return f"{when.day}-{_MONTHS[when.month - 1]}-{when.year}"


@dataclass(frozen=True, slots=True)
class Handled:
    """What the consumer of one batch did: how many messages (in UID order) it handled,
    and what it still needs done on the connection (e.g. keywords) before the checkpoint."""

    count: int
    then: Callable[[ImapConnection], Awaitable[None]] | None = None


async def _settle(ahead: asyncio.Future[list[tuple[int, bytes]]]) -> None:
    """Let a FETCH ahead end (its batch is not used) when the reading stopped early.

    It is not cancelled while it runs: aioimaplib would keep the half-read command queued
    and the connection could not be logged out cleanly. The connection's timeout bounds
    the wait; an error of the FETCH is dropped, the one that stopped the reading counts.
    """
    try:
        await asyncio.wait({ahead})
    finally:
        if not ahead.done():
            ahead.cancel()
        elif not ahead.cancelled():
            ahead.exception()


DEFAULT_FETCH_AHEAD_BYTES = 64 * 1024**2
"""``imap.fetch_ahead_bytes``: the fetched messages held at once (see :meth:`FolderReader.read`)."""


class FolderReader:
    """Reads one folder of one mailbox on a connection, checkpointing as it goes."""

    def __init__(
        self,
        store: SyncStore,
        mailbox: str,
        folder: str,
        *,
        start: Start,
        backfill: timedelta,
        clock: Callable[[], datetime],
        fetch_ahead_bytes: int = DEFAULT_FETCH_AHEAD_BYTES,
    ) -> None:
        self._store = store
        self._cap = fetch_ahead_bytes
        self.mailbox = mailbox
        self.folder = folder
        self._start = start
        self._backfill = backfill
        self._clock = clock

    async def read(
        self,
        conn: ImapConnection,
        handle: Callable[[list[tuple[int, bytes]]], Awaitable[Handled]],
        stop: asyncio.Event | None = None,
        item: str = "BODY.PEEK[]",
        *,
        reselect: bool = True,
    ) -> int:
        """Select the folder and hand its new messages to ``handle`` in UID batches.

        While ``handle`` works on one batch, the next one is already being fetched (one
        batch ahead: the server and the network work while the engine decides) unless the
        two together would hold more than ``fetch_ahead_bytes`` of messages (the batches are
        cut by the messages' RFC822.SIZE, read first), so
        ``handle`` must not use ``conn``; what it needs done on the connection it returns
        as :attr:`Handled.then`, run once the connection is free again. The checkpoint
        is saved after a batch was handled in full, so a crash or a lost connection
        re-reads at most the batch in progress. Returns how many messages were handled;
        stops after the current batch once ``stop`` is set. With ``reselect`` False and the
        folder still selected, new mail is looked for by UID SEARCH alone (the poll beside
        IDLE), without trusting the UIDNEXT of the earlier SELECT.
        """
        if not reselect and conn.selected == self.folder and conn.state is not None:
            state = conn.state
            fresh = False
        else:
            state = await conn.select(self.folder)
            fresh = True
        chunks = await self._chunks(conn, await self._new_uids(conn, state, fresh))
        count = 0
        ahead: asyncio.Future[list[tuple[int, bytes]]] | None = None
        try:
            for index, (uids, held) in enumerate(chunks):
                batch = await ahead if ahead is not None else await conn.fetch_batch(uids, item)
                ahead = None
                if (
                    index + 1 < len(chunks)
                    and held + chunks[index + 1][1] <= self._cap
                    and not (stop and stop.is_set())
                ):
                    ahead = asyncio.ensure_future(conn.fetch_batch(chunks[index + 1][0], item))
                handled = await handle(batch) if batch else Handled(0)
                count += handled.count
                if ahead is not None:
                    # The connection runs one command at a time: wait for the FETCH ahead.
                    await asyncio.wait({ahead})
                if handled.then is not None:
                    await handled.then(conn)
                if handled.count < len(batch):
                    return count  # stopped part-way: no checkpoint for this batch
                if batch:
                    await self._save(state, max(uid for uid, _ in batch))
                if stop is not None and stop.is_set():
                    return count
            return count
        finally:
            if ahead is not None:
                await _settle(ahead)

    async def _chunks(self, conn: ImapConnection, uids: list[int]) -> list[tuple[list[int], int]]:
        """The FETCH batches of ``uids`` with their bytes: at most ``parse.FETCH_BATCH`` UIDs
        and half the fetch-ahead cap each (a bigger message alone), so that a batch and the
        one fetched ahead stay within the cap. One message needs no sizes: nothing is ahead."""
        if len(uids) < 2:
            return [(uids, 0)] if uids else []
        sizes: dict[int, int] = {}
        for part in parse.batches(uids, parse.SIZE_BATCH):
            response = await conn.uid("FETCH", parse.uid_set(part), "(UID RFC822.SIZE)")
            sizes.update(parse.fetched_sizes(response.lines))
        return parse.byte_batches(uids, sizes, self._cap // 2)

    async def _new_uids(
        self, conn: ImapConnection, state: FolderState, fresh: bool = True
    ) -> list[int]:
        checkpoint = await self._store.load_checkpoint(self.mailbox, self.folder)
        if checkpoint is not None and checkpoint.uidvalidity == state.uidvalidity:
            known_next = state.uidnext if fresh else None
            if known_next is not None and known_next <= checkpoint.last_uid + 1:
                return []
            found = await conn.search("UID", f"{checkpoint.last_uid + 1}:*")
            # "n:*" always includes the highest UID, even one below n (RFC 3501 6.4.8).
            return [uid for uid in found if uid > checkpoint.last_uid]
        if checkpoint is not None:
            metrics.UIDVALIDITY_CHANGES.labels(self.mailbox, self.folder).inc()
            log.warning(
                "uidvalidity_changed",
                mailbox=self.mailbox,
                folder=self.folder,
                old=checkpoint.uidvalidity,
                new=state.uidvalidity,
            )
            uids = await conn.search("ALL")
            if uids:
                return uids
        elif self._start is Start.BACKFILL and self._backfill > timedelta(0):
            since = self._clock() - self._backfill
            uids = await conn.search("SINCE", imap_date(since))
            log.info(
                "folder_backfill", mailbox=self.mailbox, folder=self.folder, messages=len(uids)
            )
            if uids:
                return uids
        # Nothing to read back: start after the folder's current last message.
        end = (state.uidnext - 1) if state.uidnext else max(await conn.search("ALL"), default=0)
        await self._save(state, end)
        return []

    async def _save(self, state: FolderState, last_uid: int) -> None:
        await self._store.save_checkpoint(
            self.mailbox,
            self.folder,
            state.uidvalidity,
            last_uid,
            state.highestmodseq,
            self._clock(),
        )
