"""Exactly once across crashes: SIGKILL of `mailguard run`, and a repeat after an effect.

The outbox makes a crash repeat an action, never skip it; these tests check that the
repetition changes nothing in the mailbox (one copy of the customer's mail, one note).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from mailguard.app.daemon import utc_now
from mailguard.app.mailwatch import StoreBridge
from mailguard.config.settings import engine_settings_of
from mailguard.domain.model import Direction, Source
from mailguard.engine.factory import build_engine
from mailguard.executor.executor import Executor
from mailguard.executor.mailbox_handlers import MailboxHandlers
from mailguard.imap.actions import ImapMailboxActions
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade
from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot
from tests.integration.imap_support import (
    ANGRY,
    customer_mail,
    folder_messages,
    mailguard_config,
    mid,
    ticket_ack,
    wait_until,
)

pytestmark = pytest.mark.dovecot

CARL = "carl@customer.example"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as r:  # noqa: S310
            return dict(json.loads(r.read()))
    except OSError as exc:
        body = getattr(exc, "read", None)
        return dict(json.loads(body())) if body else None


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:  # noqa: S310
        return str(r.read().decode())


def _config_file(dovecot: Dovecot, tmp_path: Path, port: int) -> Path:
    path = tmp_path / "mailguard.yaml"
    path.write_text(
        f"""data_dir: {tmp_path / "data"}
http: {{listen_port: {port}}}
logging: {{format: json}}
company: {{domains: [example.test]}}
mailboxes:
  - name: support
    addresses: [{SUPPORT}]
    imap:
      host: {dovecot.host}
      port: {dovecot.imaps_port}
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
      password: ${{MAILGUARD_IMAP_PASSWORD}}
      poll_interval: 0.3s
"""
    )
    return path


def _start(config: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, MAILGUARD_IMAP_PASSWORD=PASSWORDS[SUPPORT])
    return subprocess.Popen(
        [sys.executable, "-m", "mailguard", "run", "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_healthy(proc: subprocess.Popen[str], port: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        health = _health(port)
        mailboxes = health.get("mailboxes") if health is not None else None
        if isinstance(mailboxes, dict) and all(m["status"] == "ok" for m in mailboxes.values()):
            return health  # watching (/status: the relay is not needed here)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, f"not healthy: {health}"
        time.sleep(0.05)


def _escalate_rows(db: Path) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, state FROM outbox_actions WHERE kind = 'escalate'")
        return [(str(k), str(s)) for k, s in rows]


@pytest.mark.slow
async def test_sigkill_between_decision_and_action_acts_exactly_once(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    port = _free_port()
    config = _config_file(dovecot, tmp_path, port)
    db = tmp_path / "data" / "mailguard.sqlite3"
    proc = _start(config)
    try:
        health = _wait_healthy(proc, port)
        assert (health["storage"], health["executor"]) == ("ok", "ok")
        metrics = _metrics(port)
        assert 'mailguard_imap_connected{mailbox="support",role="inbox"} 1.0' in metrics
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        deadline = time.monotonic() + 15
        while not _escalate_rows(db):
            assert time.monotonic() < deadline, "no decision"
            await asyncio.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    proc = _start(config)
    try:
        _wait_healthy(proc, port)
        deadline = time.monotonic() + 15
        while _escalate_rows(db) != [("escalate", "done")]:
            assert time.monotonic() < deadline, _escalate_rows(db)
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    escalated = await folder_messages(dovecot, "Escalated")
    assert [m["message_id"] for m in escalated if not m["note"]] == [mid(angry)]
    assert sum(1 for m in escalated if m["note"]) == 1
    assert mid(angry) not in {m["message_id"] for m in await folder_messages(dovecot, "INBOX")}


async def test_an_action_repeated_after_its_effect_changes_nothing(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    """The worst moment to crash: the mailbox changed, the action not yet marked done."""
    config = mailguard_config(dovecot, tmp_path / "data")
    await upgrade(config.storage_url)
    store = SqlStore.from_url(config.storage_url)
    bridge = StoreBridge(store)
    try:
        engine = build_engine(store, engine_settings_of(config))
        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        result = await engine.process(
            angry.as_bytes(),
            source=Source.IMAP,
            now=utc_now(),
            mailbox="support",
            direction=Direction.INBOUND,
        )
        assert result.decision is not None and result.decision.escalated
        # An automated reply the helpdesk sends through the proxy is held for a person.
        reply = ticket_ack(CARL, angry, 7)
        held = await engine.process(
            reply.as_bytes(),
            source=Source.SMTP,
            now=utc_now(),
            mailbox="support",
            direction=Direction.OUTBOUND,
        )
        assert held.hold
        [action] = await bridge.pending_of_kinds(["escalate"], 10)
        [hold] = await bridge.pending_of_kinds(["hold_outbound"], 10)
        first = MailboxHandlers(
            config, bridge, {"support": ImapMailboxActions(config.mailboxes[0])}
        )
        try:
            await first.escalate(action, utc_now())
            await first.hold_outbound(hold, utc_now())
        finally:
            await first.close()  # ... and the process dies before finish_action.
        again = MailboxHandlers(
            config, bridge, {"support": ImapMailboxActions(config.mailboxes[0])}
        )
        try:
            executor = Executor(bridge, again.handlers(), clock=utc_now)
            assert await executor.run_once() == 2
        finally:
            await again.close()
        assert [
            a.kind for a in await bridge.pending_of_kinds(["escalate", "hold_outbound"], 10)
        ] == []
    finally:
        await store.close()
    escalated = await folder_messages(dovecot, "Escalated")
    assert [m["message_id"] for m in escalated if not m["note"]] == [mid(angry)]
    assert sum(1 for m in escalated if m["note"]) == 1
    held_folder = await folder_messages(dovecot, "Held")
    assert [m["message_id"] for m in held_folder] == [mid(reply)]

    async def unchanged() -> bool:
        return len(await folder_messages(dovecot, "Escalated")) == 2

    await wait_until(unchanged, 1, "stable")
