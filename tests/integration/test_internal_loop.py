"""The internal mail loop: our auto-responder and a company robot answering each other.

Issue 15: "tried as an operator would, `mailguard audit` of four such rounds (both sides in
the company domain, both marked Auto-Submitted) holds nothing and reports no loop". Now the
audit reports it, the engine holds the robot's replies, and the counterpart is circuit-broken.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailguard.domain.model import Direction, Source
from mailguard.engine.service import Status
from mailguard.store.repository import SqlStore
from tests.integration.engine_support import build_engine, mail, migrated_store

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOTIFIER = "orders-noreply@example.com"
SUPPORT = "support@example.com"


def rounds(count: int) -> list[tuple[str, bytes]]:
    """``count`` rounds: the notifier writes, the support inbox's auto-responder answers."""
    messages = []
    previous = None
    for n in range(count):
        notify_id = f"order-{n}@example.com"
        messages.append(
            (
                "notifier",
                mail(
                    sender=NOTIFIER,
                    to=SUPPORT,
                    subject=f"Order 4711 status update {n}",
                    at=START + timedelta(minutes=10 * n),
                    message_id=notify_id,
                    in_reply_to=previous,
                    headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"},
                    body="Your order 4711 has a new status. This is an automated message.\n",
                ),
            )
        )
        previous = f"ack-{n}@example.com"
        messages.append(
            (
                "support",
                mail(
                    sender=SUPPORT,
                    to=NOTIFIER,
                    subject=f"Re: Order 4711 status update {n}",
                    at=START + timedelta(minutes=10 * n, seconds=30),
                    message_id=previous,
                    in_reply_to=notify_id,
                    headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
                    body="Thank you for your message. We will get back to you soon.\n",
                ),
            )
        )
    return messages


def test_audit_reports_the_internal_loop(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    for index, (_, raw) in enumerate(rounds(4), start=1):
        (folder / f"{index:02d}.eml").write_bytes(raw)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mailguard",
            "audit",
            "--own-domain",
            "example.com",
            "--format",
            "json",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # Every automated message after the first answers automated mail: 7 held, one loop.
    assert report["summary"]["held_outbound"] == 7, report["summary"]
    assert report["summary"]["trapped_customers"] == 1
    [trapped] = report["trapped"]["bot_ping_pong"]
    # Without the mailbox's addresses (only --own-domain) the loop is named by its pair.
    assert trapped["customer"] == f"{NOTIFIER} <-> {SUPPORT}"
    assert trapped["hits"] == 7
    assert any("circuit-broken" in e for e in trapped["evidence"])


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[SqlStore]:
    async with migrated_store(sqlite_url) as s:
        yield s


async def test_engine_holds_our_robot_and_breaks_the_circuit(store: SqlStore) -> None:
    engine = build_engine(store)
    results = []
    for index, (side, raw) in enumerate(rounds(4)):
        ours = side == "support"
        results.append(
            await engine.process(
                raw,
                source=Source.SMTP if ours else Source.IMAP,
                now=START + timedelta(minutes=5 * index + 1),
                direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            )
        )
    assert all(r.status is Status.PROCESSED for r in results)
    assert {r.customer for r in results} == {NOTIFIER}
    ours = [r for r, (side, _) in zip(results, rounds(4), strict=True) if side == "support"]
    assert [r.hold for r in ours] == [True, True, True, True]
    kinds = [a.kind for r in results for a in (r.decision.actions if r.decision else ())]
    assert "circuit_break" in kinds
    held = await store.held_mail()
    assert [h.message_id for h in held] == [f"ack-{n}@example.com" for n in range(4)]


async def test_human_internal_mail_is_not_followed(store: SqlStore) -> None:
    raw = mail(
        sender="anna@example.com",
        to=SUPPORT,
        subject="lunch?",
        at=START,
        message_id="lunch-1@example.com",
        body="Shall we have lunch at noon?\n",
    )
    result = await build_engine(store).process(raw, source=Source.SMTP, now=START)
    assert result.status is Status.NO_CUSTOMER
