"""The story mailguard exists for, end to end: one `mailguard run` on Dovecot and PostgreSQL.

IMAP and SMTP in one running daemon (tests/integration/robots.py for the cast):

1. Carl's mail arrives by LMTP; the helpdesk robot answers through the proxy: relayed, and
   recorded.
2. Carl writes again; the robot answers again: an automated streak. Carl's messages move to
   the escalation folder with the keyword and a note, the robot's answer is held, and the
   agents' notification arrives at the upstream relay, addressed to the agents.
3. Carl writes a third time: his message is filed beside the escalation, and the robot's
   answer in the escalated thread is held too.
4. An agent answers Carl through the proxy: relayed, and the escalation is resolved
   (``mailguard status`` and ``mailguard threads`` say so). After that the robot is free
   to answer Carl again.

Each message is decided exactly once (the decision log in PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path

import aiosmtplib
import asyncpg
import pytest

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, held_listing, wait_for
from tests.integration.imap_support import OWN_DOMAIN, customer_mail, folder_messages, mid
from tests.integration.robots import CompanyMx, HelpdeskRobot, Internet, Ledger, Traffic

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.smtp, pytest.mark.slow]

CARL = "carl@customer.example"
AGENTS = "agents@example.test"
RELAYED = "2.0.0 Ok: relayed (OK)"
HELD = "2.0.0 Ok: held by mailguard for a person"


async def test_escalation_held_reply_notification_and_an_agents_answer(
    dovecot: Dovecot, internet: Internet, traffic: Traffic, tmp_path: Path, postgres_url: str
) -> None:
    config = daemon_config(
        tmp_path,
        dovecot,
        internet.address,
        postgres=True,
        extra={"notify": {"agents": AGENTS, "sender": f"mailguard@{OWN_DOMAIN}"}},
    )
    daemon = Daemon(config, tmp_path / "daemon.log", postgres_url=postgres_url)
    ledger = Ledger(postgres_url)
    db = await asyncpg.connect(postgres_url)
    try:
        await daemon.healthy("/readyz")
        robot = HelpdeskRobot(daemon.smtp_port)
        # The robot answers once mailguard's watcher has read the message it answers.
        mx = CompanyMx(dovecot, robot, traffic, ledger.seen)

        # 1. Carl writes; the robot's acknowledgement is relayed, and recorded.
        first = customer_mail(CARL, "Voucher code does not work", "My code VX-1 fails.\n")
        await mx.deliver(first)
        await traffic.idle()
        [ack1] = robot.sent
        assert robot.replies[mid(ack1)] == RELAYED
        assert [r.message_id for r in internet.to(CARL)] == [mid(ack1)]
        assert await ledger.seen(mid(ack1), "out")

        # 2. Carl writes again and the robot answers again: escalated, the answer held.
        again = customer_mail(
            CARL,
            f"Re: {ack1['Subject']}",
            "Hello? The code still fails, I wrote yesterday.\n",
            in_reply_to=mid(ack1),
        )
        await mx.deliver(again)
        await traffic.idle()
        ack2 = robot.sent[1]
        assert robot.replies[mid(ack2)] == HELD
        assert len(internet.to(CARL)) == 1

        async def escalated() -> bool:
            found = await folder_messages(dovecot, "Escalated")
            flagged = {m["message_id"] for m in found if "$MailguardEscalated" in m["flags"]}
            notes = [m for m in found if m["note"]]
            return flagged >= {mid(first), mid(again)} and len(notes) == 1

        await wait_for("Carl's messages and the note in Escalated", escalated)
        inbox = {m["message_id"] for m in await folder_messages(dovecot, "INBOX")}
        assert not inbox & {mid(first), mid(again)}

        async def notified() -> bool:
            return bool(internet.to(AGENTS))

        await wait_for("the agents' notification at the relay", notified)
        [notice] = internet.to(AGENTS)
        assert notice.rcpt_tos == (AGENTS,)
        text = notice.message.get_content()
        assert CARL in text and "automated_streak" in text and "Escalated" in text
        assert CARL not in notice.rcpt_tos

        # 3. Carl writes a third time: the robot's answer in the escalated thread is held.
        third = customer_mail(
            CARL, f"Re: {ack2['Subject']}", "Is anybody there?\n", in_reply_to=mid(ack2)
        )
        await mx.deliver(third)
        await traffic.idle()
        ack3 = robot.sent[2]
        assert robot.replies[mid(ack3)] == HELD
        assert [r.message_id for r in internet.to(CARL)] == [mid(ack1)]

        async def followed_up() -> bool:
            found = await folder_messages(dovecot, "Escalated")
            return any(
                m["message_id"] == mid(third) and "$MailguardEscalated" in m["flags"] for m in found
            )

        # The follow-up goes where the agents work, not to the inbox; no second note.
        await wait_for("Carl's follow-up in Escalated", followed_up)
        assert sum(1 for m in await folder_messages(dovecot, "Escalated") if m["note"]) == 1
        listing = await daemon.acli("held", "list")
        assert list(held_listing(listing.stdout)) == [mid(ack2), mid(ack3)], listing.stdout
        status = await daemon.acli("status")
        assert "open escalations: 1" in status.stdout, status.stdout
        assert f"support {CARL}  rule automated_streak" in status.stdout

        # 4. An agent answers Carl through the proxy: relayed, and the escalation resolved.
        answer = customer_mail(
            SUPPORT,
            f"Re: {third['Subject']}",
            "Dear Carl,\nI am sorry about the trouble. Your new code is VX-2; I have checked "
            "that it works.\nKind regards, Anna\n",
            to=CARL,
            in_reply_to=mid(third),
            domain=OWN_DOMAIN,
        )
        _, reply = await aiosmtplib.send(
            answer, hostname="127.0.0.1", port=daemon.smtp_port, sender=SUPPORT, timeout=30
        )
        assert reply == RELAYED
        assert [r.message_id for r in internet.to(CARL)] == [mid(ack1), mid(answer)]

        async def resolved() -> bool:
            shown = await daemon.acli("status")
            return "open escalations: 0" in shown.stdout

        await wait_for("the escalation to be resolved", resolved)

        async def superseded() -> bool:
            # The robot's replies held meanwhile will never go out now: no longer waiting.
            shown = await daemon.acli("held", "list")
            return held_listing(shown.stdout) == {}

        await wait_for("the held robot replies to be superseded", superseded)
        every_state = await daemon.acli("held", "list", "--all")
        lines = [x for x in every_state.stdout.splitlines() if mid(ack2) in x or mid(ack3) in x]
        assert len(lines) == 2 and all("discarded" in x for x in lines), every_state.stdout
        took_over = f"superseded: a person took over (human_reply:{mid(answer)})"
        assert all(took_over in x for x in lines), lines
        assert [r.message_id for r in internet.to(CARL)] == [mid(ack1), mid(answer)]
        threads = await daemon.acli("threads", "--customer", CARL)
        assert threads.returncode == 0, threads.stderr
        [line] = [x for x in threads.stdout.splitlines() if "rule automated_streak" in x]
        assert "resolved" in line and f"human_reply:{mid(answer)}" in line, line
        # The agent's answer is in the timeline as a person's.
        assert any(" -> human " in x for x in threads.stdout.splitlines()), threads.stdout

        # With Carl in a person's hands, the robot may answer his next message again.
        thanks = customer_mail(
            CARL, f"Re: {answer['Subject']}", "Thank you, it works now.\n", in_reply_to=mid(answer)
        )
        await mx.deliver(thanks)
        await traffic.idle()
        assert robot.replies[mid(robot.sent[3])] == RELAYED

        assert daemon.stop() == 0, daemon.log.read_text()[-3000:]
        decisions = await db.fetch(
            "SELECT message_id, direction, count(*) AS n FROM decisions "
            "WHERE message_id IS NOT NULL GROUP BY message_id, direction"
        )
        not_done = await db.fetchval("SELECT count(*) FROM outbox_actions WHERE state <> 'done'")
    finally:
        daemon.kill()
        await ledger.close()
        await db.close()
    every = [first, again, third, thanks, *robot.sent, answer]
    assert {(r["message_id"], r["direction"]) for r in decisions} == {
        (mid(m), "in" if m in (first, again, third, thanks) else "out") for m in every
    }
    assert all(r["n"] == 1 for r in decisions), decisions
    assert not_done == 0
    assert len(internet.to(AGENTS)) == 1
