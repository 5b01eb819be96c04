"""End to end against real Dovecot: mail in over LMTP, decisions by the engine, actions in IMAP."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import (
    ANGRY,
    Harness,
    customer_mail,
    folder_messages,
    mailguard_config,
    mid,
    open_imap,
    running_mailguard,
    ticket_ack,
    wait_until,
)

pytestmark = pytest.mark.dovecot

CARL = "carl@customer.example"


async def escalated(dovecot: Dovecot, *message_ids: str) -> list[dict[str, object]]:
    """Wait until the escalation folder holds these messages and one note; return it."""
    found: list[dict[str, object]] = []

    async def ready() -> bool:
        nonlocal found
        try:
            found = await folder_messages(dovecot, "Escalated")
        except Exception:  # noqa: BLE001 - the folder may not exist yet
            return False
        ids = {m["message_id"] for m in found}
        flagged = all(
            "$MailguardEscalated" in str(m["flags"])
            for m in found
            if m["message_id"] in message_ids
        )
        return set(message_ids) <= ids and any(m["note"] for m in found) and flagged

    await wait_until(ready, 15, f"{message_ids} escalated")
    return found


async def test_automated_streak_escalates_with_keyword_and_one_note(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        first = customer_mail(CARL, "Voucher code", "Hello,\n\nmy voucher code does not work.\n")
        await dovecot.deliver_async(first, mail_from=CARL, rcpt=SUPPORT)
        await mg.processed(mid(first))
        ack1 = ticket_ack(CARL, first, 1)
        dovecot.seed(SUPPORT, ack1, "Sent")
        await mg.processed(mid(ack1))
        second = customer_mail(
            CARL, "Re: Voucher code", "Hello,\n\nit still does not work.\n", in_reply_to=mid(ack1)
        )
        await dovecot.deliver_async(second, mail_from=CARL, rcpt=SUPPORT)
        await mg.processed(mid(second))
        ack2 = ticket_ack(CARL, second, 2)
        dovecot.seed(SUPPORT, ack2, "Sent")
        found = await escalated(dovecot, mid(first), mid(second))
        # The executor is done: nothing pending but what needs a notifier.
        await wait_until(lambda: _only_notify_pending(mg), 10, "actions done")
    by_id = {m["message_id"]: m for m in found}
    for message in (first, second):
        flags = str(by_id[mid(message)]["flags"])
        assert "\\Flagged" in flags and "$MailguardEscalated" in flags
        assert "\\Seen" not in flags  # customer mail stays unread for the agents
    notes = [m for m in found if m["note"]]
    assert len(notes) == 1
    assert CARL in str(notes[0]["subject"]) or "Voucher" in str(notes[0]["subject"])
    inbox = {m["message_id"] for m in await folder_messages(dovecot, "INBOX")}
    assert mid(first) not in inbox and mid(second) not in inbox
    body = await _note_body(dovecot)
    assert CARL in body and "automated_streak" in body and "automated: auto_reply" in body
    assert "Handled" in body and "Timeline:" in body
    # The timeline lists all four messages, oldest first.
    assert len([line for line in body.splitlines() if line.startswith("- 20")]) == 4


async def _folder_names(dovecot: Dovecot) -> bytes:
    """The mailbox's LIST response: every folder's name."""
    conn = await open_imap(dovecot)
    try:
        listing = await conn.execute("LIST", '""', '"*"')
        return b" ".join(bytes(line) for line in listing.lines[:-1])
    finally:
        await conn.close()


async def _only_notify_pending(mg: Harness) -> bool:
    return set(await mg.pending_actions()) <= {"notify"}


async def _note_body(dovecot: Dovecot) -> str:
    conn = await open_imap(dovecot)
    try:
        await conn.select("Escalated")
        [uid] = await conn.search("HEADER", "X-Mailguard-Note", "escalation")
        [[(_, raw)]] = [b async for b in conn.fetch([uid])]
        note = message_from_bytes(raw, policy=policy.default)
        assert isinstance(note, EmailMessage)
        assert note["Auto-Submitted"] == "auto-generated"
        return str(note.get_content())
    finally:
        await conn.close()


async def test_angry_first_message_escalates_at_once_with_a_german_note(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await escalated(dovecot, mid(angry))
        klaus = "klaus@kunde.example"
        wut = customer_mail(
            klaus,
            "Zum dritten Mal: falsche Abbuchung!!!",
            "Sehr geehrte Damen und Herren,\n\nich schreibe Ihnen jetzt zum dritten Mal wegen "
            "derselben Sache und bekomme keine Antwort. Sie haben zweimal abgebucht, obwohl ich "
            "gekündigt habe. Das ist eine Frechheit. Wenn das Geld nicht bis Freitag zurück "
            "ist, schalte ich meinen Anwalt ein.\n",
        )
        await dovecot.deliver_async(wut, mail_from=klaus, rcpt=SUPPORT)
        await mg.processed(mid(wut))
        await wait_until(lambda: _notes(dovecot, 2), 15, "two notes")
    subjects = sorted(str(m["subject"]) for m in await folder_messages(dovecot, "Escalated"))
    assert any(s.startswith("[mailguard] Eskaliert:") for s in subjects)
    assert any(s.startswith("[mailguard] Escalated:") for s in subjects)


async def test_the_escalated_customer_writing_again_is_filed_beside_the_escalation(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await escalated(dovecot, mid(angry))
        # A new thread (own subject, no reference): still the same customer, with a person.
        again = customer_mail(CARL, "Also: my invoice", "Hello,\n\nand the invoice is wrong.\n")
        await dovecot.deliver_async(again, mail_from=CARL, rcpt=SUPPORT)
        await mg.processed(mid(again))
        found = await escalated(dovecot, mid(angry), mid(again))
        await wait_until(lambda: _only_notify_pending(mg), 10, "actions done")
    by_id = {m["message_id"]: m for m in found}
    flags = str(by_id[mid(again)]["flags"])
    assert "\\Flagged" in flags and "$MailguardEscalated" in flags and "\\Seen" not in flags
    assert sum(1 for m in found if m["note"]) == 1  # no second note for a follow-up
    inbox = {m["message_id"] for m in await folder_messages(dovecot, "INBOX")}
    assert mid(again) not in inbox


async def _notes(dovecot: Dovecot, count: int) -> bool:
    try:
        found = await folder_messages(dovecot, "Escalated")
    except Exception:  # noqa: BLE001 - the folder may not exist yet
        return False
    return sum(1 for m in found if m["note"]) == count


async def test_inbound_automated_mail_gets_the_keyword_and_stays_unseen(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        ooo = customer_mail(
            "dora@customer.example",
            "Out of office: your order",
            "I am out of the office until Monday and will reply on my return.\n",
            headers=[("Auto-Submitted", "auto-replied")],
        )
        human = customer_mail("erik@customer.example", "Question", "Hi,\n\nwhere is my order?\n")
        await dovecot.deliver_async(ooo, mail_from="dora@customer.example", rcpt=SUPPORT)
        await dovecot.deliver_async(human, mail_from="erik@customer.example", rcpt=SUPPORT)
        await mg.processed(mid(ooo))
        await mg.processed(mid(human))

        async def tagged() -> bool:
            inbox = {m["message_id"]: m for m in await folder_messages(dovecot, "INBOX")}
            return "$MailguardAutomated" in str(inbox[mid(ooo)]["flags"])

        await wait_until(tagged, 10, "automated keyword")
    inbox = {m["message_id"]: m for m in await folder_messages(dovecot, "INBOX")}
    assert "$MailguardAutomated" not in str(inbox[mid(human)]["flags"])
    assert all("\\Seen" not in str(m["flags"]) for m in inbox.values())


async def test_dry_run_decides_but_changes_nothing_on_the_server(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", top="dry_run: true")
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        ooo = customer_mail(
            "dora@customer.example",
            "Out of office",
            "I am out of the office until Monday.\n",
            headers=[("Auto-Submitted", "auto-replied")],
        )
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await dovecot.deliver_async(ooo, mail_from="dora@customer.example", rcpt=SUPPORT)
        await mg.processed(mid(angry))
        await mg.processed(mid(ooo))
        assert await mg.open_escalations() == 1
        await wait_until(lambda: _only_notify_pending(mg), 10, "actions done (dry run)")
    inbox = await folder_messages(dovecot, "INBOX")
    assert {m["message_id"] for m in inbox} == {mid(angry), mid(ooo)}
    assert all("$Mailguard" not in str(m["flags"]) for m in inbox)
    names = await _folder_names(dovecot)
    assert b"Escalated" not in names and b"Handled" not in names


@pytest.mark.parametrize(
    ("top", "own", "live"),
    [("dry_run: true", "false", True), ("dry_run: false", "true", False)],
    ids=["tried-globally-live-here", "live-globally-tried-here"],
)
async def test_a_mailbox_s_own_dry_run_overrides_the_global_one(
    dovecot: Dovecot, tmp_path: Path, top: str, own: str, live: bool
) -> None:
    config = mailguard_config(
        dovecot, tmp_path / "data", top=top, extra_imap=f"    dry_run: {own}\n"
    )
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await mg.processed(mid(angry))
        assert await mg.open_escalations() == 1  # decided either way
        if live:
            await escalated(dovecot, mid(angry))
        await wait_until(lambda: _only_notify_pending(mg), 10, "actions done")
    inbox = {m["message_id"] for m in await folder_messages(dovecot, "INBOX")}
    assert (mid(angry) in inbox) is not live
    assert (b"Escalated" in await _folder_names(dovecot)) is live


async def test_copy_mode_leaves_the_original_in_the_inbox_tagged(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", extra_imap="      escalate_mode: copy\n")
    async with running_mailguard(config):
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await escalated(dovecot, mid(angry))
    inbox = {m["message_id"]: m for m in await folder_messages(dovecot, "INBOX")}
    assert "$MailguardEscalated" in str(inbox[mid(angry)]["flags"])
    assert "\\Seen" not in str(inbox[mid(angry)]["flags"])
