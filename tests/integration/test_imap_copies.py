"""mailguard's own copies in a real Dovecot mailbox: found by their marks, removed exactly.

The notes beside escalated mail and the held copies are mailguard's; a customer's own
message is not, even one that forges a note's header. Erasure removes the copies that name
the customer, retention the copy of a reply it dropped; nothing else in the folders changes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailguard.app.privacy import mailbox_copies
from mailguard.config.model import MailboxConfig
from mailguard.config.notes import NoteConfig
from mailguard.domain.privacy import AddressVariants
from mailguard.executor.note import build_note
from mailguard.imap.actions import ImapMailboxActions
from mailguard.imap.copies import find_copies, remove_copies
from mailguard.oauth.providers import token_source
from tests.dovecot.fixture import SUPPORT, Dovecot, DovecotFactory, make_message
from tests.integration.imap_support import doveadm, mailguard_config, open_imap
from tests.integration.oauth_support import oauth_config, token_command
from tests.integration.privacy_support import folder

pytestmark = pytest.mark.dovecot

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def _note(mailbox: MailboxConfig, customer: str, key: str) -> bytes:
    """A note as the executor writes it."""
    return build_note(
        config=NoteConfig(),
        mailbox=mailbox,
        sender="mailguard@example.test",
        customer=customer,
        language="en",
        escalation=None,
        rule="frustration",
        messages=[],
        idempotency_key=key,
        now=NOW,
    ).raw


async def test_copies_naming_a_customer_are_found_and_removed(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    [mailbox] = config.mailboxes
    carl_own = make_message(sender="carl@customer.example", to=SUPPORT, subject="my own mail")
    doveadm(dovecot, "mailbox", "create", "-u", SUPPORT, "Escalated", "Handled")
    forged = make_message(
        sender="carl@customer.example",
        to=SUPPORT,
        subject="looks like a note",
        headers=[("X-Mailguard-Note", "escalation")],
    )
    for raw in (
        _note(mailbox, "carl@customer.example", "k1"),
        _note(mailbox, "dora@customer.example", "k2"),
        carl_own.as_bytes(),
        forged.as_bytes(),
    ):
        dovecot.seed(SUPPORT, raw, "Escalated")
    dovecot.seed(SUPPORT, _note(mailbox, "Carl+x@Customer.Example", "k3"), "Handled")
    actions = ImapMailboxActions(mailbox)
    try:
        to_carl = make_message(sender=SUPPORT, to="CARL@customer.example", subject="robot")
        to_dora = make_message(sender=SUPPORT, to="dora@customer.example", subject="robot")
        assert await actions.file_held_copy(1, "held-carl@example.test", to_carl.as_bytes())
        assert await actions.file_held_copy(2, "held-dora@example.test", to_dora.as_bytes())
    finally:
        await actions.close()
    escalated, handled, held = (
        await folder(dovecot, "Escalated"),
        await folder(dovecot, "Handled"),
        await folder(dovecot, "Held"),
    )

    conn = await open_imap(dovecot)
    try:
        names = AddressVariants.of("carl@customer.example").names_bytes
        copies = await find_copies(conn, mailbox, names)
        assert sorted((c.folder, c.kind) for c in copies) == [
            ("Escalated", "note"),
            ("Handled", "note"),
            ("Held", "held"),
        ]
        assert await remove_copies(conn, copies) == 3
        assert await find_copies(conn, mailbox, names) == []
    finally:
        await conn.close()
    gone = {(c.folder, c.uid) for c in copies}
    for name, before in (("Escalated", escalated), ("Handled", handled), ("Held", held)):
        after = await folder(dovecot, name)
        assert after == {uid: raw for uid, raw in before.items() if (name, uid) not in gone}
    # Carl's own message and the forged "note" stay: they are not mailguard's.
    left = b"".join((await folder(dovecot, "Escalated")).values())
    assert b"my own mail" in left and b"looks like a note" in left


async def test_a_dropped_replys_copy_leaves_the_held_folder(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    [mailbox] = mailguard_config(dovecot, tmp_path / "data").mailboxes
    actions = ImapMailboxActions(mailbox)
    try:
        for n, mid in enumerate(("r1@example.test", "xr1@example.test", "r2@example.test")):
            reply = make_message(sender=SUPPORT, to="carl@customer.example", subject=mid)
            assert await actions.file_held_copy(n, mid, reply.as_bytes())
        # Only the copy stamped with exactly that Message-ID (SEARCH matches substrings).
        assert await actions.remove_held_copy("r1@example.test") == 1
        assert await actions.remove_held_copy("r1@example.test") == 0
        # An agent moved a copy into Release (the relay refuses it): found there too.
        conn = await open_imap(dovecot)
        try:
            await conn.ensure_folder("Release")
            await conn.select("Held")
            await conn.move(
                await conn.search("HEADER", "X-Mailguard-Held", "r2@example.test"), "Release"
            )
        finally:
            await conn.close()
        assert await actions.remove_held_copy("r2@example.test") == 1
    finally:
        await actions.close()
    [left] = (await folder(dovecot, "Held")).values()
    assert left.startswith(b"X-Mailguard-Held: xr1@example.test")
    assert await folder(dovecot, "Release") == {}


async def test_privacy_reaches_the_copies_of_an_oauth2_mailbox(
    dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    # `privacy export|erase --mailboxes` logs in as the daemon does: with a token.
    dovecot = dovecot_factory(oauth2="xoauth2")
    command = token_command(tmp_path / "helper", dovecot.oauth_key)
    config = oauth_config(dovecot, tmp_path / "data", command=command, tls="implicit")
    [mailbox] = config.mailboxes
    assert mailbox.imap is not None and mailbox.imap.oauth2 is not None
    source = token_source("test", mailbox.imap.oauth2, mailbox.imap.user)
    actions = ImapMailboxActions(mailbox, token=source)
    try:
        reply = make_message(sender=SUPPORT, to="Carl@customer.example", subject="robot")
        assert await actions.file_held_copy(1, "held-carl@example.test", reply.as_bytes())
    finally:
        await actions.close()
    variants = AddressVariants.of("carl@customer.example")
    [found] = await mailbox_copies(config, variants, remove=False)
    assert found.error is None and [c.kind for c in found.copies] == ["held"]
    [removed] = await mailbox_copies(config, variants, remove=True)
    assert removed.error is None and len(removed.copies) == 1
    assert await folder(dovecot, "Held") == {}
