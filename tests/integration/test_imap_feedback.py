"""Agent feedback on real Dovecot: the handled folder or keyword, a human reply in Sent."""

from __future__ import annotations

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
    wait_until,
)

pytestmark = pytest.mark.dovecot

CARL = "carl@customer.example"


async def _escalate_angry(dovecot: Dovecot, mg: Harness) -> str:
    angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
    await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
    await mg.processed(mid(angry))
    assert await mg.open_escalations() == 1

    async def filed() -> bool:
        try:
            found = await folder_messages(dovecot, "Escalated")
        except Exception:  # noqa: BLE001 - not created yet
            return False
        return mid(angry) in {m["message_id"] for m in found}

    await wait_until(filed, 10, "escalated")
    return mid(angry)


async def _resolved(mg: Harness) -> bool:
    return await mg.open_escalations() == 0


async def test_moving_the_message_to_the_handled_folder_resolves(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    async with running_mailguard(mailguard_config(dovecot, tmp_path / "data")) as mg:
        message_id = await _escalate_angry(dovecot, mg)
        agent = await open_imap(dovecot)
        try:
            await agent.select("Escalated")
            await agent.move(await agent.search_message_id(message_id), "Handled")
        finally:
            await agent.close()
        await wait_until(lambda: _resolved(mg), 10, "resolved by the handled folder")


async def test_the_handled_keyword_resolves(dovecot: Dovecot, tmp_path: Path) -> None:
    async with running_mailguard(mailguard_config(dovecot, tmp_path / "data")) as mg:
        message_id = await _escalate_angry(dovecot, mg)
        agent = await open_imap(dovecot)
        try:
            await agent.select("Escalated")
            await agent.add_flags(await agent.search_message_id(message_id), ["$MailguardHandled"])
        finally:
            await agent.close()
        await wait_until(lambda: _resolved(mg), 10, "resolved by the handled keyword")


async def test_a_human_reply_in_sent_resolves(dovecot: Dovecot, tmp_path: Path) -> None:
    async with running_mailguard(mailguard_config(dovecot, tmp_path / "data")) as mg:
        message_id = await _escalate_angry(dovecot, mg)
        reply = customer_mail(
            SUPPORT,
            "Re: THIRD time writing",
            "Dear Carl,\n\nI am sorry. I have refunded the second charge today.\n\nAnna\n",
            to=CARL,
            in_reply_to=message_id,
            domain="example.test",
        )
        dovecot.seed(SUPPORT, reply, "Sent")
        await wait_until(lambda: _resolved(mg), 10, "resolved by a human reply")
