"""The first start's backfill decides INBOX and Sent in date order across both folders
(mailguard.imap.merge), on real Dovecot: a person's reply in Sent is not decided before
the customer's messages it answered, however far INBOX's backfill lags behind Sent's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from mailguard.imap.parse import FETCH_BATCH
from mailguard.store import tables as t
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import (
    OWN_DOMAIN,
    Harness,
    customer_mail,
    kick,
    mailguard_config,
    mid,
    running_mailguard,
    wait_until,
)

pytestmark = pytest.mark.dovecot

FILLER = 3 * FETCH_BATCH  # INBOX spans several batches before the answered customer's mail
ANSWERED = "answered@customer.example"
STUCK = "stuck@customer.example"
AGENT = f"anna@{OWN_DOMAIN}"


def _dated(msg: EmailMessage, when: datetime) -> EmailMessage:
    msg.replace_header("Date", format_datetime(when))
    return msg


def _question(sender: str, n: int, when: datetime) -> EmailMessage:
    return _dated(
        customer_mail(sender, f"Order {n}", f"Hello,\n\nwhere is my order {n}? It is late.\n"),
        when,
    )


def _human_reply(customer: str, answering: EmailMessage, when: datetime) -> EmailMessage:
    reply = customer_mail(
        AGENT,
        f"Re: {answering['Subject']}",
        "Hello,\n\nsorry for the wait: I checked with the warehouse and your parcel left\n"
        "this morning, you will have it tomorrow.\n\nBest regards,\nAnna\n",
        to=customer,
        in_reply_to=mid(answering),
        domain=OWN_DOMAIN,
    )
    return _dated(reply, when)


async def _open_escalations(mg: Harness) -> list[tuple[str, str]]:
    """(customer address, rule) of every open escalation."""
    async with mg.store.engine.connect() as conn:
        rows = await conn.execute(
            select(t.customers.c.address, t.escalations.c.rule)
            .join(t.customers, t.customers.c.id == t.escalations.c.customer_id)
            .where(t.escalations.c.resolved_at.is_(None))
        )
        return sorted((str(address), str(rule)) for address, rule in rows)


async def test_a_reply_in_sent_is_decided_after_the_inbox_messages_it_answered(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    await _backfill_in_date_order(dovecot, tmp_path, kicked=False)


async def test_the_order_holds_across_a_kick_of_both_connections_in_the_backfill(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    await _backfill_in_date_order(dovecot, tmp_path, kicked=True)


async def _backfill_in_date_order(dovecot: Dovecot, tmp_path: Path, *, kicked: bool) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now - timedelta(hours=6)
    filler = [
        _question(f"filler{n}@customer.example", n, t0 - timedelta(hours=12, minutes=FILLER - n))
        for n in range(FILLER)
    ]
    answered = [_question(ANSWERED, 1000 + n, t0 + timedelta(minutes=30 * n)) for n in range(3)]
    reply = _human_reply(ANSWERED, answered[-1], t0 + timedelta(hours=2))
    stuck = [_question(STUCK, 2000 + n, t0 + timedelta(hours=3, minutes=n)) for n in range(3)]
    # UIDs follow the order of saving: the filler first, so INBOX reaches the answered
    # customer's messages only in its fourth batch; Sent holds just the reply.
    for msg in (*filler, *answered, *stuck):
        dovecot.seed(SUPPORT, msg, "INBOX")
    dovecot.seed(SUPPORT, reply, "Sent")
    config = mailguard_config(dovecot, tmp_path / "data")
    async with running_mailguard(config) as mg:
        if kicked:
            # In INBOX's second batch: Sent's reply is fetched and waits in the merge.
            await mg.processed(mid(filler[FETCH_BATCH + 10]), within=60)
            kick(dovecot)
        await mg.processed(mid(stuck[-1]), within=120)
        await mg.processed(mid(reply), within=60)

        async def checkpointed() -> bool:
            inbox = await mg.store.load_checkpoint("support", "INBOX")
            sent = await mg.store.load_checkpoint("support", "Sent")
            return (
                inbox is not None
                and inbox.last_uid == FILLER + 6
                and sent is not None
                and sent.last_uid == 1
            )

        await wait_until(checkpointed, 30, "both checkpoints at their last UID")
        for message in (*filler, *answered, reply, *stuck):
            assert await mg.decisions(mid(message)) == 1, mid(message)
        # The reply answered all three: nothing is open for that customer; the customer
        # nobody answered within the window is escalated (three messages, no reply).
        assert await _open_escalations(mg) == [(STUCK, "repeat_contact")]
