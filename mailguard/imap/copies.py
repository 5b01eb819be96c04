"""mailguard's own copies in a mailbox: the notes beside escalated mail and the held copies.

mailguard writes two kinds of mail into a guarded mailbox: the note for the agent beside an
escalation (``X-Mailguard-Note``, Message-ID ``<note-…@mailguard.invalid>``, in the escalation
folder, or wherever the agents moved the thread: the handled folder), and a copy of each held
robot reply in the held folder (its first line is mailguard's ``X-Mailguard-Held`` stamp),
which agents move on into the release or drop folder and mailguard into the released or
dropped one (:mod:`mailguard.imap.held_folders`).
This module finds those copies, by Message-ID or by the person they name, and removes exactly
them (``UID EXPUNGE`` of their UIDs). The customer's own messages are never touched: a
message counts only when it carries mailguard's marks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailguard.config.model import MailboxConfig
from mailguard.domain import heldcopy
from mailguard.imap.connection import ImapCommandError, ImapConnection
from mailguard.imap.feedback import NOTE_HEADER
from mailguard.imap.parse import quote

HELD_HEADER = heldcopy.HELD_HEADER
_NOTE_ID = re.compile(rb"^Message-ID:\s*<note-[0-9a-f]{32}@mailguard\.invalid>\s*$", re.I | re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True, slots=True)
class Copy:
    """One of mailguard's copies in a folder: a note or a held copy, with its bytes."""

    folder: str
    uid: int
    kind: str  # "note" or "held"
    raw: bytes


def is_note(raw: bytes) -> bool:
    """A note mailguard wrote: its header and a Message-ID of mailguard's form."""
    head = _HEADER_END.split(raw, maxsplit=1)[0]
    marked = re.search(rb"^" + NOTE_HEADER.encode() + rb":", head, re.I | re.M) is not None
    return marked and _NOTE_ID.search(head) is not None


def held_stamp(raw: bytes) -> str | None:
    """The Message-ID in a held copy's stamp (its first line, imap/actions.py), or None when
    the message is no held copy of mailguard's."""
    first, _, _ = raw.partition(b"\n")
    name, sep, value = first.decode("utf-8", errors="replace").partition(":")
    if not sep or name.strip().lower() != HELD_HEADER.lower():
        return None
    return value.strip()


def is_held_copy(raw: bytes) -> bool:
    """A held copy mailguard filed (see :func:`held_stamp`)."""
    return held_stamp(raw) is not None


async def _select(conn: ImapConnection, folder: str) -> bool:
    """SELECT ``folder``; False when it does not exist (nothing to find there)."""
    try:
        await conn.select(folder)
    except ImapCommandError:
        return False
    return True


async def _marked(
    conn: ImapConnection, folder: str, header: str, kind: str, check: Callable[[bytes], bool]
) -> list[Copy]:
    if not await _select(conn, folder):
        return []
    uids = await conn.search("HEADER", header, quote(""))
    found = []
    async for batch in conn.fetch(uids):
        found += [Copy(folder, uid, kind, raw) for uid, raw in batch if check(raw)]
    return found


async def find_copies(
    conn: ImapConnection, mailbox: MailboxConfig, names: Callable[[bytes], bool]
) -> list[Copy]:
    """mailguard's copies in the mailbox whose bytes ``names`` accepts (e.g. the ones that
    name a customer): notes in the escalation and handled folders, copies in the held one."""
    folders = mailbox.folders
    found: list[Copy] = []
    for folder in dict.fromkeys((folders.escalation, folders.handled)):
        found += await _marked(
            conn, folder, NOTE_HEADER, "note", lambda raw: is_note(raw) and names(raw)
        )
    for folder in held_folders(mailbox):
        found += await _marked(
            conn, folder, HELD_HEADER, "held", lambda raw: is_held_copy(raw) and names(raw)
        )
    return found


def held_folders(mailbox: MailboxConfig, *, settled: bool = True) -> list[str]:
    """Where a held copy can be: the held folder, the agents' command folders and (with
    ``settled``) the folders of released and dropped copies."""
    f = mailbox.folders
    names = [f.held, f.release, f.drop, *((f.released, f.dropped) if settled else ())]
    return list(dict.fromkeys(names))


async def remove_copies(conn: ImapConnection, copies: Sequence[Copy]) -> int:
    """Expunge exactly these copies (``UID EXPUNGE``, RFC 4315); returns how many."""
    removed = 0
    for folder in dict.fromkeys(c.folder for c in copies):
        uids = [c.uid for c in copies if c.folder == folder]
        if await _select(conn, folder):
            await conn.delete(uids)
            removed += len(uids)
    return removed


async def remove_held_copy(conn: ImapConnection, folders: Sequence[str], message_id: str) -> int:
    """Remove the held copy of the reply ``message_id`` from ``folders``; how many went."""
    found: list[Copy] = []
    for folder in folders:
        if not await _select(conn, folder):
            continue
        # SEARCH HEADER matches a substring: the stamp itself must name exactly this reply.
        uids = await conn.search("HEADER", HELD_HEADER, quote(message_id))
        async for batch in conn.fetch(uids):
            found += [
                Copy(folder, uid, "held", r) for uid, r in batch if held_stamp(r) == message_id
            ]
    return await remove_copies(conn, found)
