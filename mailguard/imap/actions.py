"""The mailbox side of outbox actions, each idempotent (the executor may repeat any of them).

- escalate: the customer's messages of the thread into the escalation folder (created if
  missing), by UID MOVE (RFC 6851) or UID COPY + \\Deleted + UID EXPUNGE of exactly those UIDs
  (RFC 4315), or copied when so configured; then the escalated keyword (where the server
  stores keywords) and \\Flagged. A repeat finds the messages already in the escalation
  folder by Message-ID and only finishes what is missing. ``escalate_mode: flag`` only
  flags them in the inbox (a helpdesk fetching INBOX must get them; the agents'
  notification says where the thread is).
- the note for the agent: APPENDed once; its Message-ID is derived from the action, so a
  repeat finds it and appends nothing.
- a held outbound reply: a copy APPENDed into the held folder, once per Message-ID, with
  mailguard's stamp (the held row it is of, how to release or drop it); and removed again
  when retention drops the reply unsent.

The connection is the executor's own (one task, one command at a time), kept open between
actions and replaced after any failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from mailguard.config.model import MailboxConfig
from mailguard.domain import heldcopy
from mailguard.imap.capabilities import MailboxCapabilities
from mailguard.imap.connection import ConnectParams, ImapConnection
from mailguard.imap.copies import HELD_HEADER, held_folders, remove_held_copy
from mailguard.imap.parse import quote
from mailguard.oauth.tokens import TokenSource

log = structlog.get_logger("mailguard.imap.actions")


Connect = Callable[[ConnectParams], Awaitable[ImapConnection]]


@dataclass(frozen=True, slots=True)
class Note:
    """A note for the agent: its Message-ID (without brackets) and its bytes."""

    message_id: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class EscalationOutcome:
    """What an escalation did in the mailbox (for the log)."""

    filed: int
    already_filed: int
    note_uid: int | None
    note_existed: bool
    flagged: int = 0


class ImapMailboxActions:
    """Performs actions in one mailbox over a connection of its own."""

    def __init__(
        self,
        mailbox: MailboxConfig,
        connect: Connect = ImapConnection.open,
        *,
        token: TokenSource | None = None,
        capabilities: MailboxCapabilities | None = None,
    ) -> None:
        if mailbox.imap is None:
            raise ValueError(f"mailbox {mailbox.name} has no imap section")
        self._config = mailbox
        self._params = ConnectParams.of(mailbox.imap, token, capabilities)
        self._connect = connect
        self._conn: ImapConnection | None = None
        self.name = mailbox.name

    @property
    def capabilities(self) -> MailboxCapabilities | None:
        """What the mailbox's server can do (keywords per folder), shared with its watcher."""
        return self._params.capabilities

    async def _connection(self) -> ImapConnection:
        if self._conn is not None and not self._conn.alive:
            await self.close()
        renew = self._conn.renew_in() if self._conn is not None else None
        if renew is not None and renew <= 0:
            await self.close()  # its token is due: a new session with a new one
        if self._conn is None:
            self._conn = await self._connect(self._params)
        return self._conn

    async def close(self) -> None:
        """Close the connection (the next action opens a new one)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()

    async def escalate(self, message_ids: Sequence[str], note: Note | None) -> EscalationOutcome:
        """File the messages into the escalation folder, flag them, add the note."""
        try:
            return await self._escalate(message_ids, note)
        except BaseException:
            await self.close()
            raise

    async def _escalate(self, message_ids: Sequence[str], note: Note | None) -> EscalationOutcome:
        conn = await self._connection()
        folders, keywords = self._config.folders, self._config.keywords
        mode = self._config.imap.escalate_mode if self._config.imap is not None else "move"
        if mode == "flag":
            return await self._flag(conn, message_ids)
        move = mode == "move"
        await conn.ensure_folder(folders.escalation)
        await conn.select(folders.escalation)
        filed_before = {mid: await conn.search_message_id(mid) for mid in message_ids}
        await conn.select(folders.inbox)
        to_file: list[int] = []
        to_delete: list[int] = []
        in_inbox: list[int] = []
        for mid in message_ids:
            uids = await conn.search_message_id(mid)
            in_inbox.extend(uids)
            if not filed_before[mid]:
                to_file.extend(uids)
            elif move:
                # Copied before a crash, not yet removed from the inbox: finish the move.
                to_delete.extend(uids)
        flags = [keywords.escalated, "\\Flagged"]
        if move:
            await conn.move(to_file, folders.escalation)
            await conn.delete(to_delete)
        else:
            await conn.copy(to_file, folders.escalation)
            # A copy leaves the original in the inbox: tag it there too.
            await conn.add_flags(in_inbox, flags)
        await conn.select(folders.escalation)
        filed: list[int] = []
        for mid in message_ids:
            filed.extend(await conn.search_message_id(mid))
        await conn.add_flags(filed, flags)
        note_uid, note_existed = None, False
        if note is not None:
            if await conn.search_message_id(note.message_id):
                note_existed = True
            else:
                appended = await conn.append(folders.escalation, note.raw)
                note_uid = appended[1] if appended else None
        return EscalationOutcome(
            filed=len(to_file),
            already_filed=sum(1 for uids in filed_before.values() if uids),
            note_uid=note_uid,
            note_existed=note_existed,
        )

    async def _flag(self, conn: ImapConnection, message_ids: Sequence[str]) -> EscalationOutcome:
        """``escalate_mode: flag``: \\Flagged (and the keyword) in the inbox, nothing else."""
        await conn.select(self._config.folders.inbox)
        uids: list[int] = []
        for mid in message_ids:
            uids.extend(await conn.search_message_id(mid))
        await conn.add_flags(uids, [self._config.keywords.escalated, "\\Flagged"])
        return EscalationOutcome(0, 0, None, False, flagged=len(uids))

    async def remove_held_copy(self, message_id: str) -> int:
        """Remove the held folder's copy of the reply ``message_id``; how many went (0, 1)."""
        try:
            conn = await self._connection()
            # Where an agent may have put it meanwhile, too (a release the relay refuses).
            folders = held_folders(self._config, settled=False)
            return await remove_held_copy(conn, folders, message_id)
        except BaseException:
            await self.close()
            raise

    async def file_held_copy(self, held_id: int, message_id: str, raw: bytes) -> int | None:
        """APPEND a held reply's copy into the held folder unless it is there already.

        The copy carries mailguard's stamp (:mod:`mailguard.domain.heldcopy`): which held row
        it is of, and how the agent releases or drops it (keywords mentioned only where
        the server stores them). Returns the new UID (APPENDUID), or None when the copy
        existed or the server does not say.
        """
        try:
            conn = await self._connection()
            folders, keywords = self._config.folders, self._config.keywords
            folder = folders.held
            await conn.ensure_folder(folder)
            await conn.select(folder)
            # Searched by a header of our own: a held reply may have no Message-ID at all.
            if await conn.search("HEADER", HELD_HEADER, quote(message_id)):
                return None
            how = heldcopy.how(
                folders.release,
                folders.drop,
                keywords.release,
                keywords.drop,
                conn.keywords_allowed(folder),
            )
            stamp = heldcopy.stamp(held_id, message_id, raw, how)
            appended = await conn.append(folder, stamp + raw)
            return appended[1] if appended else None
        except BaseException:
            await self.close()
            raise
