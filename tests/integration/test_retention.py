"""Nothing kept for ever: the retention bounds, with a clock the test moves.

The real engine, the daemon's maintenance round and the outbox executor with the agents'
notifier, on SQLite and PostgreSQL; notifications go through the relay into a real aiosmtpd
sink. From T0, with the default bounds:

* a deferred robot reply never decided is purged after ``retention.deferred`` (1 d);
* the agents are told a day before a held reply is dropped, a failed message removed and a
  given-up action removed (29 d), once;
* at 30 d the held reply is dropped unsent (and its copy's removal is queued), the failed
  message and the failed action are removed, and the escalation, open for 30 d, is closed
  as stale with the agents told;
* a bound shortened below an item's age still gives the agents their day;
* ``mailguard status``'s query shows the oldest item of each kind as it goes.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.policy import default

import pytest

from mailguard.app.daemon import Maintenance
from mailguard.app.mailwatch import StoreBridge
from mailguard.config import Config, parse_config
from mailguard.domain.model import Direction, Source
from mailguard.domain.policy import Policy
from mailguard.domain.retention import REMOVE_HELD_COPY, RetentionPolicy
from mailguard.engine.deferral import Deferral
from mailguard.engine.ports import FailedMessage, MessageKey
from mailguard.engine.service import Envelope, Status
from mailguard.executor.executor import Executor
from mailguard.executor.mailbox_handlers import MailboxHandlers
from mailguard.executor.notify import Notifier
from mailguard.smtp.relay import Relay
from mailguard.store import tables as t
from mailguard.store.ages import oldest_items
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import AUTO, build_engine, mail, migrated_store, rows
from tests.integration.smtp_support import (
    Sink,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
KUNDE = "kunde@example.org"
ANGRY = mail(
    sender=KUNDE,
    to="support@example.com",
    subject="Beschwerde",
    at=T0,
    message_id="angry-1@example.org",
    body="Ich schreibe jetzt zum dritten Mal! Das ist eine Frechheit, ich kündige sofort.\n",
)
ROBOT = mail(
    sender="support@example.com",
    to=KUNDE,
    subject="Re: Beschwerde",
    at=T0,
    message_id="robot-1@example.com",
    in_reply_to="angry-1@example.org",
    headers=AUTO,
)
LATE = mail(
    sender="support@example.com",
    to="other@example.org",
    subject="Automatic reply",
    at=T0,
    message_id="late-1@example.com",
    in_reply_to="never-seen@example.org",
    headers=AUTO,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def config(sink: Sink) -> Config:
    text = f"""
mailboxes:
  - name: support
    addresses: [support@example.com]
relay: {{host: 127.0.0.1, port: {sink.port}, timeout: 5s}}
notify: {{agents: agents@example.com, sender: mailguard@example.com}}
"""
    return parse_config(text, "test.yaml", env={})


def parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=default)


async def _seed(store: SqlStore) -> None:
    """An open escalation with a held reply, a deferred reply, a failed message and a
    failed action, all at T0."""
    engine = build_engine(store)
    await engine.process(ANGRY, mailbox="support", source=Source.IMAP, now=T0)
    held = await engine.process(
        ROBOT, source=Source.SMTP, now=T0, envelope=Envelope("support@example.com", (KUNDE,))
    )
    assert held.decisions[0].held
    deferred = await engine.process(
        LATE,
        source=Source.SMTP,
        now=T0,
        envelope=Envelope("support@example.com", ("other@example.org",)),
        defer=Deferral(timedelta(hours=1), frozenset({"support"})),
    )
    assert deferred.status is Status.DEFERRED
    key = MessageKey("support", "broken-1@example.org", Direction.INBOUND)
    await store.record_failure(FailedMessage(key, Source.IMAP, b"From: x\r\n\r\n", "boom", T0))
    [action] = [a for a in await store.pending_actions() if a.kind == "escalate"]
    await store.finish_action(action.id, T0, error="ImapError: gone", give_up=True)


async def _kinds(store: SqlStore) -> dict[str, int]:
    return {k: a.count for k, a in (await oldest_items(store.engine)).items() if a.count}


async def test_every_bound_with_a_moving_clock(db_url: str) -> None:
    async with migrated_store(db_url) as store, running_sink() as sink:
        await _seed(store)
        cfg = config(sink)
        clock = Clock(T0 + timedelta(hours=23))
        maintenance = Maintenance(
            build_engine(store), store, RetentionPolicy(), clock, policy=Policy()
        )
        relay = Relay(cfg.relay)
        bridge = StoreBridge(store)
        handlers = {
            **Notifier(cfg, bridge, relay).handlers(),
            **MailboxHandlers(cfg, bridge, {}).handlers(),
        }
        executor = Executor(bridge, handlers, clock=clock)
        try:
            ages = await oldest_items(store.engine)
            assert ages["held"].oldest == T0 and ages["open_escalations"].oldest == T0
            assert await _kinds(store) == {
                "held": 1,
                "deferred": 1,
                "open_escalations": 1,
                "failed_messages": 1,
                "failed_actions": 1,
                "pending_actions": 2,  # the notification and the held copy
                "messages": 2,
                "decisions": 2,
                "threads": 1,
                "customers": 2,  # a row in each guarded mailbox (support, vouchers)
            }
            await maintenance.run_once()
            assert (await _kinds(store))["deferred"] == 1

            # 1 d: the deferred reply, never decided, is purged.
            clock.now = T0 + DAY + timedelta(minutes=1)
            await maintenance.run_once()
            assert "deferred" not in await _kinds(store)
            await executor.run_once()
            assert await store.pending_actions() == []
            sink.received.clear()

            # 29 d: a day's notice for the held reply, the failed message and the action.
            clock.now = T0 + 29 * DAY + timedelta(minutes=1)
            await maintenance.run_once()
            await maintenance.run_once()  # once only
            notices = [r for r in await rows(store, t.outbox_actions) if r.payload.get("notice")]
            assert sorted(r.payload["notice"] for r in notices) == [
                "failed_action_expiring",
                "failed_message_expiring",
                "held_expiring",
            ]
            assert await executor.run_once() == 3
            mails = {
                parsed(m.raw)["X-Mailguard-Notification"]: parsed(m.raw) for m in sink.received
            }
            held_notice = mails["held_expiring"]
            assert held_notice["To"] == "agents@example.com"
            assert f"Held robot reply to {KUNDE} is dropped on 2026-04-01" in held_notice["Subject"]
            assert "<robot-1@example.com>" in held_notice.get_content()
            assert "broken-1@example.org" in mails["failed_message_expiring"]["Subject"]
            assert "ImapError: gone" in mails["failed_action_expiring"].get_content()
            assert (await _kinds(store))["held"] == 1
            sink.received.clear()

            # 30 d: dropped unsent, removed; the escalation closed as stale, the agents told.
            clock.now = T0 + 30 * DAY + timedelta(minutes=1)
            await maintenance.run_once()
            kinds = await _kinds(store)
            for gone in ("held", "failed_messages", "failed_actions", "open_escalations"):
                assert gone not in kinds, gone
            assert kinds["resolved_escalations"] == 1
            [esc] = await rows(store, t.escalations)
            assert esc.resolved_by == "stale:30 d"
            [customer] = await rows(store, t.customers, t.customers.c.mailbox == "support")
            assert customer.state == "ok" and customer.policy_state["escalations"] == []
            [remove] = [
                r for r in await rows(store, t.outbox_actions) if r.kind == REMOVE_HELD_COPY
            ]
            assert remove.target == "robot-1@example.com"
            await executor.run_once()
            [stale] = [parsed(m.raw) for m in sink.received]
            assert stale["Subject"].startswith(f"[mailguard] Closed as stale: {KUNDE}")
            assert "closed the escalation" in stale.get_content()
            # Dropped, not sent: nothing left that a release could relay.
            assert await store.held_by_key("support", "robot-1@example.com", "out") is None
        finally:
            await relay.close()


async def test_a_shortened_bound_still_gives_a_days_notice(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        await _seed(store)
        clock = Clock(T0 + 10 * DAY)
        short = RetentionPolicy(held=2 * DAY, failed=2 * DAY, escalations=365 * DAY)
        maintenance = Maintenance(build_engine(store), store, short, clock, policy=Policy())
        await maintenance.run_once()
        kinds = await _kinds(store)
        # Due for days, but the agents are told only now: it goes a day later, not at once.
        assert (kinds["held"], kinds["failed_messages"], kinds["failed_actions"]) == (1, 1, 1)
        clock.now = T0 + 11 * DAY - timedelta(minutes=1)
        await maintenance.run_once()
        assert (await _kinds(store))["held"] == 1
        clock.now = T0 + 11 * DAY
        await maintenance.run_once()
        kinds = await _kinds(store)
        assert not {"held", "failed_messages", "failed_actions"} & set(kinds)
        assert kinds["open_escalations"] == 1
