"""``mailguard privacy export|erase``: a customer's right of access (Art. 15) and to erasure
(Art. 17), for the address they give, its plus-tag and case variants, in every mailbox.

Wiring and output only: what belongs to the person is decided in
:mod:`mailguard.store.privacy` (the database) and :mod:`mailguard.imap.copies` (mailguard's
own copies in the mailboxes: the notes and the held copies). The erasure logs one line with
a keyed hash of the address (the logs' pseudonym key), never the address itself.
"""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

from mailguard.config import Config
from mailguard.config.model import MailboxConfig
from mailguard.domain.privacy import AddressVariants
from mailguard.imap.connection import ConnectParams, ImapConnection, ImapError
from mailguard.imap.copies import Copy, find_copies, held_stamp, remove_copies
from mailguard.oauth.providers import token_source
from mailguard.ops.logsetup import Pseudonymizer
from mailguard.store.privacy import PersonData, erase_person, export_person
from mailguard.store.repository import SqlStore

log = structlog.get_logger("mailguard.app.privacy")

SCHEMA = "mailguard-privacy-export"
SCHEMA_VERSION = 1
EXIT_OK = 0
EXIT_FAILURE = 1

# Export sections: (section, table, which rows of it). Held mail is split by state, and the
# outbox into the agents' notifications and the other actions.
_SECTIONS: tuple[tuple[str, str, Callable[[dict[str, Any]], bool]], ...] = (
    ("customers", "customers", lambda r: True),
    ("threads", "threads", lambda r: True),
    ("thread_message_ids", "thread_message_ids", lambda r: True),
    ("messages", "messages", lambda r: True),
    ("decisions", "decisions", lambda r: True),
    ("escalations", "escalations", lambda r: True),
    ("held_mail", "held_messages", lambda r: r.get("state") != "deferred"),
    ("deferred_mail", "held_messages", lambda r: r.get("state") == "deferred"),
    ("failed_messages", "failed_messages", lambda r: True),
    ("outbox_actions", "outbox_actions", lambda r: r.get("kind") != "notify"),
    ("notifications", "outbox_actions", lambda r: r.get("kind") == "notify"),
)


@dataclass(frozen=True, slots=True)
class MailboxCopies:
    """mailguard's copies found in one mailbox (or why it could not be searched)."""

    mailbox: str
    copies: tuple[Copy, ...] = ()
    error: str | None = None


def sections(data: PersonData) -> dict[str, list[dict[str, Any]]]:
    """The export's sections from the database's rows."""
    return {
        name: [row for row in data.tables.get(table, []) if which(row)]
        for name, table, which in _SECTIONS
    }


def _copy_json(copy: Copy) -> dict[str, Any]:
    return {
        "folder": copy.folder,
        "uid": copy.uid,
        "kind": copy.kind,
        "held_message_id": held_stamp(copy.raw) if copy.kind == "held" else None,
        "raw_base64": base64.b64encode(copy.raw).decode("ascii"),
    }


def export_document(
    data: PersonData, copies: list[MailboxCopies] | None, now: datetime
) -> dict[str, Any]:
    """The machine-readable export (docs/privacy.md describes every field)."""
    found = sections(data)
    mailbox_copies = None
    if copies is not None:
        mailbox_copies = [
            {
                "mailbox": m.mailbox,
                "error": m.error,
                "copies": [_copy_json(c) for c in m.copies],
            }
            for m in copies
        ]
    empty = data.empty and not any(m.copies for m in copies or ())
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "exported_at": now.isoformat(),
        "customer": data.variants.address,
        "variants": data.variants.describe(),
        "empty": empty,
        "note": ("mailguard stores nothing about this address" if empty else "see docs/privacy.md"),
        "counts": {name: len(rows) for name, rows in found.items()},
        **found,
        "mailbox_copies": mailbox_copies,
    }


def _line(section: str, row: dict[str, Any]) -> str:
    pick = {
        "customers": ("mailbox", "address", "state", "first_seen_at", "last_seen_at"),
        "threads": ("root_message_id", "created_at", "last_activity_at"),
        "thread_message_ids": ("message_id",),
        "messages": ("sent_at", "mailbox", "direction", "kind", "sender", "message_id", "subject"),
        "decisions": ("decided_at", "mailbox", "message_id", "explain"),
        "escalations": ("opened_at", "rule", "reason", "resolved_at", "resolved_by"),
        "held_mail": ("id", "state", "held_at", "message_id", "envelope_recipients", "reason"),
        "deferred_mail": ("id", "held_at", "message_id", "awaits"),
        "failed_messages": ("last_failed_at", "mailbox", "message_id", "error"),
        "outbox_actions": ("created_at", "kind", "target", "state"),
        "notifications": ("created_at", "target", "state", "payload"),
    }[section]
    text = "  ".join(str(row.get(k)) for k in pick if row.get(k) not in (None, "", []))
    return text.replace("\n", " | ")[:300]


def print_text(document: dict[str, Any], out: TextIO) -> None:
    """The export as text for a person; every column is in ``--format json``."""
    if document["empty"]:
        print(f"mailguard stores nothing about {document['variants']}.", file=out)
        return
    print(f"What mailguard stores about {document['variants']}:", file=out)
    for section, _, _ in _SECTIONS:
        rows = document[section]
        print(f"{section.replace('_', ' ')}: {len(rows)}", file=out)
        for row in rows:
            print(f"  {_line(section, row)}", file=out)
    if document["mailbox_copies"] is not None:
        print("mailguard's copies in the mailboxes:", file=out)
        for box in document["mailbox_copies"]:
            if box["error"]:
                print(f"  {box['mailbox']}: not searched: {box['error']}", file=out)
            for copy in box["copies"]:
                where = f"{box['mailbox']}/{copy['folder']} UID {copy['uid']}"
                print(f"  {where}: {copy['kind']}", file=out)
    print("Every column, raw mail in base64: --format json (docs/privacy.md).", file=out)


async def _open(mailbox: MailboxConfig) -> ImapConnection:
    imap = mailbox.imap
    assert imap is not None  # noqa: S101 - only IMAP mailboxes are passed in
    # A mailbox on Microsoft 365 or Google logs in with a token, as the daemon's would.
    token = (
        token_source(f"imap:{mailbox.name}", imap.oauth2, imap.user)
        if imap.oauth2 is not None
        else None
    )
    return await ImapConnection.open(ConnectParams.of(imap, token))


async def mailbox_copies(
    config: Config, variants: AddressVariants, *, remove: bool
) -> list[MailboxCopies]:
    """mailguard's copies naming the person in each IMAP mailbox (removed with ``remove``).

    A mailbox that cannot be reached is reported, not fatal: the others are still done,
    and running the command again finds what is left.
    """
    results = []
    for mailbox in (m for m in config.mailboxes if m.imap is not None):
        try:
            conn = await _open(mailbox)
            try:
                copies = await find_copies(conn, mailbox, variants.names_bytes)
                if remove:
                    await remove_copies(conn, copies)
            finally:
                await conn.close()
        except (ImapError, OSError, ssl.SSLError, TimeoutError) as exc:
            results.append(MailboxCopies(mailbox.name, error=f"{type(exc).__name__}: {exc}"))
            continue
        results.append(MailboxCopies(mailbox.name, tuple(copies)))
    return results


def _variants(address: str, err: TextIO) -> AddressVariants | None:
    try:
        return AddressVariants.of(address)
    except ValueError as exc:
        print(f"mailguard privacy: --customer: {exc}", file=err)
        return None


async def export(
    config: Config, address: str, *, fmt: str, mailboxes: bool, out: TextIO, err: TextIO
) -> int:
    """Print everything about ``address`` as text or JSON."""
    variants = _variants(address, err)
    if variants is None:
        return 2
    store = SqlStore.from_url(config.storage_url)
    try:
        data = await export_person(store, variants)
    finally:
        await store.close()
    copies = await mailbox_copies(config, variants, remove=False) if mailboxes else None
    document = export_document(data, copies, datetime.now(UTC))
    if fmt == "json":
        json.dump(document, out, indent=2, ensure_ascii=False, default=str)
        print(file=out)
    else:
        print_text(document, out)
    return EXIT_FAILURE if any(m.error for m in copies or ()) else EXIT_OK


async def erase(
    config: Config,
    address: str,
    *,
    key: bytes,
    drop_held: bool,
    mailboxes: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """Erase everything about ``address``; print (and log) what went, by a keyed hash."""
    variants = _variants(address, err)
    if variants is None:
        return 2
    who = Pseudonymizer(key).pseudonym(variants.address)
    store = SqlStore.from_url(config.storage_url)
    try:
        removed = await erase_person(store, variants, drop_held=drop_held)
    finally:
        await store.close()
    copies = await mailbox_copies(config, variants, remove=True) if mailboxes else []
    rows = {k: n for k, n in removed.items() if k != "held_dropped"}
    if not any(rows.values()):
        print(f"the database holds nothing about customer {who}: nothing to erase", file=out)
    else:
        listed = ", ".join(f"{table} {n}" for table, n in rows.items() if n)
        print(f"erased customer {who} from the database: {listed}", file=out)
        if removed["held_dropped"]:
            print(f"  held mail dropped unsent: {removed['held_dropped']}", file=out)
    for box in copies:
        if box.error:
            print(f"  mailbox {box.mailbox}: copies NOT removed: {box.error}", file=err)
            continue
        notes = sum(1 for c in box.copies if c.kind == "note")
        held = len(box.copies) - notes
        print(f"  mailbox {box.mailbox}: removed {notes} note(s), {held} held copy(ies)", file=out)
    log.info(
        "customer_erased",
        customer=who,
        removed={k: n for k, n in removed.items() if n},
        mailbox_copies={b.mailbox: len(b.copies) for b in copies if not b.error},
    )
    return EXIT_FAILURE if any(b.error for b in copies) else EXIT_OK
