"""Releasing from the mail client exactly once: replicas, the CLI, relay failures and crashes.

Each "replica" here is what a ``mailguard run`` process brings to a release: its own IMAP
connection, its own relay pool and its own database connections, all running
:class:`HeldCommands` over the same Release folder of the real Dovecot fixture, on SQLite
and PostgreSQL. Faults are injected only where a process would die (a lost connection
after the relay) or where the relay answers 4xx/5xx (the aiosmtpd sink).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import update

from mailguard.app.held_commands import HeldSettler
from mailguard.config.model import MailboxConfig, RelayConfig
from mailguard.imap.connection import ImapConnection, ImapConnectionLost
from mailguard.imap.held_folders import HeldCommands
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.dovecot.fixture import Dovecot
from tests.integration.held_release_support import (
    agent_move,
    copies,
    file_copies,
    hold,
    reply,
)
from tests.integration.imap_support import mailguard_config, open_imap
from tests.integration.smtp_support import Sink, running_sink, smtp_counted  # noqa: F401

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

BUSY = timedelta(minutes=4)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


class Replica:
    """One process's worth of a release: connection, relay pool, store."""

    def __init__(self, mailbox: MailboxConfig, url: str, sink: Sink) -> None:
        self.store = SqlStore.from_url(url)
        self.relay = Relay(RelayConfig(host="127.0.0.1", port=sink.port, timeout=timedelta(2)))
        receipts = Receipts(self.store, self.relay, "replica.test")
        settler = HeldSettler(
            self.store, self.relay, lambda: datetime.now(UTC), receipts=receipts, busy_for=BUSY
        )
        self.commands = HeldCommands(mailbox, settler)

    async def poll(self, dovecot: Dovecot, conn: ImapConnection | None = None) -> int:
        own = conn or await open_imap(dovecot)
        try:
            await self.commands.prepare(own)
            return await self.commands.poll(own)
        finally:
            if conn is None:
                await own.close()

    async def close(self) -> None:
        await self.relay.close()
        await self.store.close()


async def _states(store: SqlStore) -> dict[str, str]:
    return {r.message_id: r.state for r in await store.held_mail(every_state=True, limit=1000)}


def _folders(found: dict[str, list[tuple[str, str]]], message_id: str) -> list[str]:
    return [folder for folder, _ in found.get(message_id, [])]


async def test_two_replicas_on_one_release_folder_relay_each_reply_once(
    dovecot: Dovecot, sink: Sink, store: SqlStore, db_url: str, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    [mailbox] = config.mailboxes
    ids = [f"r{n}@x.test" for n in range(12)]
    held = {m: await hold(store, m) for m in ids}
    await file_copies(dovecot, mailbox, held)
    for message_id in ids:
        await agent_move(dovecot, message_id, "Release")
    replicas = [Replica(mailbox, db_url, sink), Replica(mailbox, db_url, sink)]
    try:
        # Both look at the same copies at the same moment, twice (the second round finds
        # what the first left: nothing, or copies the other replica was still filing).
        for _ in range(2):
            await asyncio.gather(*(r.poll(dovecot) for r in replicas))
    finally:
        for replica in replicas:
            await replica.close()
    relayed = sorted(r.raw for r in sink.received)
    assert relayed == sorted(reply(m) for m in ids)
    assert await _states(store) == dict.fromkeys(ids, "released")
    found = await copies(dovecot)
    assert {m: _folders(found, m) for m in ids} == {m: ["Released"] for m in ids}


async def test_a_release_racing_the_cli_drop_ends_in_one_outcome(
    dovecot: Dovecot, sink: Sink, store: SqlStore, db_url: str, tmp_path: Path
) -> None:
    config = mailguard_config(dovecot, tmp_path / "data")
    [mailbox] = config.mailboxes
    ids = [f"d{n}@x.test" for n in range(6)]
    held = {m: await hold(store, m) for m in ids}
    await file_copies(dovecot, mailbox, held)
    for message_id in ids:
        await agent_move(dovecot, message_id, "Release")
    cli = _cli_config(tmp_path, db_url, sink)
    replica = Replica(mailbox, db_url, sink)
    # The upstream holds the first release in DATA while the operator's drops run: a drop
    # meets a release in flight, and releases meet rows dropped meanwhile.
    stalled = sink.stall()
    try:
        polling = asyncio.create_task(replica.poll(dovecot))
        outcomes = await asyncio.gather(*(_cli(cli, "held", "drop", str(held[m])) for m in ids))
        stalled.set()
        await polling
        await replica.poll(dovecot)  # nothing left to do: each copy was filed once
    finally:
        stalled.set()
        await replica.close()
    states = await _states(store)
    found = await copies(dovecot)
    relayed = {r.raw for r in sink.received}
    assert len(sink.received) == len(relayed)  # nothing twice
    for message_id, (code, out, err) in zip(ids, outcomes, strict=True):
        if states[message_id] == "released":
            assert reply(message_id) in relayed
            assert _folders(found, message_id) == ["Released"]
            assert code == 1 and "not held any more (released)" in err, (out, err)
        else:
            assert states[message_id] == "discarded"
            assert reply(message_id) not in relayed
            assert _folders(found, message_id) == ["Dropped"]
            assert code == 0 and f"dropped {held[message_id]}" in out, (out, err)
    assert set(states.values()) == {"released", "discarded"}


def _cli_config(tmp_path: Path, db_url: str, sink: Sink) -> Path:
    path = tmp_path / "cli.yaml"
    data = {
        "data_dir": str(tmp_path / "cli-data"),
        "storage": {"url": db_url},
        "relay": {"host": "127.0.0.1", "port": sink.port},
    }
    path.write_text(yaml.safe_dump(data))
    return path


async def _cli(config: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mailguard",
        *args,
        "-c",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return int(proc.returncode or 0), out.decode(), err.decode()


class _DiesAfterRelay:
    """A connection that is lost at the first MOVE: the process died after the relay and
    before the copy was filed (everything else passes through to the real connection)."""

    def __init__(self, conn: ImapConnection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def move(self, uids: Sequence[int], folder: str) -> None:
        raise ImapConnectionLost("injected: the process died here")


async def test_a_crash_between_relay_and_filing_does_not_relay_twice(
    dovecot: Dovecot, sink: Sink, store: SqlStore, db_url: str, tmp_path: Path
) -> None:
    [mailbox] = mailguard_config(dovecot, tmp_path / "data").mailboxes
    held = {"c1@x.test": await hold(store, "c1@x.test")}
    await file_copies(dovecot, mailbox, held)
    await agent_move(dovecot, "c1@x.test", "Release")
    first = Replica(mailbox, db_url, sink)
    conn = await open_imap(dovecot)
    try:
        with pytest.raises(ImapConnectionLost):
            await first.poll(dovecot, _DiesAfterRelay(conn))  # type: ignore[arg-type]
    finally:
        await conn.close()
        await first.close()
    assert len(sink.received) == 1
    assert _folders(await copies(dovecot), "c1@x.test") == ["Release"]
    second = Replica(mailbox, db_url, sink)  # the next process, or the standby replica
    try:
        assert await second.poll(dovecot) == 1
    finally:
        await second.close()
    assert len(sink.received) == 1
    found = await copies(dovecot)
    assert _folders(found, "c1@x.test") == ["Released"]
    assert "$MailguardReleased" in found["c1@x.test"][0][1]


async def test_a_claim_without_a_receipt_waits_then_goes_back_flagged(
    dovecot: Dovecot, sink: Sink, store: SqlStore, db_url: str, tmp_path: Path
) -> None:
    """Killed after the claim, before the relay's answer: it may not have gone out."""
    [mailbox] = mailguard_config(dovecot, tmp_path / "data").mailboxes
    held = {"k1@x.test": await hold(store, "k1@x.test")}
    await file_copies(dovecot, mailbox, held)
    await agent_move(dovecot, "k1@x.test", "Release")
    now = datetime.now(UTC)
    assert await store.settle_held(held["k1@x.test"], "released", now)  # type: ignore[arg-type]
    replica = Replica(mailbox, db_url, sink)
    try:
        await replica.poll(dovecot)
        # Claimed moments ago: another process may be relaying it right now.
        assert _folders(await copies(dovecot), "k1@x.test") == ["Release"]
        async with store.engine.begin() as db:
            await db.execute(
                update(t.held_messages)
                .where(t.held_messages.c.id == held["k1@x.test"])
                .values(updated_at=now - BUSY - timedelta(seconds=1))
            )
        await replica.poll(dovecot)
    finally:
        await replica.close()
    assert sink.received == []
    found = await copies(dovecot)
    assert _folders(found, "k1@x.test") == ["Held"] and "\\Flagged" in found["k1@x.test"][0][1]
    assert (await _states(store))["k1@x.test"] == "released"


async def test_relay_refusals_keep_the_reply_held(
    dovecot: Dovecot, sink: Sink, store: SqlStore, db_url: str, tmp_path: Path
) -> None:
    """4xx: the copy stays in Release and goes out on a later poll. 5xx: back to Held,
    flagged, still held (the agent decides again)."""
    [mailbox] = mailguard_config(dovecot, tmp_path / "data").mailboxes
    held = {m: await hold(store, m) for m in ("t1@x.test", "p1@x.test")}
    await file_copies(dovecot, mailbox, held)
    replica = Replica(mailbox, db_url, sink)
    try:
        await agent_move(dovecot, "t1@x.test", "Release")
        sink.fail_next("DATA", "451 4.3.0 try later")
        await replica.poll(dovecot)
        assert _folders(await copies(dovecot), "t1@x.test") == ["Release"]
        assert (await _states(store))["t1@x.test"] == "held"
        await replica.poll(dovecot)
        assert _folders(await copies(dovecot), "t1@x.test") == ["Released"]

        await agent_move(dovecot, "p1@x.test", "Release")
        sink.fail_next("DATA", "554 5.7.1 rejected")
        await replica.poll(dovecot)
        found = await copies(dovecot)
        assert _folders(found, "p1@x.test") == ["Held"] and "\\Flagged" in found["p1@x.test"][0][1]
        assert (await _states(store))["p1@x.test"] == "held"
        await replica.poll(dovecot)  # nothing is retried by itself

        # A row that lost its envelope recipients cannot go out at all: the same.
        lost = await hold(store, "n1@x.test", recipients=())
        await file_copies(dovecot, mailbox, {"n1@x.test": lost})
        await agent_move(dovecot, "n1@x.test", "Release")
        await replica.poll(dovecot)
        assert _folders(await copies(dovecot), "n1@x.test") == ["Held"]
    finally:
        await replica.close()
    assert [r.raw for r in sink.received] == [reply("t1@x.test")]
