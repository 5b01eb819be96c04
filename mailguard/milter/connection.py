"""One MTA connection speaking the milter protocol, on the daemon's event loop.

The protocol's messages, their encoding and the filter-side state machine are
``kilter.protocol``'s (a maintained, typed, pure-Python implementation; docs/postfix.md says
why it was chosen over pymilter's libmilter binding). This module is the asyncio side: it
reads one packet at a time from the stream, feeds it to :class:`FilterProtocol`, collects the
message (:class:`MilterMessage`) and asks a :class:`Judge` what to do:

* at MAIL FROM (``wants_sender``): mail from anyone but a guarded mailbox (and ``<>``) is
  accepted at once, so Postfix sends nothing more of it;
* at the end of the header (``wants_header``): a ``<>`` message whose From is not a guarded
  mailbox is accepted at once;
* at the end of the message (``decide``): a :class:`Verdict`, i.e. edits and a final reply.

Negotiated: no CONNECT, HELO, DATA or unknown-command events; no replies to RCPT, header and
body events (Postfix streams them); header values with their leading space (so the message
is rebuilt byte for byte). Anything that goes wrong while deciding is a temporary failure,
so Postfix keeps the message.

Postfix writes a milter's events without TCP_NODELAY. After an event that needs no reply
(the macros of one stage), its next small write waits for our ACK, which Linux delays by up
to 40 ms: measured, a message took ~45 ms instead of ~4. So the socket is put in quick-ACK
mode after every packet (``TCP_QUICKACK``, which the kernel resets on its own).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import structlog
from kilter.protocol.buffer import SimpleBuffer
from kilter.protocol.core import FilterProtocol
from kilter.protocol.messages import (
    Abort,
    Accept,
    ActionFlags,
    Body,
    Close,
    Continue,
    Discard,
    EndOfHeaders,
    EndOfMessage,
    EnvelopeFrom,
    EnvelopeRecipient,
    Header,
    Macro,
    Message,
    Negotiate,
    ProtocolFlags,
    ReplyCode,
    TemporaryFailure,
)
from kilter.protocol.messages import AddHeader as KAddHeader
from kilter.protocol.messages import AddRecipient as KAddRecipient
from kilter.protocol.messages import ChangeHeader as KChangeHeader
from kilter.protocol.messages import InsertHeader as KInsertHeader
from kilter.protocol.messages import RemoveRecipient as KRemoveRecipient
from kilter.protocol.messages import ReplaceBody as KReplaceBody

from mailguard.milter import edits as ed

log = structlog.get_logger("mailguard.milter.connection")

# The biggest packet accepted: Postfix sends body chunks of at most 64 KB and header fields
# up to header_size_limit (100 KB); anything far larger is not a milter peer.
MAX_PACKET = 16 * 1024 * 1024
# libmilter's limit for one body replacement packet.
BODY_CHUNK = 65535

ACTIONS = (
    ActionFlags.ADD_HEADERS
    | ActionFlags.CHANGE_HEADERS
    | ActionFlags.CHANGE_BODY
    | ActionFlags.ADD_RECIPIENT
    | ActionFlags.DELETE_RECIPIENT
)
OPTIONS = (
    ProtocolFlags.NO_CONNECT
    | ProtocolFlags.NO_HELO
    | ProtocolFlags.NO_DATA
    | ProtocolFlags.NO_UNKNOWN
    | ProtocolFlags.NR_RECIPIENT
    | ProtocolFlags.NR_HEADER
    | ProtocolFlags.NR_BODY
    | ProtocolFlags.HEADER_LEADING_SPACE
)
_LENGTH = struct.Struct("!L")


class Reply(StrEnum):
    """The final answer for one message."""

    CONTINUE = "continue"  # accept, with the edits; the next milter runs
    DISCARD = "discard"  # accept and drop (mailguard stored it)
    TEMPFAIL = "tempfail"  # try again later; Postfix keeps the message


@dataclass(frozen=True, slots=True)
class Verdict:
    """Edits to apply, then the reply (``text``: the 4xx text of a temporary failure)."""

    reply: Reply
    edits: tuple[ed.Edit, ...] = ()
    text: str = "451 4.3.0 mailguard: temporary failure, try again later"


@dataclass
class MilterMessage:
    """One message as the MTA showed it to the milter."""

    sender: str = ""
    sender_args: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    recipient_args: list[str] = field(default_factory=list)
    fields: list[ed.Field] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    macros: dict[str, str] = field(default_factory=dict)

    @property
    def queue_id(self) -> str | None:
        """The MTA's queue id (the ``i`` macro), for matching mailguard's log with Postfix's."""
        return self.macros.get("i")

    def raw(self) -> bytes:
        """The message's bytes: the header fields as received and the body."""
        return ed.join_message(self.fields, bytes(self.body))


class Judge(Protocol):
    """What decides about the messages of a connection (:mod:`mailguard.milter.handler`)."""

    def wants_sender(self, sender: str) -> bool: ...

    def wants_header(self, message: MilterMessage) -> bool: ...

    async def decide(self, message: MilterMessage) -> Verdict: ...


class MilterProtocolError(Exception):
    """The peer broke the protocol (or offered too little); the connection is closed."""


def _address(value: bytes | memoryview) -> str:
    text = bytes(value).decode("utf-8", "surrogateescape").strip()
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def _args(values: Sequence[bytes | memoryview]) -> list[str]:
    return [bytes(v).decode("utf-8", "surrogateescape") for v in values]


class MilterConnection:
    """Serves one MTA connection until it closes (see the module docstring)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, judge: Judge
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._judge = judge
        self._proto = FilterProtocol(abort_on_unknown=True)
        self._out = SimpleBuffer(BODY_CHUNK + 1024)
        self._message = MilterMessage()
        self._leading_space = False
        sock = writer.get_extra_info("socket")
        self._quickack = (
            sock
            if sock is not None
            and sock.family in (socket.AF_INET, socket.AF_INET6)
            and hasattr(socket, "TCP_QUICKACK")
            else None
        )

    async def serve(self) -> None:
        """Read and answer events until the MTA closes the connection."""
        try:
            while (packet := await self._packet()) is not None:
                buffer = SimpleBuffer(len(packet))
                buffer[:] = packet
                for event in self._proto.read_from(buffer):
                    if isinstance(event, Close):
                        return
                    await self._event(event)
                await self._writer.drain()
        finally:
            self._writer.close()

    async def _packet(self) -> bytes | None:
        try:
            head = await self._reader.readexactly(_LENGTH.size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        (size,) = _LENGTH.unpack(head)
        if not 0 < size <= MAX_PACKET:
            raise MilterProtocolError(f"a packet of {size} bytes")
        data = await self._reader.readexactly(size)
        if self._quickack is not None:
            self._quickack.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return head + data

    def _send(self, *messages: Message) -> None:
        for message in messages:
            self._proto.write_to(self._out, message)  # type: ignore[arg-type]
            self._writer.write(bytes(self._out[:]))
            del self._out[:]

    async def _event(self, event: Message) -> None:
        message = self._message
        if isinstance(event, Negotiate):
            self._send(self._negotiated(event))
        elif isinstance(event, Macro):
            message.macros.update(event.macros)
        elif isinstance(event, EnvelopeFrom):
            self._message = message = MilterMessage(macros=message.macros)
            message.sender = _address(event.sender)
            message.sender_args = _args(event.arguments)
            self._send(Continue() if self._judge.wants_sender(message.sender) else Accept())
        elif isinstance(event, EnvelopeRecipient):
            message.recipients.append(_address(event.recipient))
            message.recipient_args = _args(event.arguments)
        elif isinstance(event, Header):
            value = bytes(event.value).decode("utf-8", "surrogateescape")
            value = value if self._leading_space else f" {value}"
            message.fields.append((event.name, value.replace("\r\n", "\n").replace("\n", "\r\n")))
        elif isinstance(event, EndOfHeaders):
            self._send(Continue() if self._judge.wants_header(message) else Accept())
        elif isinstance(event, Body):
            message.body += event.content
        elif isinstance(event, EndOfMessage):
            message.body += event.content
            await self._end_of_message(message)
        elif isinstance(event, Abort):
            self._message = MilterMessage()
        elif self._proto.needs_response(event):  # type: ignore[arg-type]
            self._send(Continue())

    def _negotiated(self, offer: Negotiate) -> Negotiate:
        missing = ACTIONS & ~offer.action_flags
        if missing:
            raise MilterProtocolError(f"the MTA does not offer the actions {missing!r}")
        options = OPTIONS & offer.protocol_flags
        self._leading_space = ProtocolFlags.HEADER_LEADING_SPACE in options
        return Negotiate(6, ACTIONS, options, {})

    async def _end_of_message(self, message: MilterMessage) -> None:
        try:
            verdict = await self._judge.decide(message)
        except Exception as exc:  # never accept what could not be judged: Postfix retries
            log.exception("milter_decision_failed", error=f"{type(exc).__name__}: {exc}")
            verdict = Verdict(Reply.TEMPFAIL)
        self._message = MilterMessage(macros=message.macros)
        if verdict.reply is Reply.TEMPFAIL:
            # libmilter's smfi_setreply: the whole reply, NUL-terminated.
            text = verdict.text.encode("utf-8", "replace") + b"\0"
            self._send(ReplyCode(text) if verdict.text else TemporaryFailure())
            return
        self._send(*(m for edit in verdict.edits for m in self._edit(edit)))
        self._send(Discard() if verdict.reply is Reply.DISCARD else Continue())

    def _value(self, value: str) -> bytes:
        space = " " if self._leading_space and value else ""
        return f"{space}{value}".encode("utf-8", "surrogateescape")

    def _edit(self, edit: ed.Edit) -> list[Message]:
        match edit:
            case ed.ChangeHeader(name, index, value):
                return [KChangeHeader(index, name, self._value(value))]
            case ed.AddHeader(name, value):
                return [KAddHeader(name, self._value(value))]
            case ed.InsertHeader(index, name, value):
                return [KInsertHeader(index, name, self._value(value))]
            case ed.ReplaceBody(body):
                chunks = range(0, max(len(body), 1), BODY_CHUNK)
                return [KReplaceBody(body[i : i + BODY_CHUNK]) for i in chunks]
            case ed.AddRecipient(address):
                return [KAddRecipient(f"<{address}>")]
            case ed.RemoveRecipient(address):
                return [KRemoveRecipient(f"<{address}>")]
        raise TypeError(f"unknown edit {edit!r}")
