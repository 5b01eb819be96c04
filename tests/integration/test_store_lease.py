"""Leases: one holder per name across stores (replicas); a dead session frees it."""

from __future__ import annotations

import pytest

from mailguard.store import schema
from mailguard.store.lease import lease_key
from mailguard.store.repository import SqlStore
from tests.integration.conftest import pg_connect


def test_lease_keys_are_stable_and_distinct() -> None:
    assert lease_key("imap:support") == lease_key("imap:support")
    assert lease_key("imap:support") != lease_key("imap:sales")
    assert -(2**63) <= lease_key("imap:support") < 2**63


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
