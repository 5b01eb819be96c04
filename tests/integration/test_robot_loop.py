"""Loops between robots, for real: a customer's auto-responder against the company's robot.

`mailguard run` watches support@ on a real Dovecot (mail arrives by LMTP) and proxies the
helpdesk robot's replies to the upstream relay, where the customer's auto-responder answers
everything it gets, ``Auto-Submitted`` or not (tests/integration/robots.py). Left alone, the
two robots would mail each other for ever. The test checks that

* the exchange stops on its own, within ``policy.bot_ping_pong.max_exchanges`` robot
  replies reaching the customer;
* nothing is lost: every robot reply was relayed once or is held, every message of the
  customer's bot is in support@'s mailbox;
* what was held is listed by ``mailguard held list`` and ``mailguard held release`` relays it
  exactly once (a second release is refused); the customer's bot answers the released reply
  at once, and mailguard stops the loop again;
* the agents hear of it: the circuit breaker (a bot that says it is one) or the escalation
  (a bot that writes like a person) is announced at the agents' address.
"""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

import pytest

from tests.dovecot.fixture import Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, held_listing, wait_for
from tests.integration.imap_support import customer_mail, folder_messages, mid
from tests.integration.robots import (
    CompanyMx,
    CustomerBot,
    HelpdeskRobot,
    Internet,
    Ledger,
    Traffic,
)

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]

CARL = "carl@customer.example"
AGENTS = "agents@example.test"
MAX_EXCHANGES = 3
RELEASES = MAX_EXCHANGES


class Scene:
    """The daemon, both robots and what each side saw."""

    def __init__(
        self,
        daemon: Daemon,
        dovecot: Dovecot,
        ledger: Ledger,
        internet: Internet,
        traffic: Traffic,
        *,
        marked: bool,
        at_delivery: bool,
    ) -> None:
        self.daemon = daemon
        self.ledger = ledger
        self.internet = internet
        self.traffic = traffic
        self.robot = HelpdeskRobot(daemon.smtp_port)
        # The robot answers as soon as the message is delivered (like Sieve vacation, or a
        # ticket system fed by the MX), or once mailguard's watcher has read it.
        self.mx = CompanyMx(dovecot, self.robot, traffic, None if at_delivery else ledger.seen)
        self.bot = CustomerBot(CARL, self.mx, marked=marked)
        internet.bots[CARL] = self.bot

    def to_carl(self) -> collections.Counter[str]:
        """How often each message reached Carl's side, by Message-ID."""
        return collections.Counter(r.message_id for r in self.internet.to(CARL))

    async def settled(self) -> None:
        """Until nothing moves: robots idle, every robot reply relayed or held, actions done."""

        async def quiet() -> bool:
            await self.traffic.idle()
            relayed = set(self.to_carl())
            held = set(await self.ledger.held()) | set(await self.ledger.held("released"))
            # Each robot reply was relayed or held: decided, and nothing left in flight.
            decided = [mid(m) in relayed or mid(m) in held for m in self.robot.sent]
            inbound = [await self.ledger.seen(mid(m)) for m in self.mx.delivered]
            return all(decided) and all(inbound) and await self.ledger.pending_actions() == 0

        try:
            await wait_for("robots and mailguard to settle", quiet, within=90)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {await self.picture()}") from None
        # Settled means stopped: nothing is in flight, so nothing may move any more.
        before = (len(self.robot.sent), len(self.internet.received), len(self.mx.delivered))
        await asyncio.sleep(1.0)
        await self.traffic.idle()
        assert (len(self.robot.sent), len(self.internet.received), len(self.mx.delivered)) == (
            before
        )

    async def picture(self) -> str:
        """What each side saw, for a failure message."""
        return (
            f"robot sent {[mid(m) for m in self.robot.sent]}, reached Carl {self.to_carl()}, "
            f"held {await self.ledger.held()}, delivered {[mid(m) for m in self.mx.delivered]}, "
            f"actions not done {await self.ledger.actions_not_done()}"
        )

    async def held_listing(self) -> dict[str, int]:
        """``mailguard held list``: held id by Message-ID."""
        listing = await self.daemon.acli("held", "list")
        assert listing.returncode == 0, listing.stderr
        return held_listing(listing.stdout)


@pytest.mark.parametrize(
    ("marked", "at_delivery"),
    [
        pytest.param(True, False, id="out-of-office"),
        pytest.param(False, False, id="assistant"),
        pytest.param(True, True, id="out-of-office-answered-at-delivery"),
    ],
)
async def test_a_loop_between_robots_stops_and_what_was_held_is_released_once(
    marked: bool,
    at_delivery: bool,
    dovecot: Dovecot,
    internet: Internet,
    traffic: Traffic,
    tmp_path: Path,
) -> None:
    config = daemon_config(
        tmp_path,
        dovecot,
        internet.address,
        extra={
            "notify": {"agents": AGENTS, "sender": "mailguard@example.test"},
            "policy": {"bot_ping_pong": {"max_exchanges": MAX_EXCHANGES}},
        },
    )
    daemon = Daemon(config, tmp_path / "daemon.log")
    ledger = Ledger(f"sqlite:///{tmp_path / 'data' / 'mailguard.sqlite3'}")
    try:
        await daemon.healthy("/readyz")
        scene = Scene(
            daemon, dovecot, ledger, internet, traffic, marked=marked, at_delivery=at_delivery
        )
        first = customer_mail(CARL, "Where is my parcel?", "I ordered a lamp two weeks ago.\n")
        await scene.mx.deliver(first)
        await scene.settled()

        # The loop stopped on its own: of the robot's replies, only the answer to Carl's own
        # message reached him; the answer to his bot was held.
        reached = scene.to_carl()
        assert len(reached) <= MAX_EXCHANGES
        assert list(reached) == [mid(scene.robot.sent[0])], reached
        assert len(scene.robot.sent) == 2 and len(scene.bot.answered) == 1
        held = await scene.held_listing()
        assert list(held) == [mid(scene.robot.sent[1])]
        if not at_delivery:
            # The proxy told the robot what it did: relayed the first, held the second.
            assert [scene.robot.replies[mid(m)] for m in scene.robot.sent] == [
                "2.0.0 Ok: relayed (OK)",
                "2.0.0 Ok: held by mailguard for a person",
            ]

        # An operator lets the held reply go: it reaches Carl once, his bot answers it at
        # once, and mailguard stops the loop again. Again and again.
        released: list[str] = []
        for _ in range(RELEASES):
            [(message_id, held_id)] = (await scene.held_listing()).items()
            done = await daemon.acli("held", "release", str(held_id))
            assert done.returncode == 0, done.stderr
            released.append(message_id)
            await scene.settled()
            again = await daemon.acli("held", "release", str(held_id))
            assert again.returncode == 1 and "not held any more" in again.stderr
            assert scene.to_carl()[message_id] == 1
        await scene.settled()
        reached = scene.to_carl()
        # Every robot reply was relayed exactly once or is still held; nothing twice.
        still_held = await scene.held_listing()
        assert set(reached) | set(still_held) == {mid(m) for m in scene.robot.sent}
        assert not set(reached) & set(still_held)
        assert set(reached.values()) == {1}
        assert list(reached) == [mid(scene.robot.sent[0]), *released]
        assert len(still_held) == 1
        assert len(scene.robot.sent) == 2 + RELEASES
        assert len(scene.bot.answered) == 1 + RELEASES
        # Every message of Carl's side is in support@'s mailbox (INBOX or the escalation folder).
        stored = [
            m["message_id"]
            for f in ("INBOX", "Escalated")
            for m in await folder_messages(dovecot, f)
        ]
        assert {mid(m) for m in scene.mx.delivered} <= set(stored)

        notices = [r.message for r in internet.to(AGENTS)]
        subjects = [str(n["Subject"]) for n in notices]
        if marked:
            # A bot that says it is one: each answer to it was held under RFC 3834, and after
            # max_exchanges such exchanges the circuit broke and the agents were told, once.
            assert len(notices) == 1, subjects
            assert "bot_ping_pong" in notices[0].get_content(), subjects
        else:
            # A bot that writes like a person: two of its "messages" answered only by the
            # robot are an automated streak; the agents are told, once.
            assert len(notices) == 1, subjects
            assert "automated_streak" in notices[0].get_content()
        status = await daemon.acli("status")
        assert status.returncode == 0, status.stderr
        assert "held messages: 1 " in status.stdout, status.stdout
        [outbox] = [line for line in status.stdout.splitlines() if line.startswith("outbox:")]
        # Every action done, the circuit breaker's too (nothing pending for ever).
        assert "done" in outbox and "pending" not in outbox and "failed" not in outbox, outbox
        assert daemon.stop() == 0, daemon.log.read_text()[-3000:]
    finally:
        daemon.kill()
        await ledger.close()
