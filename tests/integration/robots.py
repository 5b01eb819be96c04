"""Robots on both sides of mailguard, for end-to-end tests against the real daemon.

::

    customer's auto-responder ──▶ CompanyMx ──LMTP──▶ Dovecot support@ ◀── mailguard's watcher
              ▲                      │
              │                      └──▶ HelpdeskRobot ──SMTP──▶ mailguard's proxy
              └──────────── Internet (the proxy's upstream relay) ◀────────────┘

* :class:`Internet` is the upstream relay mailguard hands mail to: an aiosmtpd server on the
  test's loop that keeps every envelope (the agents' notifications arrive here too) and
  hands mail for a customer who has an auto-responder to it.
* :class:`CustomerBot` answers everything it gets, ignoring ``Auto-Submitted`` (RFC 3834
  asks it not to; badly behaved auto-responders and customer-side assistants do it anyway).
  Its replies go to the company's MX.
* :class:`CompanyMx` delivers into support@'s mailbox by LMTP (Sieve runs, as for real mail)
  and hands a copy of each message to the helpdesk robot, like a ticket system fed by the MX.
* :class:`HelpdeskRobot` answers every message it is given with an automated acknowledgement
  sent through mailguard's SMTP proxy.

The two robots alone would mail each other for ever; the only thing between them is mailguard.
:class:`Traffic` runs their work as tasks and says when everything in flight has finished.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import func, select

from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.imap_support import OWN_DOMAIN, customer_mail, mid
from tests.real_servers import exercised, require_marker, require_or_skip

HOST = "127.0.0.1"
# A runaway loop must end the test, not hang it: each robot gives up after this many answers
# (far beyond what the tests allow).
MAX_ANSWERS = 25


class Traffic:
    """The robots' background work: tasks that may start more tasks, and their failures."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self.errors: list[BaseException] = []

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.errors.append(task.exception())  # type: ignore[arg-type]

    async def idle(self, within: float = 60) -> None:
        """Wait until no robot work is in flight; re-raise the first failure."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self._tasks:
            assert loop.time() < deadline, f"robots still busy after {within}s"
            await asyncio.wait(set(self._tasks), timeout=max(0.1, deadline - loop.time()))
        if self.errors:
            raise self.errors[0]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True)
class Received:
    """One envelope the upstream relay accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip().strip("<>")


class HelpdeskRobot:
    """The company's auto-responder: acknowledges every message through mailguard's proxy."""

    def __init__(self, proxy_port: int) -> None:
        self.proxy_port = proxy_port
        self.sent: list[EmailMessage] = []
        # The proxy's answer to each reply, by Message-ID.
        self.replies: dict[str, str] = {}
        self._tickets = itertools.count(1000)

    async def answer(self, msg: EmailMessage) -> None:
        if len(self.sent) >= MAX_ANSWERS:
            return
        number = next(self._tickets)
        reply = customer_mail(
            SUPPORT,
            f"[Ticket #{number}] {msg['Subject']}",
            "Thank you for contacting us. This is an automated confirmation: your request has "
            f"been received and given ticket number {number}.\n",
            to=str(msg["From"]),
            in_reply_to=mid(msg),
            headers=[("Auto-Submitted", "auto-replied")],
            domain=OWN_DOMAIN,
        )
        self.sent.append(reply)
        _, text = await aiosmtplib.send(
            reply, hostname=HOST, port=self.proxy_port, sender=SUPPORT, timeout=30
        )
        self.replies[mid(reply)] = text


Seen = Callable[[str], Awaitable[bool]]


class CompanyMx:
    """Delivers to support@ by LMTP and hands each message to the helpdesk robot.

    ``answer_after``: the robot answers once this says the message was seen (e.g. by
    mailguard's watcher); None answers right after delivery.
    """

    def __init__(
        self,
        dovecot: Dovecot,
        robot: HelpdeskRobot | None,
        traffic: Traffic,
        answer_after: Seen | None = None,
    ) -> None:
        self.dovecot = dovecot
        self.robot = robot
        self.traffic = traffic
        self.answer_after = answer_after
        self.delivered: list[EmailMessage] = []

    async def deliver(self, msg: EmailMessage) -> None:
        await self.dovecot.deliver_async(msg, mail_from=str(msg["From"]), rcpt=SUPPORT)
        self.delivered.append(msg)
        if self.robot is not None:
            self.traffic.spawn(self._answer(msg))

    async def _answer(self, msg: EmailMessage) -> None:
        assert self.robot is not None
        if self.answer_after is not None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while not await self.answer_after(mid(msg)):
                assert loop.time() < deadline, f"{mid(msg)} never seen"
                await asyncio.sleep(0.05)
        await self.robot.answer(msg)


class CustomerBot:
    """A customer's auto-responder that answers everything (``Auto-Submitted`` ignored).

    ``marked``: its replies say what they are (``Auto-Submitted: auto-replied``, an
    out-of-office text). Unmarked, they read like a person's short answer: a customer-side
    assistant that no header or phrase gives away.
    """

    def __init__(self, address: str, mx: CompanyMx, *, marked: bool) -> None:
        self.address = address
        self.mx = mx
        self.marked = marked
        self.answered: list[str] = []

    async def answer(self, msg: EmailMessage) -> None:
        if len(self.answered) >= MAX_ANSWERS:
            return
        self.answered.append(mid(msg))
        if self.marked:
            subject = f"Automatic reply: {msg['Subject']}"
            body = "I am out of the office until Monday and will read your message then.\n"
            headers = [("Auto-Submitted", "auto-replied")]
        else:
            subject = f"Re: {msg['Subject']}"
            body = "Thank you for your message. I will get back to you as soon as I can.\n"
            headers = []
        reply = customer_mail(self.address, subject, body, in_reply_to=mid(msg), headers=headers)
        await self.mx.deliver(reply)


class _Relay:
    """aiosmtpd handler of :class:`Internet`."""

    def __init__(self, internet: Internet) -> None:
        self.internet = internet

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        got = Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(raw))
        self.internet.received.append(got)
        for rcpt in got.rcpt_tos:
            bot = self.internet.bots.get(rcpt.lower())
            if bot is not None:
                # Answer after this transaction: the proxy waits for our 250 meanwhile.
                self.internet.traffic.spawn(bot.answer(got.message))
        return "250 OK"


@dataclass
class Internet:
    """The proxy's upstream relay: keeps every envelope, hands customers' mail to their bots."""

    traffic: Traffic
    bots: dict[str, CustomerBot] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def address(self) -> tuple[str, int]:
        return HOST, self.port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(_Relay(self)), HOST, 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


class Ledger:
    """Reads the daemon's database, as a test's observer (never writes)."""

    def __init__(self, url: str) -> None:
        self.store = SqlStore.from_url(url)

    async def close(self) -> None:
        await self.store.close()

    async def _count(self, table: Any, *where: Any) -> int:
        async with self.store.engine.connect() as conn:
            found = await conn.execute(select(func.count()).select_from(table).where(*where))
            return int(found.scalar_one())

    async def seen(self, message_id: str, direction: str = "in") -> bool:
        """The engine has processed the message (the watcher's or the proxy's)."""
        found = await self._count(
            t.messages, t.messages.c.message_id == message_id, t.messages.c.direction == direction
        )
        return found > 0

    async def held(self, state: str = "held") -> list[str]:
        """Message-IDs of held messages in ``state``, oldest first."""
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(
                select(t.held_messages.c.message_id)
                .where(t.held_messages.c.state == state)
                .order_by(t.held_messages.c.id)
            )
            return [str(r[0]) for r in rows]

    async def pending_actions(self) -> int:
        return await self._count(t.outbox_actions, t.outbox_actions.c.state != "done")

    async def actions_not_done(self) -> list[tuple[str, str, str | None]]:
        """Kind, state and last error of each outbox action not done."""
        c = t.outbox_actions.c
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(
                select(c.kind, c.state, c.last_error).where(c.state != "done").order_by(c.id)
            )
            return [(str(r[0]), str(r[1]), r[2]) for r in rows]


@pytest.fixture
async def traffic() -> AsyncIterator[Traffic]:
    work = Traffic()
    try:
        yield work
    finally:
        await work.close()


@pytest.fixture
async def internet(request: pytest.FixtureRequest, traffic: Traffic) -> AsyncIterator[Internet]:
    """The upstream relay on an ephemeral port of the test's loop (a real aiosmtpd server)."""
    require_marker(request.node, "smtp")
    net = Internet(traffic)
    try:
        await net.start()
    except OSError as exc:
        require_or_skip("smtp", f"cannot listen on {HOST}: {exc}")
    exercised(request.node, "smtp")
    try:
        yield net
    finally:
        await net.close()
