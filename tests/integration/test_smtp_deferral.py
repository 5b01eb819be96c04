"""Deferred replies in-process: the proxy stores a robot's reply to a message not seen yet,
answers 250, and the deferral worker decides it once, whatever happens in between.

The real proxy (aiosmtpd on an ephemeral port) relays to a real aiosmtpd sink; the store is
SQLite and PostgreSQL in turn. The customer's message is recorded through the engine exactly
as the IMAP watcher records it (source imap, inbound); the end-to-end test with Dovecot's own
Sieve vacation and the real watcher is test_vacation_deferral.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from mailguard.domain.model import Direction, Source
from mailguard.engine.service import Deferral
from mailguard.smtp import held, replies
from mailguard.smtp.deferred import RELAY_RETRY, DeferredWorker
from mailguard.store import tables as t
from mailguard.store.overview import Overview
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade
from tests.integration.engine_support import AUTO, count, mail
from tests.integration.smtp_support import (
    Proxy,
    Sink,
    running_proxy,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)
from tests.integration.test_smtp_proxy import send

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

CARL = "carl@customer.example"
WATCHED = frozenset({"support"})
LONG = Deferral(timedelta(seconds=60), WATCHED)
# The relay's per-command timeout: generous, so that a loaded machine never turns a queued
# fault of the sink into a timeout (running_proxy's default is 2 s).
RELAY_S = 15.0
ANGRY = (
    "This is the third time I am writing to you about this and nobody has bothered to\n"
    "answer. You charged my card twice after I had already cancelled. This is\n"
    "unacceptable. If I do not get my money back this week I will cancel everything,\n"
    "dispute the charges with my bank and report you.\n"
)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


def question(message_id: str, body: str = "Where is my parcel?\n", sender: str = CARL) -> bytes:
    return mail(
        sender=sender,
        to="support@example.com",
        subject="My order",
        at=datetime.now(UTC),
        message_id=message_id,
        body=body,
    )


def vacation(message_id: str, answering: str, to: str = CARL, sender: str = "support") -> bytes:
    """support@'s out-of-office reply, as Sieve vacation writes it (RFC 3834 headers)."""
    return mail(
        sender=f"{sender}@example.com",
        to=to,
        subject="Auto: My order",
        at=datetime.now(UTC),
        message_id=message_id,
        in_reply_to=answering,
        headers=AUTO,
        body="I am away until Monday and will answer your message then.\n",
    )


async def watcher_records(proxy: Proxy, raw: bytes) -> None:
    """What the IMAP watcher does with the customer's message once it is in INBOX."""
    await proxy.engine.process(
        raw,
        source=Source.IMAP,
        now=datetime.now(UTC),
        mailbox="support",
        direction=Direction.INBOUND,
    )


def worker(proxy: Proxy, poll_seconds: float = 0.5) -> DeferredWorker:
    return DeferredWorker(
        proxy.engine, proxy.store, proxy.handler.dispatcher, poll_seconds=poll_seconds
    )


def relayed_ids(sink: Sink) -> list[str]:
    found = []
    for received in sink.received:
        for line in received.raw.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                found.append(line.split(b":", 1)[1].strip().strip(b"<>").decode())
    return found


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_reply_to_an_unseen_message_waits_and_is_relayed_once_it_is_seen(
    store: SqlStore, sink: Sink
) -> None:
    deferred_before = metric("mailguard_smtp_deferrals_total", event="deferred")
    seen_before = metric("mailguard_smtp_deferrals_total", event="seen")
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        code, text = await send(proxy.port, vacation("v1@example.com", "q1@customer.example"))
        assert (code, text) == (250, replies.S250_DEFERRED[4:])
        assert sink.received == []
        [row] = await store.held_mail()
        assert (row.state, row.awaits) == ("deferred", "q1@customer.example")
        status = await Overview(store.engine).status()
        assert (status.held, status.deferred) == (0, 1)
        [line] = held.summary([row])
        assert "deferred" in line and "waiting for <q1@customer.example>" in line
        assert metric("mailguard_smtp_deferrals_total", event="deferred") == deferred_before + 1

        decide = worker(proxy)
        assert await decide.run_once() == 0  # nothing seen, time not up
        # The retention purge never takes a reply nobody has decided yet.
        await store.purge_older_than(datetime.now(UTC) + timedelta(days=1))
        assert [r.state for r in await store.held_mail()] == ["deferred"]
        await watcher_records(proxy, question("q1@customer.example"))
        assert await decide.run_once() == 1
        assert await decide.run_once() == 0
    assert relayed_ids(sink) == ["v1@example.com"]
    assert [r.rcpt_tos for r in sink.received] == [[CARL]]
    [row] = await store.held_mail(every_state=True)
    assert (row.state, row.reason) == ("released", "deferred, then relayed (pass)")
    assert metric("mailguard_smtp_deferrals_total", event="seen") == seen_before + 1
    # The reply was decided as outbound robot mail, after the question: in that order.
    assert await count(store, t.messages, t.messages.c.message_id == "v1@example.com") == 1


async def test_an_angry_question_seen_later_holds_the_deferred_reply(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        await send(proxy.port, vacation("v2@example.com", "q2@customer.example"))
        await watcher_records(proxy, question("q2@customer.example", ANGRY))
        assert await worker(proxy).run_once() == 1
    assert sink.received == []
    [row] = await store.held_mail()
    assert row.state == "held"
    assert "frustration" in row.reason
    # The hold is a hold like any other: the executor files a copy in the Held folder.
    h = t.outbox_actions.c
    assert await count(store, t.outbox_actions, h.kind == "hold_outbound") == 1
    assert (await Overview(store.engine).status()).deferred == 0


async def test_a_reply_whose_copy_in_sent_was_decided_first_is_still_held(
    store: SqlStore, sink: Sink
) -> None:
    """A helpdesk that files its replies in Sent: the watcher may decide that copy before the
    worker decides the deferred reply; the hold in the decision log holds the reply."""
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        raw = vacation("v9@example.com", "q9@customer.example")
        await send(proxy.port, raw)
        await watcher_records(proxy, question("q9@customer.example", ANGRY))
        await proxy.engine.process(
            raw,
            source=Source.IMAP,
            now=datetime.now(UTC),
            mailbox="support",
            direction=Direction.OUTBOUND,
        )
        assert await worker(proxy).run_once() == 1
    assert sink.received == []
    [row] = await store.held_mail()
    assert row.state == "held"
    assert "mailguard explain" in row.reason


async def test_a_question_never_seen_is_decided_at_the_deadline_and_the_log_says_why(
    store: SqlStore, sink: Sink
) -> None:
    short = Deferral(timedelta(seconds=0.3), WATCHED)
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=short) as proxy:
        await send(proxy.port, vacation("v3@example.com", "never@customer.example"))
        decide = worker(proxy)
        assert await decide.run_once() == 0
        await asyncio.sleep(0.4)
        with capture_logs() as logs:
            assert await decide.run_once() == 1
    assert relayed_ids(sink) == ["v3@example.com"]
    [expired] = [e for e in logs if e["event"] == "deferral_expired"]
    assert expired["message_id"] == "v3@example.com"
    assert expired["awaits"] == "never@customer.example"
    assert "<never@customer.example> was not recorded" in expired["reason"]
    assert expired["log_level"] == "warning"


async def test_deferral_off_relays_at_once_as_before(store: SqlStore, sink: Sink) -> None:
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=None) as proxy:
        code, _ = await send(proxy.port, vacation("v4@example.com", "q4@customer.example"))
        assert code == 250
        # Relayed before the client got its 250, the question unseen.
        assert relayed_ids(sink) == ["v4@example.com"]
    assert await store.held_mail(every_state=True) == []


async def test_only_robot_replies_to_unseen_mail_of_a_watched_mailbox_wait(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        await watcher_records(proxy, question("seen@customer.example"))
        person = mail(
            sender="support@example.com",
            to=CARL,
            subject="Re: My order",
            at=datetime.now(UTC),
            message_id="p5@example.com",
            in_reply_to="unseen5@customer.example",
            body="Dear Carl, your parcel left today. Anna\n",
        )
        await send(proxy.port, person)
        await send(proxy.port, vacation("v5@example.com", "seen@customer.example"))
        # vouchers@ has no watcher here: its robot's reply would wait for nothing.
        await send(
            proxy.port,
            vacation("v6@example.com", "unseen6@customer.example", sender="vouchers"),
            sender="vouchers@example.com",
        )
    assert relayed_ids(sink) == ["p5@example.com", "v5@example.com", "v6@example.com"]
    assert await store.held_mail(every_state=True) == []


async def test_a_client_retrying_a_deferred_reply_gets_250_and_one_stored_copy(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        raw = vacation("v7@example.com", "q7@customer.example")
        for _ in range(2):
            assert (await send(proxy.port, raw))[0] == 250
        await watcher_records(proxy, question("q7@customer.example"))
        # Seen now, but still deferred: the worker relays it, not the retry.
        assert (await send(proxy.port, raw))[0] == 250
        assert sink.received == []
        assert await worker(proxy).run_once() == 1
    assert relayed_ids(sink) == ["v7@example.com"]
    assert len(await store.held_mail(every_state=True)) == 1


async def test_a_deferred_reply_survives_a_restart(db_url: str, sink: Sink) -> None:
    await upgrade(db_url)
    first = SqlStore.from_url(db_url)
    try:
        async with running_proxy(first, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
            code, _ = await send(proxy.port, vacation("v8@example.com", "q8@customer.example"))
            assert code == 250
    finally:
        await first.close()
    # A new process: new pools, new engine, new worker; only the database is the same.
    second = SqlStore.from_url(db_url)
    try:
        async with running_proxy(second, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
            await watcher_records(proxy, question("q8@customer.example"))
            stop = asyncio.Event()
            task = asyncio.create_task(worker(proxy, poll_seconds=0.05).run(stop))
            try:
                async with asyncio.timeout(10):
                    await sink.handler.arrived.wait()
            finally:
                stop.set()
                await task
    finally:
        await second.close()
    assert relayed_ids(sink) == ["v8@example.com"]


async def test_two_workers_on_two_pools_decide_and_relay_each_reply_once(
    db_url: str, sink: Sink
) -> None:
    """Two replicas' workers (own connection pools, own relays) race for the same rows."""
    await upgrade(db_url)
    stores = [SqlStore.from_url(db_url) for _ in range(2)]
    try:
        async with (
            running_proxy(stores[0], sink.port, relay_timeout=RELAY_S, deferral=LONG) as a,
            running_proxy(stores[1], sink.port, relay_timeout=RELAY_S, deferral=LONG) as b,
        ):
            expected = []
            for n in range(6):
                proxy = (a, b)[n % 2]
                customer = f"c{n}@customer.example"
                await send(proxy.port, vacation(f"r{n}@example.com", f"q{n}@c.example", customer))
                expected.append(f"r{n}@example.com")
            for n in range(6):
                await watcher_records(
                    a, question(f"q{n}@c.example", sender=f"c{n}@customer.example")
                )
            workers = [worker(a), worker(b)]
            for _ in range(3):
                await asyncio.gather(*(w.run_once() for w in workers))
    finally:
        for s in stores:
            await s.close()
    assert sorted(relayed_ids(sink)) == sorted(expected)
    check = SqlStore.from_url(db_url)
    try:
        states = [r.state for r in await check.held_mail(every_state=True)]
    finally:
        await check.close()
    assert states == ["released"] * 6


async def test_a_relay_failure_is_retried_and_a_refusal_is_held(
    store: SqlStore, sink: Sink
) -> None:
    async with running_proxy(store, sink.port, relay_timeout=RELAY_S, deferral=LONG) as proxy:
        for n in (1, 2):
            await send(proxy.port, vacation(f"f{n}@example.com", f"qf{n}@customer.example"))
            await watcher_records(proxy, question(f"qf{n}@customer.example"))
        sink.fail_next("MAIL", "451 4.3.0 try later")
        sink.fail_next("MAIL", "550 5.7.1 not from you")
        decide = worker(proxy)
        assert await decide.run_once() == 2
        assert sink.received == []
        rows = {r.message_id: r for r in await store.held_mail(every_state=True)}
        assert rows["f1@example.com"].state == "deferred"  # back in line for another try
        assert rows["f2@example.com"].state == "held"
        assert "refused by the relay: 550" in rows["f2@example.com"].reason
        assert await decide.run_once() == 0  # not before RELAY_RETRY
        later = DeferredWorker(
            proxy.engine,
            store,
            proxy.handler.dispatcher,
            clock=lambda: datetime.now(UTC) + RELAY_RETRY + timedelta(seconds=1),
        )
        assert await later.run_once() == 1
        assert await later.run_once() == 0
    assert relayed_ids(sink) == ["f1@example.com"]
