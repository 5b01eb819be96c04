"""Group commit on the live path (issue 23): the SMTP proxy and the milter.

Many clients at once: fewer transactions than messages, and each client's reply comes
after the commit that holds its message's decision. A failing commit: every member of the
group gets a temporary failure (SMTP 451, milter tempfail), nothing is relayed or accepted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
from kilter.protocol.messages import (
    Body,
    EndOfHeaders,
    EndOfMessage,
    EnvelopeFrom,
    EnvelopeRecipient,
    Header,
)

from mailguard.config.model import RelayConfig
from mailguard.engine.group import GROUP_COMMITS
from mailguard.milter.connection import MilterConnection
from mailguard.milter.handler import MilterHandler
from mailguard.smtp.dispatch import Dispatcher, ProxySettings
from mailguard.smtp.relay import Relay
from mailguard.store.repository import SqlStore
from mailguard.store.work import Work
from tests.integration.engine_support import build_engine
from tests.integration.smtp_support import (
    HANDOVER,
    Sink,
    running_proxy,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)
from tests.integration.test_smtp_proxy import reply, send
from tests.unit.test_milter_connection import Mta, negotiate

pytestmark = [pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]
CLIENTS = 24


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


class Commits:
    """Counts the store's transactions and when each committed which messages."""

    def __init__(self, store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.at: dict[str, float] = {}
        self.count = 0
        real = store.transact

        async def counting(work: Callable[[Any], Awaitable[Any]]) -> Any:
            result = await real(work)  # type: ignore[arg-type]
            self.count += 1
            now = time.monotonic()
            for one in result if isinstance(result, list) else [result]:
                if getattr(one, "key", None) is not None:
                    self.at[one.key.message_id] = now
            return result

        monkeypatch.setattr(store, "transact", counting)


async def test_proxy_clients_at_once_share_transactions(
    store: SqlStore, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = Commits(store, monkeypatch)
    groups = GROUP_COMMITS._value.get()
    answered: dict[str, tuple[int, float]] = {}
    async with running_proxy(store, sink.port) as proxy:

        async def client(n: int) -> None:
            mid = f"group-{n}@example.com"
            code, _ = await send(proxy.port, reply(mid, automated=False))
            answered[mid] = (code, time.monotonic())

        await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    assert {code for code, _ in answered.values()} == {250}
    assert len(sink.received) == CLIENTS
    assert commits.count < CLIENTS, "every message had a transaction of its own"
    assert GROUP_COMMITS._value.get() - groups == commits.count
    for mid, (_, at) in answered.items():
        assert commits.at[mid] <= at, f"{mid} answered before its commit"


async def test_proxy_failing_group_commit_answers_451_to_every_member(
    store: SqlStore, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Work) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Work, "flush", broken)
    async with running_proxy(store, sink.port) as proxy:
        codes = await asyncio.gather(
            *(
                send(proxy.port, reply(f"fail-{n}@example.com", automated=False))
                for n in range(CLIENTS)
            )
        )
    assert {code for code, _ in codes} == {451}
    assert sink.received == []


@asynccontextmanager
async def running_milter(store: SqlStore, sink: Sink) -> AsyncIterator[int]:
    """The real milter handler and protocol on 127.0.0.1:<ephemeral>."""
    relay = Relay(RelayConfig(host="127.0.0.1", port=sink.port, timeout=timedelta(seconds=2)))
    dispatcher = Dispatcher(relay, store, ProxySettings(HANDOVER, agents="agents@example.com"))
    handler = MilterHandler(
        build_engine(store), dispatcher, store, {"support@example.com": "support"}
    )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await MilterConnection(reader, writer, handler).serve()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
        await relay.close()


async def milter_message(port: int, mid: str) -> tuple[bytes, bytes, float]:
    """One human reply through the milter as Postfix sends it: (command, data, when)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    mta = Mta(reader, writer)
    try:
        await negotiate(mta)
        await mta.send(EnvelopeFrom(b"<support@example.com>", []))
        assert (await mta.receive())[0] == b"c"
        await mta.send(
            EnvelopeRecipient(b"<carl@customer.example>", []),
            Header("From", b" support@example.com"),
            Header("To", b" carl@customer.example"),
            Header("Subject", b" Re: my order"),
            Header("Message-ID", f" <{mid}>".encode()),
            EndOfHeaders(),
        )
        assert (await mta.receive())[0] == b"c"
        await mta.send(Body(b"Dear Carl, it left today.\r\n"), EndOfMessage(b""))
        command, data = await mta.receive()
        return command, data, time.monotonic()
    finally:
        writer.close()


async def test_milter_messages_at_once_share_transactions(
    store: SqlStore, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = Commits(store, monkeypatch)
    async with running_milter(store, sink) as port:
        mids = [f"milter-{n}@example.com" for n in range(CLIENTS)]
        answers = await asyncio.gather(*(milter_message(port, mid) for mid in mids))
    assert {command for command, _, _ in answers} == {b"c"}  # continue: Postfix sends it
    assert commits.count < CLIENTS, "every message had a transaction of its own"
    for mid, (_, _, at) in zip(mids, answers, strict=True):
        assert commits.at[mid] <= at, f"{mid} answered before its commit"


async def test_milter_failing_group_commit_tempfails_every_member(
    store: SqlStore, sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Work) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Work, "flush", broken)
    async with running_milter(store, sink) as port:
        answers = await asyncio.gather(
            *(milter_message(port, f"mfail-{n}@example.com") for n in range(CLIENTS))
        )
    assert {command for command, _, _ in answers} == {b"y"}
    assert all(data.startswith(b"451") for _, data, _ in answers)
