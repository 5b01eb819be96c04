"""The watcher under trouble on real Dovecot: kicks, restarts, UIDVALIDITY changes, bad logins."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr

from mailguard.app.daemon import utc_now
from mailguard.app.mailwatch import MailWatch
from mailguard.config.settings import engine_settings_of
from mailguard.engine.factory import build_engine
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import (
    change_uidvalidity,
    customer_mail,
    deliver_when_up,
    kick,
    mailguard_config,
    mid,
    open_imap,
    restart,
    running_mailguard,
    wait_until,
)

pytestmark = pytest.mark.dovecot


def _mail(n: int) -> tuple[str, EmailMessage]:
    sender = f"user{n}@customer.example"
    return sender, customer_mail(sender, f"Question {n}", f"Hello,\n\nquestion number {n}.\n")


async def test_kick_and_restart_during_sync_miss_nothing_and_repeat_nothing(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        ids = []
        for n in range(3):
            sender, msg = _mail(n)
            await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
            ids.append(mid(msg))
        await mg.processed(ids[0])
        kick(dovecot)
        # Delivered while the watcher is disconnected or reconnecting.
        for n in range(3, 6):
            sender, msg = _mail(n)
            await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
            ids.append(mid(msg))
        for message_id in ids:
            await mg.processed(message_id, within=15)
        restarted = restart(dovecot)
        for n in range(6, 9):
            sender, msg = _mail(n)
            await deliver_when_up(restarted, msg, sender)
            ids.append(mid(msg))
        for message_id in ids:
            await mg.processed(message_id, within=15)

        async def all_ok() -> bool:
            return mg.mail.watchers[0].status == "ok"

        await wait_until(all_ok, 15, "watcher healthy again")
        for message_id in ids:
            assert await mg.decisions(message_id) == 1


async def test_uidvalidity_change_rescans_without_acting_twice(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        sender, first = _mail(1)
        await dovecot.deliver_async(first, mail_from=sender, rcpt=SUPPORT)
        await mg.processed(mid(first))
        change_uidvalidity(dovecot)
        kick(dovecot)  # sessions that had INBOX selected would not see the new UIDVALIDITY
        sender, second = _mail(2)
        await dovecot.deliver_async(second, mail_from=sender, rcpt=SUPPORT)
        await mg.processed(mid(second), within=15)
        assert await mg.decisions(mid(first)) == 1
        checkpoint = await mg.store.load_checkpoint("support", "INBOX")
        assert checkpoint is not None and checkpoint.last_uid == 2


async def test_a_wrong_password_is_retried_and_reported(dovecot: Dovecot, tmp_path: Path) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    imap = config.mailboxes[0].imap
    assert imap is not None
    broken = config.model_copy(
        update={
            "mailboxes": [
                config.mailboxes[0].model_copy(
                    update={"imap": imap.model_copy(update={"password": SecretStr("wrong")})}
                )
            ]
        }
    )
    async with running_mailguard(broken) as mg:

        async def failing() -> bool:
            return "ImapAuthError" in mg.mail.health()["imap:support"]

        await wait_until(failing, 10, "reported as failing")
        await asyncio.sleep(0.5)
        assert "ImapAuthError" in mg.mail.health()["imap:support"]


async def test_one_failing_mailbox_does_not_stop_the_others(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    good = config.mailboxes[0]
    assert good.imap is not None
    broken = good.model_copy(
        update={
            "name": "agents",
            "addresses": ["agent@example.test"],
            "imap": good.imap.model_copy(
                update={"user": "agent@example.test", "password": SecretStr("wrong")}
            ),
        }
    )
    both = config.model_copy(update={"mailboxes": [broken, good]})
    async with running_mailguard(both) as mg:
        sender, msg = _mail(1)
        await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
        await mg.processed(mid(msg))

        async def support_ok() -> bool:
            # Its second connection (Sent, feedback) may still be logging in on a busy machine.
            return mg.mail.health()["imap:support"] == "ok"

        await wait_until(support_ok, 10, "both connections of the good mailbox")

        async def agents_failing() -> bool:
            # Its first login may still be on its way; from its refusal on, health names it.
            return "ImapAuthError" in mg.mail.health()["imap:agents"]

        await wait_until(agents_failing, 10, "the broken mailbox's login refusal in /healthz")
        assert mg.mail.health()["imap:support"] == "ok"


async def _seed_inbox(dovecot: Dovecot, *, first: int, count: int) -> list[str]:
    """APPEND ``count`` customer messages to INBOX (a backlog for the backfill); their IDs."""
    conn = await open_imap(dovecot)
    ids = []
    try:
        for n in range(first, first + count):
            _, msg = _mail(n)
            await conn.append("INBOX", msg.as_bytes())
            ids.append(mid(msg))
    finally:
        await conn.close()
    return ids


async def test_kick_during_backfill_resumes_from_the_checkpoint(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    ids = await _seed_inbox(dovecot, first=100, count=120)
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        await mg.processed(ids[10], within=20)
        assert await mg.decisions(ids[-1]) == 0
        kick(dovecot)  # in the middle of the backfill
        await mg.processed(ids[-1], within=60)
        for message_id in ids:
            assert await mg.decisions(message_id) == 1
        checkpoint = await mg.store.load_checkpoint("support", "INBOX")
        assert checkpoint is not None and checkpoint.last_uid == 120


async def test_a_second_replica_stands_by(dovecot: Dovecot, tmp_path: Path) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        engine = build_engine(mg.store, engine_settings_of(config))
        standby = MailWatch(config, mg.store, engine, utc_now, executor_interval=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(standby.run(stop))
        try:
            sender, msg = _mail(1)
            await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
            await mg.processed(mid(msg))
            await asyncio.sleep(0.5)
            assert standby.health()["imap:support"] == "ok"
            assert standby.watchers[0].report.roles == {"lease": "ok"}  # standing by
            assert standby.report()["support"]["watching"] is False
            assert mg.mail.watchers[0].report.roles == {"inbox": "ok", "folders": "ok"}
            assert mg.mail.report()["support"]["watching"] is True
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_shutdown_during_a_backfill_is_prompt_and_the_next_start_resumes(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    ids = await _seed_inbox(dovecot, first=300, count=150)
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        await mg.processed(ids[5], within=20)
        stopping = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - stopping < 2.0
    async with running_mailguard(config) as mg:
        await mg.processed(ids[-1], within=60)
        for message_id in ids:
            assert await mg.decisions(message_id) == 1
