"""Leases: one holder per name across stores (replicas); a dead session frees it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from mailguard.store import schema
from mailguard.store.lease import lease_key
from mailguard.store.repository import SqlStore
from tests.integration.conftest import pg_connect

# Replicas are separate processes, possibly of different releases during a rolling update:
# the key of a name must not depend on the process (a per-process hash() would differ) nor
# change between releases. Pinned values catch the latter.
PINNED = {"imap:support": 257177208743976786, "imap:sales": -894972603756421181}


def test_lease_keys_are_stable_and_distinct() -> None:
    assert {name: lease_key(name) for name in PINNED} == PINNED
    assert lease_key("imap:support") != lease_key("imap:sales")
    assert -(2**63) <= lease_key("imap:support") < 2**63


def _keys_in_another_process(hash_seed: str) -> dict[str, int]:
    code = (
        "import json, sys\n"
        "from mailguard.store.lease import lease_key\n"
        "print(json.dumps({n: lease_key(n) for n in sys.argv[1:]}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *PINNED],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    )
    keys: dict[str, int] = json.loads(done.stdout)
    return keys


def test_lease_keys_agree_across_processes() -> None:
    here = {name: lease_key(name) for name in PINNED}
    # Two other processes with different string-hash seeds, as two replicas would have.
    assert _keys_in_another_process("1") == here
    assert _keys_in_another_process("2") == here


async def test_one_holder_per_name_within_a_process(sqlite_url: str) -> None:
    store = SqlStore.from_url(sqlite_url)
    try:
        async with store.lease("imap:support") as first:
            async with store.lease("imap:support") as second, store.lease("imap:x") as other:
                assert (first.held, second.held, other.held) == (True, False, True)
                assert await first.check() and not await second.check()
        async with store.lease("imap:support") as again:
            assert again.held
    finally:
        await store.close()


@pytest.mark.postgres
async def test_replicas_share_out_leases(postgres_url: str) -> None:
    await schema.upgrade(postgres_url)
    replicas = [SqlStore.from_url(postgres_url), SqlStore.from_url(postgres_url)]
    try:
        async with replicas[0].lease("imap:support") as first:
            assert first.held
            async with replicas[1].lease("imap:support") as second:
                assert not second.held
            async with replicas[1].lease("imap:sales") as sales:
                assert sales.held
        async with replicas[1].lease("imap:support") as taken_over:
            assert taken_over.held
    finally:
        for store in replicas:
            await store.close()


@pytest.mark.postgres
async def test_a_lost_session_frees_the_lease(postgres_url: str) -> None:
    await schema.upgrade(postgres_url)
    replicas = [SqlStore.from_url(postgres_url), SqlStore.from_url(postgres_url)]
    database = postgres_url.rsplit("/", 1)[1]
    try:
        async with replicas[0].lease("imap:support") as first:
            assert await first.check()
            admin = await pg_connect()
            try:
                # What a network partition or a crashed replica amounts to for the server.
                await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks JOIN pg_stat_activity"
                    " USING (pid) WHERE locktype = 'advisory' AND datname = $1",
                    database,
                )
            finally:
                await admin.close()
            assert not await first.check()
            async with replicas[1].lease("imap:support") as second:
                assert second.held
    finally:
        for store in replicas:
            await store.close()


_HOLDER = """
import asyncio, sys
from mailguard.store.repository import SqlStore

async def hold(url: str) -> None:
    store = SqlStore.from_url(url)
    try:
        async with store.lease("imap:support") as lease:
            print("held" if lease.held else "refused", flush=True)
            await asyncio.to_thread(sys.stdin.readline)
    finally:
        await store.close()

asyncio.run(hold(sys.argv[1]))
"""


@pytest.mark.postgres
async def test_a_replica_in_another_process_keeps_the_lease(postgres_url: str) -> None:
    await schema.upgrade(postgres_url)
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _HOLDER,
        postgres_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONHASHSEED": "7"},
    )
    assert holder.stdin is not None and holder.stdout is not None
    store = SqlStore.from_url(postgres_url)
    try:
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        async with store.lease("imap:support") as mine, store.lease("imap:sales") as other:
            assert (mine.held, other.held) == (False, True)
        holder.stdin.write(b"release\n")
        await holder.stdin.drain()
        assert await asyncio.wait_for(holder.wait(), 30) == 0
        async with store.lease("imap:support") as after:
            assert after.held
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await store.close()
