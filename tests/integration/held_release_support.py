"""Held replies and their copies for the tests of agents releasing them from a mail client.

A held row is written as the proxy writes one (envelope included), its copy filed as the
executor files it (:meth:`ImapMailboxActions.file_held_copy`), and the agent's side is a
plain IMAP session on the Dovecot fixture: UID MOVE of the copy, or a keyword STORE.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any

from mailguard.config.model import MailboxConfig
from mailguard.domain.model import Direction
from mailguard.engine.ports import DecisionRecord, EventWrite, HeldMessage, MessageKey
from mailguard.imap.actions import ImapMailboxActions
from mailguard.imap.parse import quote, uid_set
from mailguard.store.repository import SqlStore
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import open_imap

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FOLDERS = ("Held", "Release", "Drop", "Released", "Dropped")


def reply(message_id: str, to: str = "carl@customer.example") -> bytes:
    """A robot's reply as the helpdesk submitted it."""
    return (
        f"From: {SUPPORT}\r\nTo: {to}\r\nSubject: [Ticket #{message_id[:6]}] received\r\n"
        f"Message-ID: <{message_id}>\r\nAuto-Submitted: auto-replied\r\n\r\n"
        "Thank you, this is an automated confirmation.\r\n"
    ).encode()


async def hold(
    store: SqlStore,
    message_id: str,
    to: str = "carl@customer.example",
    recipients: tuple[str, ...] | None = None,
) -> int:
    """A held row for the reply ``message_id`` (as the proxy writes it); its id."""
    key = MessageKey("support", message_id, Direction.OUTBOUND)
    async with store.unit_of_work() as uow:
        await uow.apply(
            EventWrite(
                message=None,
                decision=DecisionRecord(None, key, [], "test", NOW),
                held=HeldMessage(
                    key,
                    reply(message_id, to),
                    "customer escalated",
                    NOW,
                    SUPPORT,
                    (to,) if recipients is None else recipients,
                ),
            )
        )
    found = await store.held_by_key("support", message_id, Direction.OUTBOUND)
    assert found is not None
    return found.id


async def file_copies(dovecot: Dovecot, mailbox: MailboxConfig, held: dict[str, int]) -> None:
    """File each held reply's copy into the held folder, as the executor does; the folders
    agents use are there (as the watcher makes them)."""
    actions = ImapMailboxActions(mailbox)
    try:
        for message_id, held_id in held.items():
            assert await actions.file_held_copy(held_id, message_id, reply(message_id))
    finally:
        await actions.close()
    conn = await open_imap(dovecot)
    try:
        for folder in FOLDERS:
            await conn.ensure_folder(folder)
    finally:
        await conn.close()


async def _uid_of(conn: Any, folder: str, message_id: str) -> int | None:
    await conn.select(folder)
    uids = await conn.search("HEADER", "X-Mailguard-Held", quote(message_id))
    return uids[0] if uids else None


async def agent_move(dovecot: Dovecot, message_id: str, to: str, source: str = "Held") -> None:
    """An agent drags the copy of ``message_id`` from ``source`` into ``to``."""
    conn = await open_imap(dovecot)
    try:
        uid = await _uid_of(conn, source, message_id)
        assert uid is not None, f"no copy of {message_id} in {source}"
        await conn.uid("MOVE", uid_set([uid]), to)
    finally:
        await conn.close()


async def agent_tag(dovecot: Dovecot, message_id: str, keyword: str) -> None:
    """An agent sets ``keyword`` on the copy of ``message_id`` in the held folder."""
    conn = await open_imap(dovecot)
    try:
        uid = await _uid_of(conn, "Held", message_id)
        assert uid is not None, f"no copy of {message_id} in Held"
        await conn.uid("STORE", uid_set([uid]), "+FLAGS", f"({keyword})")
    finally:
        await conn.close()


async def copies(dovecot: Dovecot) -> dict[str, list[tuple[str, str]]]:
    """Reply Message-ID (from the stamp, else the message's own) -> [(folder, flags)]."""
    conn = await open_imap(dovecot)
    found: dict[str, list[tuple[str, str]]] = {}
    try:
        listed = {name for _attributes, name in await conn.list_folders()}
        for folder in FOLDERS:
            if folder not in listed:
                continue
            await conn.select(folder)
            uids = await conn.search("ALL")
            if not uids:
                continue
            heads: list[tuple[int, bytes]] = []
            async for batch in conn.fetch(uids, "BODY.PEEK[HEADER]"):
                heads += batch
            for uid, head in heads:
                msg = message_from_bytes(head)
                key = str(msg["X-Mailguard-Held"] or msg["Message-ID"] or "").strip().strip("<>")
                flags = await conn.uid("FETCH", str(uid), "(FLAGS)")
                text = b" ".join(bytes(x) for x in flags.lines[:-1]).decode()
                found.setdefault(key, []).append((folder, text))
    finally:
        await conn.close()
    return found
