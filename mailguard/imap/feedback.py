"""Agent feedback: a message moved into the handled folder, or tagged with the handled keyword.

Either resolves the customer's escalation through the engine's handled path
(``Engine.handled``). New arrivals in the handled folder come from its checkpoint. Keywords
can be set on any old message, so for them the watcher remembers the folder's
HIGHESTMODSEQ (RFC 7162 CONDSTORE) in the checkpoint and asks only for messages changed
since; without CONDSTORE it remembers the tagged UIDs in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.utils import getaddresses

import structlog

from mailguard.engine.service import Engine
from mailguard.imap import metrics
from mailguard.imap.connection import ImapCommandError, ImapConnection
from mailguard.imap.ports import SyncStore
from mailguard.imap.sync import FolderReader, Handled, Start

log = structlog.get_logger("mailguard.imap.feedback")

NOTE_HEADER = "X-Mailguard-Note"
HEADERS_ITEM = f"BODY.PEEK[HEADER.FIELDS (FROM {NOTE_HEADER.upper()})]"


def senders(headers: Iterable[bytes]) -> list[str]:
    """The From addresses of header blocks, skipping mailguard's own notes."""
    parser = BytesHeaderParser()
    found: list[str] = []
    for raw in headers:
        msg = parser.parsebytes(raw)
        if msg[NOTE_HEADER] is not None:
            continue
        for _name, address in getaddresses([str(msg["From"] or "")]):
            if address and address.lower() not in found:
                found.append(address.lower())
    return found


class Feedback:
    """Turns agents' handled signals in one mailbox into ``Engine.handled`` calls."""

    def __init__(
        self,
        engine: Engine,
        store: SyncStore,
        mailbox: str,
        *,
        handled_folder: str,
        keyword: str,
        keyword_folders: tuple[str, ...],
        clock: Callable[[], datetime],
        keywords: Callable[[str], bool | None] = lambda _folder: None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._mailbox = mailbox
        self._keyword = keyword
        self._keyword_folders = keyword_folders
        self._clock = clock
        self._keywords = keywords
        self._handled = FolderReader(
            store,
            mailbox,
            handled_folder,
            start=Start.END,
            backfill=timedelta(0),
            clock=clock,
        )
        self._seen: dict[tuple[str, int], set[int]] = {}

    async def poll(self, conn: ImapConnection) -> int:
        """Read both signals once; returns how many customers were marked handled."""
        count = 0

        async def handle(batch: list[tuple[int, bytes]]) -> Handled:
            nonlocal count
            count += await self._resolve(
                senders(raw for _, raw in batch), f"agent:folder {self._handled.folder}"
            )
            return Handled(len(batch))

        try:
            await self._handled.read(conn, handle, item=HEADERS_ITEM)
        except ImapCommandError as exc:
            # Typically: the folder does not exist (yet). Agents cannot use it then either.
            log.info(
                "folder_unavailable",
                mailbox=self._mailbox,
                folder=self._handled.folder,
                error=str(exc),
            )
        for folder in self._keyword_folders:
            if self._keywords(folder) is False:
                # The server stores no keywords there: agents cannot set one either.
                continue
            try:
                count += await self._keyword_scan(conn, folder)
            except ImapCommandError as exc:
                log.info("folder_unavailable", mailbox=self._mailbox, folder=folder, error=str(exc))
        return count

    async def _keyword_scan(self, conn: ImapConnection, folder: str) -> int:
        state = await conn.select(folder)
        key = f"keyword:{self._keyword}:{folder}"
        checkpoint = await self._store.load_checkpoint(self._mailbox, key)
        if state.highestmodseq is not None:
            criteria: tuple[str, ...] = ("KEYWORD", self._keyword)
            if (
                checkpoint is not None
                and checkpoint.uidvalidity == state.uidvalidity
                and checkpoint.highestmodseq is not None
            ):
                if checkpoint.highestmodseq >= state.highestmodseq:
                    return 0
                criteria = ("MODSEQ", str(checkpoint.highestmodseq + 1), *criteria)
            uids = await conn.search(*criteria)
        else:
            tagged = await conn.search("KEYWORD", self._keyword)
            seen = self._seen.setdefault((folder, state.uidvalidity), set())
            uids = [uid for uid in tagged if uid not in seen]
            seen.update(uids)
        count = 0
        if uids:
            async for batch in conn.fetch(uids, HEADERS_ITEM):
                count += await self._resolve(
                    senders(raw for _, raw in batch), f"agent:keyword {self._keyword}"
                )
        await self._store.save_checkpoint(
            self._mailbox, key, state.uidvalidity, 0, state.highestmodseq, self._clock()
        )
        return count

    async def _resolve(self, addresses: list[str], by: str) -> int:
        count = 0
        for address in addresses:
            try:
                decision = await self._engine.handled(self._mailbox, address, by, self._clock())
            except ValueError:
                # A company address (an agent's own mail): not a customer, nothing to resolve.
                continue
            count += 1
            metrics.AGENT_SIGNALS.labels(self._mailbox, by.split(" ", 1)[0]).inc()
            log.info(
                "agent_marked_handled",
                mailbox=self._mailbox,
                customer=address,
                by=by,
                resolved=decision.resolved,
            )
        return count
