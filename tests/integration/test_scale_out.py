"""Two `mailguard run` processes on one configuration and one PostgreSQL (DESIGN.md "Scale-out").

Each replica serves the SMTP proxy; the mailbox is watched by exactly one of them (the
advisory-lock lease). SIGKILL of the holder frees the lease with its database session, and
the standby takes the mailbox over within ``imap.takeover``. The counts in the database and
the IMAP folders show that nothing was missed and nothing was done twice.
"""

from __future__ import annotations

import signal
import time
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import asyncpg
import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.imap_support import ANGRY, customer_mail, folder_messages, mid
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.slow]

TAKEOVER = 2.0
# Beyond the configured takeover: the new holder's IMAP login over TLS on loopback and the
# metrics poll of this test.
SLACK = 3.0


def _config(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink) -> Path:
    """One configuration for both replicas; only the ports differ, through the environment."""
    return daemon_config(
        tmp_path,
        dovecot,
        (sink.host, sink.port),
        imap={"takeover": f"{TAKEOVER}s"},
        postgres=True,
    )


async def _inbound_count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM messages WHERE direction = 'in'"))


def _reply(to: str, answering: EmailMessage, n: int) -> EmailMessage:
    """A person's reply from the helpdesk, sent through the proxy."""
    msg = customer_mail(
        SUPPORT,
        f"Re: {answering['Subject']}",
        f"Hello, I have looked into your question and fixed it ({n}).\nKind regards, Anna\n",
        to=to,
        in_reply_to=mid(answering),
        domain="example.test",
    )
    return msg


async def test_two_replicas_share_the_mailbox_and_the_standby_takes_over(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path, postgres_url: str
) -> None:
    config = _config(tmp_path, dovecot, smtp_sink)
    db = await asyncpg.connect(postgres_url)
    replicas = [
        Daemon(config, tmp_path / f"replica{i}.log", postgres_url=postgres_url) for i in (0, 1)
    ]
    try:
        await replicas[0].healthy()
        await replicas[1].healthy()

        async def one_holder() -> bool:
            return [r.watching() for r in replicas].count(True) == 1

        await wait_for("one holder", one_holder)
        holder, standby = replicas if replicas[0].watching() else replicas[::-1]

        customers = [f"c{i}@customer.example" for i in range(6)]
        first = [
            customer_mail(c, f"Question {i}", "Where is my parcel?\n")
            for i, c in enumerate(customers[:3])
        ]
        first.append(customer_mail(customers[3], "THIRD time writing - cancel NOW", ANGRY))
        for msg in first:
            await dovecot.deliver_async(msg, mail_from=str(msg["From"]), rcpt=SUPPORT)

        async def first_seen() -> bool:
            return await _inbound_count(db) == len(first)

        await wait_for("the holder to process the first mail", first_seen)
        # Both replicas serve SMTP: a person's reply through each proxy is relayed once.
        for replica, msg in zip(replicas, first[:2], strict=True):
            await aiosmtplib.send(
                _reply(str(msg["From"]), msg, replica.smtp_port),
                hostname="127.0.0.1",
                port=replica.smtp_port,
                timeout=10,
            )

        holder.stop(signal.SIGKILL)
        killed = time.monotonic()
        later = [
            customer_mail(c, f"Another question {i}", "Any news?\n")
            for i, c in enumerate(customers[4:5])
        ]
        later.append(customer_mail(customers[5], "Second time, this is unacceptable!", ANGRY))
        for msg in later:
            await dovecot.deliver_async(msg, mail_from=str(msg["From"]), rcpt=SUPPORT)

        async def taken_over() -> bool:
            return standby.watching()

        await wait_for("the takeover", taken_over, within=TAKEOVER + SLACK + 10)
        took = time.monotonic() - killed
        assert took <= TAKEOVER + SLACK, f"takeover took {took:.1f}s"
        assert "imap_lease_taken" in standby.events()

        everything = first + later
        angry = [first[-1], later[-1]]

        async def all_done() -> bool:
            pending = await db.fetchval(
                "SELECT count(*) FROM outbox_actions WHERE kind = 'escalate' AND state <> 'done'"
            )
            return await _inbound_count(db) == len(everything) and pending == 0

        await wait_for("every message and action", all_done)
        assert standby.stop() == 0, standby.log.read_text()
        rows = await db.fetch(
            "SELECT message_id, direction, source, count(*) AS n FROM messages "
            "GROUP BY message_id, direction, source"
        )
        decisions = await db.fetch(
            "SELECT message_id, direction, count(*) AS n FROM decisions "
            "WHERE message_id IS NOT NULL GROUP BY message_id, direction"
        )
        escalations = await db.fetchval("SELECT count(*) FROM escalations")
        actions = await db.fetch(
            "SELECT kind, state, count(*) AS n FROM outbox_actions WHERE kind = 'escalate' "
            "GROUP BY kind, state"
        )
    finally:
        for replica in replicas:
            replica.kill()
        await db.close()

    inbound = {r["message_id"]: r["n"] for r in rows if r["direction"] == "in"}
    assert inbound == {mid(m): 1 for m in everything}
    outbound = [r for r in rows if r["direction"] == "out"]
    assert len(outbound) == 2 and all(r["n"] == 1 and r["source"] == "smtp" for r in outbound)
    assert len(smtp_sink.envelopes) == 2
    assert all(r["n"] == 1 for r in decisions), decisions
    assert {r["message_id"] for r in decisions} >= {mid(m) for m in angry}
    assert escalations == 2
    assert [(r["kind"], r["state"], r["n"]) for r in actions] == [("escalate", "done", 2)]
    escalated = await folder_messages(dovecot, "Escalated")
    assert sorted(m["message_id"] for m in escalated if not m["note"]) == sorted(
        mid(m) for m in angry
    )
    assert sum(1 for m in escalated if m["note"]) == 2
    inbox = [m["message_id"] for m in await folder_messages(dovecot, "INBOX")]
    assert sorted(inbox) == sorted(mid(m) for m in everything if m not in angry)
