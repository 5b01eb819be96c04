"""Agents' release and drop commands from their mail client, settled against the store.

The mailbox side (:mod:`mailguard.imap.held_folders`) finds the held copies agents moved
into the release or drop folder, or tagged with the release or drop keyword, and asks
:class:`HeldSettler` what became of each. The settler reads the held row the copy's stamp
names, judges (:func:`mailguard.domain.heldcopy.judge`: same mailbox, same Message-ID, same
digest, still waiting) and acts through exactly what ``mailguard held release|drop`` runs
(:mod:`mailguard.smtp.held`): the conditional claim makes a release exactly-once across
replicas, agents and operators, and the relay receipt tells a finished release from one a
crash interrupted. The bytes relayed are always the stored row's, never the copy's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from mailguard.domain.heldcopy import Command, HeldFacts, Outcome, Stamp, Verdict, judge
from mailguard.smtp import held
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay

log = structlog.get_logger("mailguard.app.held_commands")

BUSY_SLACK = timedelta(seconds=30)


def busy_window(relay_timeout: timedelta) -> timedelta:
    """How long a claim without a receipt is another process's relay in progress: a relay
    takes at most its timeout per step (connect, MAIL, RCPT, DATA), and the receipt follows."""
    return relay_timeout * 4 + BUSY_SLACK


class HeldSettler:
    """Settles agents' commands on held copies (see the module docstring)."""

    def __init__(
        self,
        store: held.HeldStore,
        relay: Relay,
        clock: Callable[[], datetime],
        *,
        receipts: Receipts | None,
        busy_for: timedelta,
    ) -> None:
        self._store = store
        self._relay = relay
        self._clock = clock
        self._receipts = receipts
        self._busy_for = busy_for

    async def settle(self, mailbox: str, stamp: Stamp | None, command: Command) -> Verdict:
        """Act on one copy's command; returns what was done (or why nothing was)."""
        verdict = await self._judge(mailbox, stamp, command)
        if stamp is None or stamp.held_id is None:
            return verdict
        if verdict.outcome is Outcome.RELEASE:
            return await self._release(mailbox, stamp, command, stamp.held_id)
        if verdict.outcome is Outcome.DROP:
            return await self._drop(mailbox, stamp, command, stamp.held_id)
        return verdict

    async def _judge(self, mailbox: str, stamp: Stamp | None, command: Command) -> Verdict:
        facts = None
        if stamp is not None and stamp.held_id is not None:
            facts = await self._facts(stamp.held_id)
        return judge(stamp, command, mailbox, facts, self._clock(), self._busy_for)

    async def _facts(self, held_id: int) -> HeldFacts | None:
        record: held.HeldRecord | None = await self._store.held_by_id(held_id)
        if record is None:
            return None
        relayed = record.state == held.RELEASED and await held.relayed(self._store, record)
        claimed = record.updated_at if record.state == held.RELEASED else None
        return HeldFacts(
            record.id, record.mailbox, record.message_id, record.raw, record.state, claimed, relayed
        )

    async def _release(self, mailbox: str, stamp: Stamp, command: Command, held_id: int) -> Verdict:
        try:
            done = await held.release(
                self._store, self._relay, held_id, self._clock(), receipts=self._receipts
            )
        except held.HeldError as exc:
            if exc.relay == "permanent":
                return Verdict(Outcome.FAILED, exc.problem)
            if exc.relay is not None:
                return Verdict(Outcome.RETRY, exc.problem)
            return await self._after_race(mailbox, stamp, command)
        return Verdict(Outcome.RELEASED, f"relayed: {done.relay.reply}")

    async def _drop(self, mailbox: str, stamp: Stamp, command: Command, held_id: int) -> Verdict:
        try:
            await held.drop(self._store, held_id, self._clock())
        except held.HeldError:
            return await self._after_race(mailbox, stamp, command)
        return Verdict(Outcome.DROPPED, "discarded")

    async def _after_race(self, mailbox: str, stamp: Stamp, command: Command) -> Verdict:
        """Someone else settled the row first (another replica, an operator): what they did."""
        verdict = await self._judge(mailbox, stamp, command)
        if verdict.outcome in (Outcome.RELEASE, Outcome.DROP):
            # Put back to held in between (a failed release elsewhere): next round.
            return Verdict(Outcome.RETRY, "the held message changed meanwhile")
        return verdict
