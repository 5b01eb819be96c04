"""The watcher, the executor and agent feedback on PostgreSQL (the production backend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import (
    ANGRY,
    customer_mail,
    folder_messages,
    mailguard_config,
    mid,
    open_imap,
    running_mailguard,
    wait_until,
)

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres]

CARL = "carl@customer.example"


async def test_escalation_and_handled_folder_on_postgres(
    dovecot: Dovecot, tmp_path: Path, postgres_url: str
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", top=f"storage: {{url: '{postgres_url}'}}")
    assert config.storage_url == postgres_url
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)

        async def filed() -> bool:
            try:
                found = await folder_messages(dovecot, "Escalated")
            except Exception:  # noqa: BLE001 - not created yet
                return False
            return {mid(angry)} <= {m["message_id"] for m in found} and any(
                m["note"] for m in found
            )

        await wait_until(filed, 15, "escalated with a note")
        agent = await open_imap(dovecot)
        try:
            await agent.select("Escalated")
            await agent.move(await agent.search_message_id(mid(angry)), "Handled")
        finally:
            await agent.close()

        async def resolved() -> bool:
            return await mg.open_escalations() == 0

        await wait_until(resolved, 15, "resolved")
