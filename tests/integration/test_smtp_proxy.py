"""The SMTP proxy between real servers on loopback: client (aiosmtplib) -> proxy -> sink.

Every path of issue 15's "each message" and "relaying": pass byte for byte, RFC 3834 hold
stored durably before 250, rewrite and divert in an escalated thread, upstream 4xx/5xx,
a stalled and an unreachable upstream, and a client retry after 451 relayed once.
"""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiosmtplib
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from mailguard.config.dryrun import DryRun
from mailguard.domain.model import Direction, Source
from mailguard.domain.policy import Policy, RepeatContactRule
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import AUTO, count, mail
from tests.integration.smtp_support import (
    Sink,
    running_proxy,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)

NOW = datetime.now(UTC).replace(microsecond=0)
CUSTOMER = "carl@customer.example"

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


def crlf(raw: bytes) -> bytes:
    """SMTP carries CRLF line ends; a client converts bare LFs, so tests send CRLF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def reply(
    message_id: str, *, automated: bool, in_reply_to: str | None = None, body: str = ""
) -> bytes:
    return crlf(
        mail(
            sender="support@example.com",
            to=CUSTOMER,
            subject="Re: my order",
            at=NOW,
            message_id=message_id,
            in_reply_to=in_reply_to,
            headers=AUTO if automated else None,
            body=body or ("We received your message.\n" if automated else "Dear Carl, ...\n"),
        )
    )


async def send(
    port: int, raw: bytes, *rcpts: str, sender: str = "support@example.com"
) -> tuple[int, str]:
    """Send through the proxy; return the reply to DATA (code, text)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10)
    await client.connect()
    try:
        await client.mail(sender)
        for rcpt in rcpts or (CUSTOMER,):
            await client.rcpt(rcpt)
        try:
            response = await client.data(raw)
        except aiosmtplib.SMTPDataError as exc:
            return exc.code, exc.message
        return response.code, response.message
    finally:
        client.close()


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_human_reply_is_relayed_byte_for_byte(store: SqlStore, sink: Sink) -> None:
    raw = reply("human-1@example.com", automated=False)
    passed = sample("mailguard_smtp_messages_total", outcome="pass", reply="2xx")
    relayed = sample("mailguard_relay_messages_total", outcome="accepted")
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw)
    assert code == 250, text
    assert sample("mailguard_smtp_messages_total", outcome="pass", reply="2xx") == passed + 1
    assert sample("mailguard_relay_messages_total", outcome="accepted") == relayed + 1
    assert "SINK1" in text
    [got] = sink.received
    assert got.raw == raw
    assert got.rcpt_tos == [CUSTOMER]
    assert got.mail_from == "support@example.com"
    assert await count(store, t.messages, t.messages.c.direction == "out") == 1


async def test_null_reverse_path_is_relayed_as_null(store: SqlStore, sink: Sink) -> None:
    """A vacation reply or bounce has MAIL FROM:<>; the upstream gets <> too, not an error."""
    raw = reply("vacation-1@example.com", automated=False)
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw, sender="")
    assert code == 250, text
    [got] = sink.received
    assert got.mail_from in ("", "<>")
    assert got.raw == raw


async def test_trace_header_is_the_only_change(store: SqlStore, sink: Sink) -> None:
    raw = reply("human-2@example.com", automated=False)
    async with running_proxy(store, sink.port, trace_header=True) as proxy:
        code, _ = await send(proxy.port, raw)
    assert code == 250
    [got] = sink.received
    head, _, rest = got.raw.partition(b"\r\n")
    assert head.startswith(b"X-Mailguard-Relayed: ")
    assert rest == raw


async def inbound_auto(store: SqlStore, proxy_engine: object, message_id: str) -> None:
    raw = mail(
        sender=CUSTOMER,
        to="support@example.com",
        subject="Out of office",
        at=NOW - timedelta(minutes=5),
        message_id=message_id,
        headers={"Auto-Submitted": "auto-replied"},
        body="I am out of the office until Monday.\n",
    )
    engine = proxy_engine
    result = await engine.process(  # type: ignore[attr-defined]
        raw, source=Source.IMAP, now=NOW, direction=Direction.INBOUND
    )
    assert result.classification.automated


async def test_robot_reply_to_robot_is_held_durably_before_250(store: SqlStore, sink: Sink) -> None:
    wakes: list[str] = []
    async with running_proxy(store, sink.port, on_actions=lambda: wakes.append("wake")) as proxy:
        human = reply("human-0@example.com", automated=False)
        await send(proxy.port, human)
        assert wakes == []  # relayed, no action for the executor
        await inbound_auto(store, proxy.engine, "ooo-1@customer.example")
        raw = reply("ack-1@example.com", automated=True, in_reply_to="ooo-1@customer.example")
        code, text = await send(proxy.port, raw)
    # The hold wrote an action (a copy for the held folder): the executor is woken for it.
    assert wakes == ["wake"]
    assert code == 250, text
    assert "held" in text
    assert [r.raw for r in sink.received] == [human]
    [held] = await store.held_mail()
    assert held.raw == raw
    assert held.envelope_sender == "support@example.com"
    assert held.envelope_recipients == (CUSTOMER,)
    async with store.engine.connect() as conn:
        actions = (
            await conn.execute(select(t.outbox_actions.c.kind, t.outbox_actions.c.payload))
        ).all()
    [payload] = [payload for kind, payload in actions if kind == "hold_outbound"]
    # Enough for the executor to find the held bytes and file a copy in the held folder.
    again = await store.held_by_key(payload["mailbox"], payload["message_id"], payload["direction"])
    assert again is not None and again.raw == raw


def escalating_policy(mode: str) -> Policy:
    # One human message without a human reply escalates at once: the next robot reply is
    # in an escalated thread.
    return Policy(repeat_contact=RepeatContactRule(min_messages=1), escalated_outbound=mode)


async def escalate(proxy_engine: object) -> None:
    raw = mail(
        sender=CUSTOMER,
        to="support@example.com",
        subject="my order",
        at=NOW - timedelta(minutes=5),
        message_id="human-in-1@customer.example",
        body="Hello, where is my order? Kind regards, Carl\n",
    )
    result = await proxy_engine.process(  # type: ignore[attr-defined]
        raw, source=Source.IMAP, now=NOW, direction=Direction.INBOUND
    )
    assert result.decision is not None and result.decision.escalated


async def test_escalated_hold(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(store, sink.port, policy=escalating_policy("hold")) as proxy:
        await escalate(proxy.engine)
        code, text = await send(proxy.port, reply("ack-h@example.com", automated=True))
    assert code == 250 and "held" in text
    assert sink.received == []
    assert len(await store.held_mail()) == 1


async def test_escalated_rewrite_keeps_mime_structure(store: SqlStore, sink: Sink) -> None:
    raw = (
        b"From: support@example.com\r\nTo: carl@customer.example\r\nSubject: Re: my order\r\n"
        b"Message-ID: <ack-r@example.com>\r\nAuto-Submitted: auto-replied\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=OUTER\r\n\r\n"
        b"--OUTER\r\nContent-Type: multipart/alternative; boundary=INNER\r\n\r\n"
        b"--INNER\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWe got your mail.\r\n"
        b"--INNER\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        b"<html><body><p>We got your mail.</p></body></html>\r\n--INNER--\r\n"
        b"--OUTER\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        b"filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        b"--OUTER--\r\n"
    )
    async with running_proxy(store, sink.port, policy=escalating_policy("rewrite")) as proxy:
        await escalate(proxy.engine)
        code, text = await send(proxy.port, raw)
    assert code == 250, text
    [got] = sink.received
    msg = email.message_from_bytes(got.raw, policy=email.policy.default)
    assert msg["Subject"] == "[handed over] Re: my order"
    assert msg["X-Mailguard-Handover"] == "yes"
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "application/pdf",
    ]
    parts = list(msg.walk())
    assert parts[2].get_content().startswith("A person will answer you shortly.")
    assert '<body><p class="mailguard-handover">A person will' in parts[3].get_content()
    assert parts[4].get_content() == b"%PDF-1.4\n"
    assert await store.held_mail() == []


async def test_escalated_divert_goes_to_agents(store: SqlStore, sink: Sink) -> None:
    raw = reply("ack-d@example.com", automated=True)
    sink.fail_next("DATA", "451 4.3.0 busy")
    async with running_proxy(store, sink.port, policy=escalating_policy("divert")) as proxy:
        await escalate(proxy.engine)
        code, _ = await send(proxy.port, raw)
        assert code == 451
        # The retry is a duplicate for the engine: the logged decision diverts it again.
        code, text = await send(proxy.port, raw)
    assert code == 250, text
    [got] = sink.received
    assert got.rcpt_tos == ["agents@example.com"]
    assert got.raw.endswith(raw)
    assert b"X-Mailguard-Diverted-From: carl@customer.example" in got.raw


@pytest.mark.parametrize(
    ("command", "upstream", "expected"),
    [
        ("MAIL", "451 4.3.0 busy", 451),
        ("RCPT", "450 4.2.0 mailbox busy", 450),
        ("DATA", "452 4.3.1 out of space", 452),
        ("DATA", "554 5.7.1 spam", 554),
        ("RCPT", "550 5.1.1 no such user", 550),
    ],
)
async def test_upstream_replies_are_mapped(
    store: SqlStore, sink: Sink, command: str, upstream: str, expected: int
) -> None:
    sink.fail_next(command, upstream)
    raw = reply(f"human-{command}-{expected}@example.com", automated=False)
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw)
        if expected < 500:
            assert code == 451, text  # the client retries; whatever the upstream's 4xx was
            # The client's MTA retries later: the engine knows the message (duplicate) and
            # relays it now that the upstream takes it; exactly one copy arrives.
            code, text = await send(proxy.port, raw)
            assert code == 250, text
            assert len(sink.received) == 1
        else:
            assert code == expected, text
            assert upstream.split(" ", 1)[1] in text
            assert sink.received == []


async def test_stalled_upstream_gives_451(store: SqlStore, sink: Sink) -> None:
    release = sink.stall()
    async with running_proxy(store, sink.port, relay_timeout=0.5) as proxy:
        code, _ = await send(proxy.port, reply("human-stall@example.com", automated=False))
        release.set()
    assert code == 451


async def test_unreachable_upstream_gives_451(store: SqlStore, sink: Sink) -> None:
    port = sink.port
    await sink.close()
    async with running_proxy(store, port) as proxy:
        code, _ = await send(proxy.port, reply("human-down@example.com", automated=False))
    assert code == 451


async def test_pooled_connection_is_reused_and_replaced_when_dropped(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port) as proxy:
        for n in range(3):
            code, _ = await send(proxy.port, reply(f"pool-{n}@example.com", automated=False))
            assert code == 250
        # The upstream drops its idle connections (as Postfix does after smtpd_timeout).
        for smtp in list(proxy.relay._idle):
            smtp.close()
        code, _ = await send(proxy.port, reply("pool-after@example.com", automated=False))
        assert code == 250
    assert len(sink.received) == 4


async def test_8bitmime_and_smtputf8_are_passed_on(store: SqlStore, sink: Sink) -> None:
    raw = reply("utf8-1@example.com", automated=False, body="Grüße aus Köln\n")
    async with running_proxy(store, sink.port) as proxy:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=proxy.port, timeout=10)
        await client.connect()
        await client.mail("support@example.com", options=["BODY=8BITMIME", "SMTPUTF8"])
        await client.rcpt("kärl@customer.example", encoding="utf-8")
        response = await client.data(raw)
        client.close()
    assert response.code == 250
    [got] = sink.received
    assert got.rcpt_tos == ["kärl@customer.example"]
    assert {o.upper() for o in got.mail_options} >= {"BODY=8BITMIME", "SMTPUTF8"}
    assert got.raw == raw


async def test_leading_dots_survive_byte_for_byte(store: SqlStore, sink: Sink) -> None:
    raw = reply("dots-1@example.com", automated=False, body=".\n..two\n.three\nend\n")
    async with running_proxy(store, sink.port) as proxy:
        code, _ = await send(proxy.port, raw)
    assert code == 250
    assert [r.raw for r in sink.received] == [raw]


async def test_over_long_line_gets_500_after_the_data(store: SqlStore, sink: Sink) -> None:
    raw = reply("long-1@example.com", automated=False, body="x" * 1200 + "\n")
    async with running_proxy(store, sink.port) as proxy:
        code, text = await send(proxy.port, raw)
        # The session is usable afterwards: the next message goes through.
        ok, _ = await send(proxy.port, reply("long-2@example.com", automated=False))
    assert code == 500, text
    assert ok == 250
    assert len(sink.received) == 1


async def test_dry_run_relays_what_it_would_hold(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(store, sink.port, dry_run=True) as proxy:
        await inbound_auto(store, proxy.engine, "ooo-dry@customer.example")
        raw = reply("ack-dry@example.com", automated=True, in_reply_to="ooo-dry@customer.example")
        code, text = await send(proxy.port, raw)
    assert code == 250, text
    assert [r.raw for r in sink.received] == [raw]
    assert await store.held_mail() == []
    [record] = await store.held_mail(every_state=True)
    assert record.state == "released"  # shown as "would have held", never released again


@pytest.mark.parametrize(
    ("dry_run", "tried", "live"),
    [
        (DryRun(False, (("support", True),)), "support", "vouchers"),
        (DryRun(True, (("vouchers", False),)), "support", "vouchers"),
    ],
)
async def test_a_mailbox_s_own_dry_run_overrides_the_global_one(
    store: SqlStore, sink: Sink, dry_run: DryRun, tried: str, live: str
) -> None:
    acks: dict[str, bytes] = {}
    async with running_proxy(store, sink.port, dry_run=dry_run) as proxy:
        for box in (tried, live):
            ooo = mail(
                sender=CUSTOMER,
                to=f"{box}@example.com",
                subject="Out of office",
                at=NOW - timedelta(minutes=5),
                message_id=f"ooo-{box}@customer.example",
                headers={"Auto-Submitted": "auto-replied"},
                body="I am out of the office until Monday.\n",
            )
            await proxy.engine.process(
                ooo, source=Source.IMAP, now=NOW, direction=Direction.INBOUND
            )
            ack = mail(
                sender=f"{box}@example.com",
                to=CUSTOMER,
                subject="Re: Out of office",
                at=NOW,
                message_id=f"ack-{box}@example.com",
                in_reply_to=f"ooo-{box}@customer.example",
                headers=AUTO,
                body="We received your message.\n",
            )
            acks[box] = crlf(ack)
            code, text = await send(proxy.port, acks[box], sender=f"{box}@example.com")
            assert code == 250, text
    # The tried mailbox's robot reply went out (a dry run holds nothing); the live one's is held.
    assert [r.raw for r in sink.received] == [acks[tried]]
    [held] = await store.held_mail()
    assert (held.mailbox, held.message_id) == (live, f"ack-{live}@example.com")
    every = {(h.mailbox, h.state) for h in await store.held_mail(every_state=True)}
    assert every == {(tried, "released"), (live, "held")}


async def test_database_trouble_gives_451_and_relays_nothing(sqlite_url: str, sink: Sink) -> None:
    # A database without the schema: recording the message and recording the failure both
    # fail, so the message is neither relayed nor acknowledged.
    broken = SqlStore.from_url(sqlite_url.replace("mailguard.db", "empty.db"))
    try:
        async with running_proxy(broken, sink.port) as proxy:
            code, _ = await send(proxy.port, reply("db-down@example.com", automated=False))
    finally:
        await broken.close()
    assert code == 451
    assert sink.received == []


OTHER = "dora@other.example"


async def test_each_customer_recipient_gets_an_event_and_one_hold(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port) as proxy:
        # Dora's auto-responder wrote; Carl did not. Our robot answers both at once (Dora
        # only in the envelope, as a Bcc): her decision holds the whole message, once.
        raw = mail(
            sender=OTHER,
            to="support@example.com",
            subject="Out of office",
            at=NOW - timedelta(minutes=5),
            message_id="ooo-dora@other.example",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am out of the office until Monday.\n",
        )
        await proxy.engine.process(raw, source=Source.IMAP, now=NOW, direction=Direction.INBOUND)
        ack = reply("ack-both@example.com", automated=True, in_reply_to="ooo-dora@other.example")
        code, text = await send(proxy.port, ack, CUSTOMER, OTHER)
        assert code == 250 and "held" in text, text
        # A retry of the same message is answered from the held row, not relayed.
        code, text = await send(proxy.port, ack, CUSTOMER, OTHER)
        assert code == 250 and "held" in text, text
    assert sink.received == []
    async with store.engine.connect() as conn:
        keys = (
            (
                await conn.execute(
                    select(t.messages.c.message_id).where(t.messages.c.direction == "out")
                )
            )
            .scalars()
            .all()
        )
        holds = (
            await conn.execute(
                select(t.outbox_actions.c.id).where(t.outbox_actions.c.kind == "hold_outbound")
            )
        ).all()
    assert sorted(keys) == ["ack-both@example.com", f"ack-both@example.com#{OTHER}"]
    assert len(holds) == 1
    [held] = await store.held_mail()
    assert held.message_id == "ack-both@example.com"
    assert held.envelope_recipients == (CUSTOMER, OTHER)


async def test_a_human_reply_to_two_customers_is_relayed_once(store: SqlStore, sink: Sink) -> None:
    raw = reply("human-both@example.com", automated=False)
    async with running_proxy(store, sink.port) as proxy:
        code, _ = await send(proxy.port, raw, CUSTOMER, OTHER)
    assert code == 250
    [got] = sink.received
    assert got.rcpt_tos == [CUSTOMER, OTHER]
    assert await count(store, t.messages, t.messages.c.direction == "out") == 2
