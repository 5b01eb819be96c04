"""The milter connection against an MTA speaking the protocol (packets from kilter.protocol).

Real Postfix runs in tests/integration/test_milter_postfix.py; here the MTA's side is
scripted, to reach what Postfix rarely does: a failing decision, an aborted message, an MTA
that offers too little.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from kilter.protocol.buffer import SimpleBuffer
from kilter.protocol.messages import (
    Abort,
    ActionFlags,
    Body,
    Close,
    EndOfHeaders,
    EndOfMessage,
    EnvelopeFrom,
    EnvelopeRecipient,
    Header,
    Message,
    Negotiate,
    ProtocolFlags,
)

from mailguard.milter import edits as ed
from mailguard.milter.connection import (
    MilterConnection,
    MilterMessage,
    MilterProtocolError,
    Reply,
    Verdict,
)

OFFER = Negotiate(6, ActionFlags(0x1FF), ProtocolFlags(0x1FFFFF), {})


class Judge:
    """Decides by a table; records what it was asked."""

    def __init__(self, verdict: Verdict | Exception) -> None:
        self.verdict = verdict
        self.decided: list[MilterMessage] = []

    def wants_sender(self, sender: str) -> bool:
        return sender in ("support@example.test", "")

    def wants_header(self, message: MilterMessage) -> bool:
        return True

    async def decide(self, message: MilterMessage) -> Verdict:
        self.decided.append(message)
        if isinstance(self.verdict, Exception):
            raise self.verdict
        return self.verdict


class Mta:
    """The MTA's end: packs events, reads the milter's packets."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, *messages: Message) -> None:
        for message in messages:
            buffer = SimpleBuffer(70_000)
            message.pack(buffer)
            self.writer.write(bytes(buffer[:]))
        await self.writer.drain()

    async def receive(self) -> tuple[bytes, bytes]:
        """(command byte, data) of the milter's next packet."""
        size = struct.unpack("!L", await self.reader.readexactly(4))[0]
        data = await self.reader.readexactly(size)
        return data[:1], data[1:]


@asynccontextmanager
async def connected(judge: Judge) -> AsyncIterator[tuple[Mta, asyncio.Task[None]]]:
    served: list[asyncio.Task[None]] = []
    started = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await MilterConnection(reader, writer, judge).serve()

    def start(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.append(asyncio.ensure_future(serve(reader, writer)))
        started.set()

    server = await asyncio.start_server(start, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await started.wait()
        yield Mta(reader, writer), served[0]
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


async def negotiate(mta: Mta) -> None:
    await mta.send(OFFER)
    command, _ = await mta.receive()
    assert command == b"O"


async def one_message(mta: Mta, sender: bytes = b"<support@example.test>") -> None:
    await mta.send(EnvelopeFrom(sender, []))
    assert await mta.receive() == (b"c", b"")  # continue: decide this one
    await mta.send(
        EnvelopeRecipient(b"<carl@customer.example>", []),
        Header("From", b" support@example.test"),
        Header("Subject", b" Re: hello"),
        EndOfHeaders(),
    )
    assert await mta.receive() == (b"c", b"")
    await mta.send(Body(b"Hi Carl,\r\n"), EndOfMessage(b""))


async def test_a_message_is_rebuilt_and_decided() -> None:
    judge = Judge(Verdict(Reply.CONTINUE))
    async with connected(judge) as (mta, _):
        await negotiate(mta)
        await one_message(mta)
        assert await mta.receive() == (b"c", b"")
    [message] = judge.decided
    assert message.raw() == b"From: support@example.test\r\nSubject: Re: hello\r\n\r\nHi Carl,\r\n"
    assert message.recipients == ["carl@customer.example"]


async def test_mail_from_anyone_else_is_accepted_at_once() -> None:
    judge = Judge(Verdict(Reply.CONTINUE))
    async with connected(judge) as (mta, _):
        await negotiate(mta)
        await mta.send(EnvelopeFrom(b"<someone@example.test>", []))
        assert await mta.receive() == (b"a", b"")
    assert judge.decided == []


async def test_a_failing_decision_is_a_temporary_failure() -> None:
    judge = Judge(RuntimeError("database is away"))
    async with connected(judge) as (mta, _):
        await negotiate(mta)
        await one_message(mta)
        command, text = await mta.receive()
    assert command == b"y"
    assert text.startswith(b"451 4.3.0") and text.endswith(b"\0")


async def test_edits_come_before_the_final_reply() -> None:
    verdict = Verdict(
        Reply.CONTINUE,
        (ed.ChangeHeader("Subject", 1, "[Team] Re: hello"), ed.ReplaceBody(b"new\r\n")),
    )
    async with connected(Judge(verdict)) as (mta, _):
        await negotiate(mta)
        await one_message(mta)
        change, body, final = [await mta.receive() for _ in range(3)]
    assert change == (b"m", b"\x00\x00\x00\x01Subject\x00 [Team] Re: hello\x00")
    assert body == (b"b", b"new\r\n")
    assert final == (b"c", b"")


async def test_hold_is_discard() -> None:
    async with connected(Judge(Verdict(Reply.DISCARD))) as (mta, _):
        await negotiate(mta)
        await one_message(mta)
        assert await mta.receive() == (b"d", b"")


async def test_an_aborted_message_is_forgotten() -> None:
    judge = Judge(Verdict(Reply.CONTINUE))
    async with connected(judge) as (mta, _):
        await negotiate(mta)
        await mta.send(EnvelopeFrom(b"<support@example.test>", []))
        await mta.receive()
        await mta.send(Header("Subject", b" lost"), Abort())
        await one_message(mta, b"<>")
        await mta.receive()
    [message] = judge.decided
    assert message.sender == ""
    assert [name for name, _ in message.fields] == ["From", "Subject"]


async def test_close_ends_the_connection() -> None:
    async with connected(Judge(Verdict(Reply.CONTINUE))) as (mta, served):
        await negotiate(mta)
        await mta.send(Close())
        await asyncio.wait_for(served, 5)


async def test_an_mta_that_cannot_edit_is_refused() -> None:
    async with connected(Judge(Verdict(Reply.CONTINUE))) as (mta, served):
        await mta.send(Negotiate(6, ActionFlags.ADD_HEADERS, ProtocolFlags(0x1FFFFF), {}))
        with pytest.raises(MilterProtocolError, match="does not offer the actions"):
            await asyncio.wait_for(served, 5)
