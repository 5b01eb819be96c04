"""The milter in a real Postfix + Dovecot + OpenDKIM configured from the shipped recipe.

Each test runs the whole company of :mod:`tests.integration.milter_support`: mail from the
internet arrives on the MX listener and is delivered by LMTP into Dovecot, support@'s Sieve
vacation answers through Postfix's ``sendmail`` (pickup, ``non_smtpd_milters``), the
helpdesk and the agents send through submission (``smtpd_milters``), OpenDKIM signs after
mailguard, and what leaves the company reaches the sink.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.dovecot.fixture import AGENT, SUPPORT, DovecotFactory, make_message
from tests.integration.conftest import pg_connect
from tests.integration.daemon_support import held_listing, wait_for
from tests.integration.imap_support import ANGRY, customer_mail, mid
from tests.integration.milter_support import Company, dkim_verifies, inbox, running_company
from tests.real_servers import exercised

pytestmark = [pytest.mark.smtp, pytest.mark.dovecot, pytest.mark.slow]

CARL = "carl@customer.example"
CALM = "Hello,\n\ncould you tell me when my parcel arrives?\n\nThanks, Carl\n"


@pytest.fixture
async def company(
    request: pytest.FixtureRequest, tmp_path: Path, dovecot_factory: DovecotFactory
) -> AsyncIterator[Company]:
    """The company; a test's ``SETTINGS`` parameter is laid over mailguard's configuration."""
    extra = getattr(request, "param", {})
    async with running_company(tmp_path, dovecot_factory, extra=extra) as running:
        exercised(request.node, "smtp")
        yield running


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def decided_per_message(company: Company) -> Counter[str]:
    """How often the milter decided each Message-ID (a loop would count one twice)."""
    return Counter(e["message_id"] for e in company.events("milter_message_decided"))


def helpdesk_reply(to: str, answers: EmailMessage, *, robot: bool, body: str) -> EmailMessage:
    reply = make_message(
        sender=SUPPORT,
        to=to,
        subject=f"Re: {answers['Subject']}",
        body=body,
        headers=[
            ("In-Reply-To", str(answers["Message-ID"])),
            ("References", str(answers["Message-ID"])),
        ],
    )
    reply.replace_header("Message-ID", make_msgid(domain="example.test"))
    reply["Date"] = format_datetime(datetime.now(UTC))
    if robot:
        reply["Auto-Submitted"] = "auto-replied"
    return reply


async def test_calm_customer_gets_the_signed_vacation_reply(company: Company) -> None:
    question = customer_mail(CARL, "Where is my parcel?", CALM)
    await company.from_internet(question, sender=CARL, rcpts=[SUPPORT])
    await company.sink_got(1, within=90)
    [reply] = company.sink.received
    assert reply.rcpt_tos == [CARL]
    assert reply.mail_from == "<>"
    message = parsed(reply.raw)
    assert "Auto-Reply" in str(message["Subject"])
    assert message["DKIM-Signature"] is not None
    assert dkim_verifies(reply.raw, company.key)
    # The vacation reply went through pickup and the milter once: deferred until the watcher
    # had read Carl's message, then decided (pass) and relayed through the return listener.
    [decided] = company.events("milter_message_decided")
    assert decided["outcome"] == "defer"
    [later] = company.events("deferred_reply_decided")
    assert later["outcome"] == "pass"
    assert "uid=" in company.site.wait_log(r"pickup\[\d+\]: \w+: uid=\d+ from=<>")[0]
    assert decided_per_message(company) == Counter({message["Message-ID"].strip("<>"): 1})


async def test_angry_first_message_gets_no_robot_and_a_person_is_told(company: Company) -> None:
    angry = customer_mail(CARL, "Charged twice - third time I write", ANGRY)
    await company.from_internet(angry, sender=CARL, rcpts=[SUPPORT])

    async def held() -> bool:
        listed = await company.daemon.acli("held", "list")  # type: ignore[union-attr]
        return bool(held_listing(listed.stdout))

    await wait_for("the vacation reply to be held", held, within=60)
    # The agents hear of it: the notification went through the return listener, was signed
    # and delivered by LMTP to agent@'s INBOX.
    notices: list[bytes] = []

    async def notified() -> bool:
        notices[:] = await inbox(company.dovecot, AGENT)
        return bool(notices)

    await wait_for("the agents' notification", notified, within=60)
    notice = parsed(notices[0])
    assert notice["X-Mailguard-Notification"] is not None
    assert dkim_verifies(notices[0], company.key)
    await asyncio.sleep(2)  # the vacation reply would have reached the sink by now
    assert company.sink.received == []

    # An agent releases it: it leaves once, signed, and does not come back through the milter.
    assert company.daemon is not None
    listing = held_listing((await company.daemon.acli("held", "list")).stdout)
    [(reply_id, held_id)] = listing.items()
    released = await company.daemon.acli("held", "release", str(held_id))
    assert released.returncode == 0, released.stderr
    await company.sink_got(1)
    [sent] = company.sink.received
    assert sent.rcpt_tos == [CARL]
    assert parsed(sent.raw)["Message-ID"].strip("<>") == reply_id
    assert dkim_verifies(sent.raw, company.key)
    again = await company.daemon.acli("held", "release", str(held_id))
    assert again.returncode != 0 and "not held any more" in again.stderr
    await asyncio.sleep(2)
    assert len(company.sink.received) == 1
    assert decided_per_message(company)[reply_id] == 1
    assert company.events("milter_release_reentered") == []


@pytest.mark.parametrize(
    "company",
    [
        {
            "proxy": {
                "enabled": False,
                "escalated": "rewrite",
                "rewrite": {"subject_prefix": "[Team] "},
            }
        }
    ],
    indirect=True,
)
async def test_robot_reply_to_an_escalated_customer_is_rewritten_then_signed(
    company: Company,
) -> None:
    angry = customer_mail(CARL, "Charged twice - third time I write", ANGRY)
    await company.from_internet(angry, sender=CARL, rcpts=[SUPPORT])
    # The vacation reply to the angry message is rewritten after its deferral.
    await company.sink_got(1, within=60)
    company.sink.received.clear()
    ack = helpdesk_reply(CARL, angry, robot=True, body="We received your request #4711.\n")
    await company.submit(ack, sender=SUPPORT, rcpts=[CARL])
    await company.sink_got(1)
    [got] = company.sink.received
    message = parsed(got.raw)
    assert str(message["Subject"]).startswith("[Team] Re: ")
    assert message["X-Mailguard-Handover"] == "yes"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Your request has been passed to a member of our team")
    assert "We received your request #4711." in text
    assert dkim_verifies(got.raw, company.key), got.raw.decode(errors="replace")
    [decided] = [e for e in company.events("milter_message_decided") if e["message_id"] == mid(ack)]
    assert decided["outcome"] == "rewrite"


@pytest.mark.parametrize(
    "company", [{"proxy": {"enabled": False, "escalated": "divert"}}], indirect=True
)
async def test_robot_reply_to_an_escalated_customer_is_diverted_to_the_agents(
    company: Company,
) -> None:
    angry = customer_mail(CARL, "Charged twice - third time I write", ANGRY)
    await company.from_internet(angry, sender=CARL, rcpts=[SUPPORT])

    async def escalated() -> bool:
        return any(e["outcome"] == "divert" for e in company.events("deferred_reply_decided"))

    await wait_for("the vacation reply's divert", escalated, within=60)
    ack = helpdesk_reply(CARL, angry, robot=True, body="We received your request #4712.\n")
    await company.submit(ack, sender=SUPPORT, rcpts=[CARL])

    async def diverted() -> bool:
        return any(
            mid(ack) in m.decode(errors="replace") for m in await inbox(company.dovecot, AGENT)
        )

    await wait_for("the diverted reply in agent@'s INBOX", diverted, within=30)
    copy = next(m for m in await inbox(company.dovecot, AGENT) if mid(ack).encode() in m)
    message = parsed(copy)
    assert message["X-Mailguard-Diverted-From"] == CARL
    assert dkim_verifies(copy, company.key)
    assert all(CARL not in r.rcpt_tos for r in company.sink.received)


async def test_an_agents_reply_passes_unchanged(company: Company) -> None:
    question = customer_mail(CARL, "Where is my parcel?", CALM)
    await company.from_internet(question, sender=CARL, rcpts=[SUPPORT])
    await company.sink_got(1, within=60)  # the vacation reply
    answer = helpdesk_reply(
        CARL, question, robot=False, body="Dear Carl,\n\nyour parcel left today.\n\nAnna\n"
    )
    await company.submit(answer, sender=SUPPORT, rcpts=[CARL])
    await company.sink_got(2)
    got = company.sink.received[1]
    message = parsed(got.raw)
    assert message["Message-ID"].strip("<>") == mid(answer)
    # Unchanged: the sent header fields and body are there byte for byte; Postfix added its
    # Received line and OpenDKIM its signature on top.
    sent = answer.as_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
    assert got.raw.endswith(sent), got.raw.decode(errors="replace")
    assert dkim_verifies(got.raw, company.key)
    [decided] = [
        e for e in company.events("milter_message_decided") if e["message_id"] == mid(answer)
    ]
    assert decided["outcome"] == "pass" and decided["edits"] == 0


async def test_mail_from_the_internet_claiming_support_is_not_decided(company: Company) -> None:
    forged = make_message(
        sender=SUPPORT, to=SUPPORT, subject="Automatic reply: invoice", body="I am away.\n"
    )
    forged["Auto-Submitted"] = "auto-replied"
    await company.from_internet(forged, sender=SUPPORT, rcpts=[SUPPORT])
    company.site.wait_log(r"lmtp\[\d+\]: \w+: to=<support@example\.test>.*status=sent")
    await asyncio.sleep(1)
    assert company.events("milter_message_decided") == []
    assert any(b"Automatic reply: invoice" in m for m in await inbox(company.dovecot, SUPPORT))


async def test_a_refused_recipient_bounces_and_the_others_get_it(company: Company) -> None:
    customers = ["dora@customer.example", "erik@customer.example", "fred@customer.example"]
    company.sink.fail_next("RCPT", "550 5.1.1 <dora@customer.example>: no such user")
    answer = make_message(
        sender=SUPPORT, to=", ".join(customers), subject="Our new opening hours", body="Hi!\n"
    )
    await company.submit(answer, sender=SUPPORT, rcpts=customers)
    await company.sink_got(1)
    [got] = company.sink.received
    assert sorted(got.rcpt_tos) == customers[1:]
    # Postfix bounced the refused recipient to the sender (delivered into support@'s INBOX).

    async def bounced() -> bool:
        return any(b"dora@customer.example" in m for m in await inbox(company.dovecot, SUPPORT))

    await wait_for("the bounce in support@'s INBOX", bounced, within=30)
    assert decided_per_message(company) == Counter({mid(answer): 1})


async def test_with_mailguard_down_postfix_keeps_the_mail_until_it_is_back(
    company: Company,
) -> None:
    assert company.daemon is not None
    company.daemon.stop()
    question = customer_mail(CARL, "Where is my parcel?", CALM)
    await company.from_internet(question, sender=CARL, rcpts=[SUPPORT])
    answer = helpdesk_reply(CARL, question, robot=False, body="Dear Carl,\n\nit left today.\n")
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        await company.submit(answer, sender=SUPPORT, rcpts=[CARL])
    assert refused.value.smtp_code == 451
    company.site.wait_log(r"pickup.*from=<>", timeout=30)
    company.site.wait_log(r"cleanup.*milter-reject: CONNECT.*4\.7\.1", timeout=30)
    await asyncio.sleep(2)
    assert company.sink.received == []
    assert any(entry["queue_name"] == "maildrop" for entry in company.site.queue())
    company.start_mailguard()
    await company.ready()
    await company.submit(answer, sender=SUPPORT, rcpts=[CARL])  # the helpdesk's retry
    await company.sink_got(2, within=90)
    await asyncio.sleep(3)
    ids = Counter(parsed(r.raw)["Message-ID"].strip("<>") for r in company.sink.received)
    assert ids[mid(answer)] == 1 and len(ids) == 2 and set(ids.values()) == {1}, ids


@pytest.mark.postgres
async def test_with_the_database_down_postfix_retries_later(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    dovecot_factory: DovecotFactory,
    postgres_url: str,
) -> None:
    database = make_url(postgres_url).database
    async with running_company(tmp_path, dovecot_factory, postgres_url=postgres_url) as company:
        exercised(request.node, "smtp")
        question = customer_mail(CARL, "Where is my parcel?", CALM)
        answer = helpdesk_reply(CARL, question, robot=False, body="Dear Carl,\n\nit left.\n")
        admin = await pg_connect()
        try:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
            with pytest.raises(smtplib.SMTPResponseException) as refused:
                await company.submit(answer, sender=SUPPORT, rcpts=[CARL])
            assert refused.value.smtp_code == 451
            assert b"mailguard" in refused.value.smtp_error
        finally:
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await admin.close()
        assert company.sink.received == []
        await company.submit(answer, sender=SUPPORT, rcpts=[CARL])  # the helpdesk's retry
        await company.sink_got(1)
        await asyncio.sleep(2)
        assert len(company.sink.received) == 1
        [failed] = company.events("milter_message_failed")
        assert failed["queue_id"]


async def test_a_release_sent_back_through_the_milter_is_not_held_again(company: Company) -> None:
    """``relay:`` at the submission port (a misconfiguration): the released reply passes the
    milter a second time, which recognises it, lets it go once and says what to fix."""
    assert company.daemon is not None
    angry = customer_mail(CARL, "Charged twice - third time I write", ANGRY)
    await company.from_internet(angry, sender=CARL, rcpts=[SUPPORT])

    async def held() -> bool:
        return bool(held_listing((await company.daemon.acli("held", "list")).stdout))  # type: ignore[union-attr]

    await wait_for("the vacation reply to be held", held, within=60)
    [(reply_id, held_id)] = held_listing((await company.daemon.acli("held", "list")).stdout).items()
    config = yaml.safe_load(company.config.read_text())
    config["relay"]["port"] = company.site.submission_port
    company.config.write_text(yaml.safe_dump(config))
    released = await company.daemon.acli("held", "release", str(held_id))
    assert released.returncode == 0, released.stderr
    await company.sink_got(1)
    [sent] = company.sink.received
    assert parsed(sent.raw)["Message-ID"].strip("<>") == reply_id
    assert dkim_verifies(sent.raw, company.key)
    [warning] = company.events("milter_release_reentered")
    assert warning["message_id"] == reply_id
    await asyncio.sleep(2)
    assert len(company.sink.received) == 1
