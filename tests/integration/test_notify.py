"""Agent notifications end to end: the engine's ``notify`` action, the executor, the
relay and a real aiosmtpd sink as the upstream (with fault injection).

The escalation comes from real mail through the real engine on SQLite and PostgreSQL; the
notification is read back from what the sink received.
"""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import Message
from email.policy import default

import pytest

from mailguard.app.mailwatch import MailWatch, StoreBridge
from mailguard.config import Config, parse_config
from mailguard.executor.executor import Executor
from mailguard.executor.notify import NO_AGENTS, Notifier, notification_message_id
from mailguard.smtp.relay import Relay
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import build_engine, migrated_store, rows
from tests.integration.smtp_support import (
    Sink,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)
from tests.integration.test_engine import CUSTOMER, STREAK, feed

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def config(sink: Sink, agents: str | None = "agents@example.com", extra: str = "") -> Config:
    notify = f"  agents: {agents}\n" if agents else ""
    text = f"""
mailboxes:
  - name: support
    addresses: [support@example.com]
relay:
  host: 127.0.0.1
  port: {sink.port}
  timeout: 5s
notify:
{notify}  secondary: lead@example.com
  sender: mailguard@example.com
{extra}"""
    return parse_config(text, "test.yaml", env={})


async def escalated(store: SqlStore) -> None:
    """The automated streak of test_engine: an escalation with a primary notify action."""
    results = await feed(build_engine(store), STREAK)
    assert results[-1].decision is not None and results[-1].decision.escalated


def executor(cfg: Config, store: SqlStore, relay: Relay, *, dry_run: bool = False) -> Executor:
    notifier = Notifier(cfg, StoreBridge(store), relay)
    return Executor(StoreBridge(store), notifier.handlers(), clock=lambda: NOW, dry_run=dry_run)


def parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=default)


async def notify_rows(store: SqlStore) -> list[object]:
    return [r for r in await rows(store, t.outbox_actions) if r.kind == "notify"]


async def test_escalation_mails_the_agents_with_rule_timeline_and_folder(db_url: str) -> None:
    async with migrated_store(db_url) as store, running_sink() as sink:
        await escalated(store)
        cfg = config(sink)
        relay = Relay(cfg.relay)
        try:
            assert await executor(cfg, store, relay).run_once() == 1
        finally:
            await relay.close()
        (got,) = sink.received
        assert got.mail_from == "mailguard@example.com"
        assert got.rcpt_tos == ["agents@example.com"]  # never the customer
        msg = parsed(got.raw)
        (action,) = await notify_rows(store)
        assert msg["Message-ID"] == f"<{notification_message_id(action.idempotency_key)}>"
        assert msg["Auto-Submitted"] == "auto-generated"
        # The thread is German: the notification is in German.
        assert msg["Content-Language"] == "de"
        body = msg.get_body().get_content()
        assert f"Kunde: {CUSTOMER}" in body
        assert "automated_streak" in body
        assert "c1@example.org" not in msg["To"]
        # The timeline: the customer's two messages and the robot's automated answers.
        assert body.count("Kunde (kunde@example.org, Mensch)") == 2
        assert body.count("wir (support@example.com, automatisch: auto_reply)") == 2
        assert "no IMAP for this mailbox" in body
        assert action.state == "done"


async def test_a_4xx_is_retried_and_the_notification_sent_once(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store, running_sink() as sink:
        await escalated(store)
        sink.fail_next("DATA", "451 4.3.0 try again later")
        cfg = config(sink)
        relay = Relay(cfg.relay)
        runner = executor(cfg, store, relay)
        try:
            assert await runner.run_once() == 0
            (action,) = await notify_rows(store)
            assert action.state == "pending" and action.attempts == 1
            assert action.last_error is not None and "451" in action.last_error
            assert sink.received == []
            runner._not_before.clear()  # the backoff has passed
            assert await runner.run_once() == 1
            assert await runner.run_once() == 0  # done: not sent again
        finally:
            await relay.close()
        assert len(sink.received) == 1
        (action,) = await notify_rows(store)
        assert (action.state, action.attempts) == ("done", 2)


async def test_without_agents_the_action_is_skipped_not_sent(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store, running_sink() as sink:
        await escalated(store)
        cfg = config(sink, agents=None)
        relay = Relay(cfg.relay)
        notifier = Notifier(cfg, StoreBridge(store), relay)
        try:
            (action,) = await notify_rows(store)
            pending = await StoreBridge(store).pending_of_kinds(["notify"], 10)
            assert await notifier.notify(pending[0], NOW) == NO_AGENTS
            assert await executor(cfg, store, relay).run_once() == 1
        finally:
            await relay.close()
        assert sink.received == []
        (action,) = await notify_rows(store)
        assert action.state == "done"


async def test_dry_run_sends_nothing(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store, running_sink() as sink:
        await escalated(store)
        cfg = config(sink)
        relay = Relay(cfg.relay)
        try:
            assert await executor(cfg, store, relay, dry_run=True).run_once() == 1
        finally:
            await relay.close()
        assert sink.received == []


async def test_the_secondary_level_goes_to_the_lead_and_the_agents(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store, running_sink() as sink:
        await escalated(store)
        cfg = config(sink)
        relay = Relay(cfg.relay)
        notifier = Notifier(cfg, StoreBridge(store), relay)
        try:
            (pending,) = await StoreBridge(store).pending_of_kinds(["notify"], 10)
            changes = {"level": "secondary", "rule": "sla", "language": "de"}
            secondary = _Action(pending, changes)
            outcome = await notifier.notify(secondary, NOW)
        finally:
            await relay.close()
        assert "secondary" in outcome
        (got,) = sink.received
        assert got.rcpt_tos == ["lead@example.com", "agents@example.com"]
        msg = parsed(got.raw)
        assert msg["Content-Language"] == "de"
        assert msg["Subject"].startswith("[mailguard] Unbeantwortet:")
        body = msg.get_body().get_content()
        assert "(secondary)" in body and f"Kunde: {CUSTOMER}" in body
        assert body.count("Kunde (kunde@example.org, Mensch)") == 2


class _Action:
    """A pending action with a changed payload (an SLA breach at the secondary level)."""

    def __init__(self, base: object, changes: dict[str, object]) -> None:
        self.id = base.id  # type: ignore[attr-defined]
        self.kind = "notify"
        self.target = base.target  # type: ignore[attr-defined]
        self.idempotency_key = base.idempotency_key + ":secondary"  # type: ignore[attr-defined]
        self.payload = {**base.payload, **changes}  # type: ignore[attr-defined]
        self.attempts = 0
        self.created_at = NOW


async def test_the_daemon_wiring_notifies_without_the_proxy(sqlite_url: str) -> None:
    # An IMAP-only deployment: proxy disabled, the executor still sends through relay:.
    async with migrated_store(sqlite_url) as store, running_sink() as sink:
        await escalated(store)
        cfg = config(sink, extra="proxy:\n  enabled: false\n")
        assert not cfg.proxy.enabled
        watch = MailWatch(cfg, store, build_engine(store), lambda: NOW)
        try:
            # The escalate action (no IMAP here: recorded as skipped) and the notification.
            assert await watch.executor.run_once() == 2
        finally:
            await watch.relay.close()
        (got,) = sink.received
        assert got.rcpt_tos == ["agents@example.com"]
