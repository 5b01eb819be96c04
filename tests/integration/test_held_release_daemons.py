"""Two ``mailguard run`` replicas on PostgreSQL; an agent releases a held reply from the mail
client, and the replica that relays it dies before filing the copy.

The reply is held the real way: an angry customer's mail reaches the mailbox (Dovecot, LMTP)
and is escalated; the helpdesk's automated acknowledgement then comes through a replica's
SMTP proxy and is held, and the executor files its copy into Held. The agent moves the copy
into Release. The replica watching the mailbox (:mod:`tests.integration.crashing_release`)
relays it and ends itself as SIGKILL would, before moving the copy on; the standby takes
the mailbox over, finds the copy still in Release and its row released with a receipt, and
files it into Released without relaying it again. The upstream (an aiosmtpd sink) counts.
"""

from __future__ import annotations

from pathlib import Path

import aiosmtplib
import asyncpg
import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.held_release_support import agent_move, copies
from tests.integration.imap_support import ANGRY, customer_mail, mid, ticket_ack
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.slow]

CARL = "carl@customer.example"


async def test_the_standby_files_a_release_the_holder_relayed_before_dying(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path, postgres_url: str
) -> None:
    config = daemon_config(
        tmp_path,
        dovecot,
        (smtp_sink.host, smtp_sink.port),
        imap={"takeover": "2s"},
        postgres=True,
    )
    db = await asyncpg.connect(postgres_url)
    crashing = Daemon(
        config,
        tmp_path / "crashing.log",
        postgres_url=postgres_url,
        module="tests.integration.crashing_release",
    )
    standby: Daemon | None = None
    try:
        await crashing.healthy()

        async def holds() -> bool:
            return crashing.watching()

        await wait_for("the crashing replica to watch the mailbox", holds)
        standby = Daemon(config, tmp_path / "standby.log", postgres_url=postgres_url)
        await standby.healthy()

        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)

        async def escalated() -> bool:
            return bool(await db.fetchval("SELECT count(*) FROM escalations"))

        await wait_for("the escalation", escalated)
        ack = ticket_ack(CARL, angry, 7)
        _, answer = await aiosmtplib.send(
            ack, hostname="127.0.0.1", port=standby.smtp_port, sender=SUPPORT, timeout=30
        )
        assert "held by mailguard" in answer

        async def filed() -> bool:
            return [f for f, _ in (await copies(dovecot)).get(mid(ack), [])] == ["Held"]

        await wait_for("the held copy in Held", filed)
        assert smtp_sink.envelopes == []
        await agent_move(dovecot, mid(ack), "Release")

        async def died() -> bool:
            return crashing.proc.poll() is not None

        await wait_for("the holder to relay and die", died)
        assert len(smtp_sink.envelopes) == 1

        async def released() -> bool:
            return [f for f, _ in (await copies(dovecot)).get(mid(ack), [])] == ["Released"]

        await wait_for("the standby to file the copy", released, within=30)
        filed = await standby.metric(
            "mailguard_held_agent_commands_total",
            mailbox="support",
            command="release",
            outcome="released",
        )
        assert filed == 1.0
        state = await db.fetchval("SELECT state FROM held_messages")
        receipts = await db.fetchval("SELECT count(*) FROM relay_receipts")
        assert standby.stop() == 0, standby.log.read_text()
        events = standby.events()
    finally:
        crashing.kill()
        if standby is not None:
            standby.kill()
        await db.close()
    assert crashing.proc.returncode == 9
    assert len(smtp_sink.envelopes) == 1
    assert smtp_sink.envelopes[0].rcpt_tos == [CARL]
    assert mid(ack).encode() in bytes(smtp_sink.envelopes[0].original_content)
    assert state == "released" and receipts == 1
    assert "imap_lease_taken" in events and "held_command_done" in events
    assert "held_release_started" not in events
