"""Agents release and drop held replies from their mail client, on the real Dovecot fixture.

mailguard's mailbox side runs as ``mailguard run`` runs it (watchers and executor, SQLite),
relaying to an aiosmtpd sink. The agent is a plain IMAP session: it moves a held copy into
Release or Drop, or tags it in Held. What reaches the sink, the rows and the folders
afterwards show what the agent would see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from mailguard.domain.model import Direction
from mailguard.smtp.receipts import envelope_digest
from tests.dovecot.fixture import SUPPORT, Dovecot, make_message
from tests.integration.held_release_support import (
    agent_move,
    agent_tag,
    copies,
    file_copies,
    hold,
    reply,
)
from tests.integration.imap_support import (
    Harness,
    mailguard_config,
    open_imap,
    running_mailguard,
    wait_until,
)
from tests.integration.smtp_support import Sink, running_sink, smtp_counted  # noqa: F401
from tests.oauth.exchange import ExchangeProxy

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

CARL = "carl@customer.example"


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


def _relay_to(sink: Sink) -> str:
    return f"relay: {{host: 127.0.0.1, port: {sink.port}, timeout: 2s}}"


async def _state(mg: Harness, message_id: str) -> str:
    row = await mg.store.held_by_key("support", message_id, Direction.OUTBOUND)
    assert row is not None
    return row.state


async def test_agents_release_and_drop_by_folder_and_keyword(
    dovecot: Dovecot, sink: Sink, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", top=_relay_to(sink))
    async with running_mailguard(config) as mg:
        held = {m: await hold(mg.store, m) for m in ("r1@x.test", "r2@x.test", "r3@x.test")}
        await file_copies(dovecot, config.mailboxes[0], held)

        async def folders_made() -> bool:
            return set((await copies(dovecot)).keys()) == set(held)

        await wait_until(folders_made, 10, "the copies filed")
        await agent_move(dovecot, "r1@x.test", "Release")
        await agent_tag(dovecot, "r2@x.test", "$MailguardDrop")

        async def settled() -> bool:
            found = await copies(dovecot)
            return [f for f, _ in found["r1@x.test"]] == ["Released"] and [
                f for f, _ in found["r2@x.test"]
            ] == ["Dropped"]

        await wait_until(settled, 10, "r1 released and r2 dropped")
        assert [r.raw for r in sink.received] == [reply("r1@x.test")]
        assert sink.received[0].rcpt_tos == [CARL] and sink.received[0].mail_from == SUPPORT
        assert await _state(mg, "r1@x.test") == "released"
        assert await _state(mg, "r2@x.test") == "discarded"
        assert await _state(mg, "r3@x.test") == "held"
        receipt = await mg.store.receipt_for(
            "support", "r1@x.test", Direction.OUTBOUND, envelope_digest(SUPPORT, [CARL])
        )
        assert receipt is not None and "SINK1" in receipt.reply
        found = await copies(dovecot)
        [(_, r1_flags)] = found["r1@x.test"]
        [(_, r2_flags)] = found["r2@x.test"]
        assert "\\Seen" in r1_flags and "$MailguardReleased" in r1_flags
        assert "\\Seen" in r2_flags and "$MailguardDropped" in r2_flags
        assert "$MailguardDrop " not in r2_flags + " "
        assert found["r3@x.test"] == [("Held", found["r3@x.test"][0][1])]

        # Moving a settled copy back in changes nothing: it is filed where it belongs again.
        await agent_move(dovecot, "r1@x.test", "Release", source="Released")
        await agent_move(dovecot, "r2@x.test", "Release", source="Dropped")

        async def refiled() -> bool:
            found = await copies(dovecot)
            return [f for f, _ in found["r1@x.test"]] == ["Released"] and [
                f for f, _ in found["r2@x.test"]
            ] == ["Dropped"]

        await wait_until(refiled, 10, "settled copies filed back")
        assert len(sink.received) == 1


async def test_forged_and_foreign_mail_in_release_is_left_alone(
    dovecot: Dovecot, sink: Sink, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data", top=_relay_to(sink))
    before = _refusals()
    async with running_mailguard(config) as mg:
        held_id = await hold(mg.store, "r1@x.test")
        await file_copies(dovecot, config.mailboxes[0], {"r1@x.test": held_id})
        real = (await copies(dovecot))["r1@x.test"]
        assert real[0][0] == "Held"
        # An agent's own mail, a copy whose stamp names the row with another digest, and
        # one whose stamp is not its first line (as any delivered message's is not).
        plain = make_message(sender=CARL, to=SUPPORT, subject="just mail").as_bytes()
        forged = (
            f"X-Mailguard-Held: r1@x.test\r\nX-Mailguard-Held-Id: {held_id}; sha256="
            + "0" * 32
            + "\r\n"
        ).encode() + reply("r1@x.test")
        buried = b"Received: from x\r\n" + forged
        for raw in (plain, forged, buried):
            dovecot.seed(SUPPORT, raw, "Release")

        async def looked_at() -> bool:
            return _refusals() - before >= 3

        await wait_until(looked_at, 10, "the three refused")
        await asyncio.sleep(1)  # a few more polls: still nothing done
        assert sink.received == []
        assert await _state(mg, "r1@x.test") == "held"
        found = await copies(dovecot)
        assert [f for f, _ in found["r1@x.test"]].count("Release") == 2
        assert [f for f, _ in found["r1@x.test"]].count("Held") == 1


def _refusals() -> float:
    value = REGISTRY.get_sample_value(
        "mailguard_held_agent_commands_total",
        {"mailbox": "support", "command": "release", "outcome": "refused"},
    )
    return value or 0.0


async def test_without_keywords_the_folders_alone_work(
    dovecot: Dovecot, sink: Sink, tmp_path: Path
) -> None:
    """Behind a server that stores no keywords (PERMANENTFLAGS without \\*, keyword STOREs
    refused, as Exchange Online): the copy names the folders only, and they work."""
    proxy = await ExchangeProxy(dovecot.imap_port).start()
    try:
        config = mailguard_config(
            dovecot, tmp_path / "data", tls="plain", port=proxy.port, top=_relay_to(sink)
        )
        async with running_mailguard(config) as mg:
            held = {m: await hold(mg.store, m) for m in ("r1@x.test", "r2@x.test", "r3@x.test")}
            await file_copies(dovecot, config.mailboxes[0], held)
            await agent_move(dovecot, "r1@x.test", "Release")
            await agent_move(dovecot, "r2@x.test", "Drop")
            # Not possible on such a server; were it set, mailguard would not look for it.
            await agent_tag(dovecot, "r3@x.test", "$MailguardRelease")

            async def settled() -> bool:
                found = await copies(dovecot)
                return [f for f, _ in found.get("r1@x.test", [])] == ["Released"] and [
                    f for f, _ in found.get("r2@x.test", [])
                ] == ["Dropped"]

            await wait_until(settled, 15, "r1 released and r2 dropped by folder")
            await asyncio.sleep(1)
            assert await _state(mg, "r3@x.test") == "held"
    finally:
        await proxy.stop()
    assert [r.raw for r in sink.received] == [reply("r1@x.test")]
    assert proxy.keyword_stores == 0 and proxy.refused_stores == 0
    found = await copies(dovecot)
    assert "\\Seen" in found["r1@x.test"][0][1] and "$Mailguard" not in found["r1@x.test"][0][1]
    assert "\\Seen" in found["r2@x.test"][0][1]
    head = await _head(dovecot, "Released")
    assert b'move it to the folder "Release"' in head and b"$MailguardRelease" not in head


async def _head(dovecot: Dovecot, folder: str) -> bytes:
    conn = await open_imap(dovecot)
    try:
        await conn.select(folder)
        [uid] = await conn.search("ALL")
        [(_, head)] = await conn.fetch_batch([uid], "BODY.PEEK[HEADER]")
        return head.replace(b"\r\n ", b" ")
    finally:
        await conn.close()
