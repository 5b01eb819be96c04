"""The engine's turn for a mailbox's folders, in date order while they catch up.

The policy decides each message as it comes: a human reply resets the customer's history,
so a reply must not be decided before the customer's messages it answered. Live mail
arrives in that order; a catch-up (the first start's backfill, or after an outage) reads
INBOX and Sent each from its checkpoint, and one folder may run far ahead of the other in
date. While the folders catch up, their batches are merged here by message time (the
engine's ``at``: the Date header, never later than now), a 2-way merge of two sorted
streams, each fed one batch at a time (the reader fetches the next one meanwhile).

Each folder's task hands its batch to :meth:`DateMerge.run` and gets it back once every
message of it was decided. The turn decides the heads in date order across the folders
together, one run at a time (``Engine.process_many``: one transaction for the run, issue
23), as far as no folder that still catches up has run out of its batch (its next one could
hold earlier mail). Once the batch is back, the task sets keywords and saves the folder's
checkpoint, so a checkpoint never passes an undecided message. Whichever task holds the turn decides
the earliest head of the batches present; it waits while a folder that still catches up
has no batch in (it is fetching its next), except for a folder whose connection is lost:
that one is waited for ``grace`` seconds at most (a kick or a server restart), then the
other folder goes on alone. After its first pass a folder is live: it no longer holds the
other up, and batches take the turn as they come.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Step = Callable[[], Awaitable[None]]
"""Deciding one message (through the engine)."""

Decide = Callable[[list[Any]], Awaitable[None]]
"""Deciding a run of items together, in order (through ``Engine.process_many``); a run takes
items of several folders' batches when they share the function."""

MAX_RUN = 200
"""Items decided together at most (one transaction)."""


async def one_by_one(steps: list[Any]) -> None:
    """The default :data:`Decide`: each item is a :data:`Step`, run in turn."""
    for step in steps:
        await step()


_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class _Batch:
    items: deque[tuple[datetime, Any]]
    decide: Decide
    error: BaseException | None = None
    busy: bool = False
    """A run of it is being decided (perhaps by the other folder's task)."""


class DateMerge:
    """The turn of a mailbox's folders (``roles``) at the engine, merged by date in a catch-up."""

    def __init__(self, roles: Sequence[str], grace: float) -> None:
        self._roles = tuple(roles)
        self._grace = grace
        self._catching = dict.fromkeys(self._roles, True)
        self._away: dict[str, float | None] = dict.fromkeys(self._roles)
        self._batches: dict[str, _Batch | None] = dict.fromkeys(self._roles)
        self._last = dict.fromkeys(self._roles, _EPOCH)
        self._turn = asyncio.Lock()
        self._changed = asyncio.Event()

    def catching_up(self, role: str) -> bool:
        return self._catching[role]

    def connected(self, role: str) -> None:
        """``role``'s connection is up (again)."""
        self._away[role] = None
        self._signal()

    def lost(self, role: str) -> None:
        """``role``'s connection failed: it catches up from its checkpoint once back."""
        self._catching[role] = True
        if self._away[role] is None:
            self._away[role] = time.monotonic()
        self._signal()

    def caught_up(self, role: str) -> None:
        """``role`` read everything up to what its catch-up found: it is live now."""
        self._catching[role] = False
        self._signal()

    async def run(
        self,
        role: str,
        items: Sequence[tuple[datetime | None, Any]],
        stop: asyncio.Event,
        decide: Decide = one_by_one,
    ) -> None:
        """Decide one batch of ``role`` (its messages in UID order, each with its time or
        None), in date order with the other folders' while they catch up; returns once all
        were decided or ``stop`` is set. ``decide`` is handed runs of items in that order,
        with the other folders' items among them where they share ``decide`` (by default
        each item is a :data:`Step`). An error deciding a run is raised in each task whose
        batch was in it (the rest of those batches is left undecided)."""
        keyed = []
        last = self._last[role]
        for when, step in items:
            # A message without a date goes as it comes: at its predecessor's time.
            last = when if when is not None else last
            keyed.append((last, step))
        self._last[role] = last
        keyed.sort(key=lambda item: item[0])  # stable: UID order among equal times
        mine = _Batch(deque(keyed), decide)
        self._batches[role] = mine
        self._signal()
        try:
            while (mine.items or mine.busy) and mine.error is None and not stop.is_set():
                if not mine.items or self._next() is None:
                    await self._wait(stop)
                    continue
                async with self._turn:
                    await self._decide(mine, stop)
            if mine.error is not None and isinstance(mine.error, Exception):
                raise mine.error
        finally:
            self._batches[role] = None
            self._signal()

    async def _decide(self, mine: _Batch, stop: asyncio.Event) -> None:
        """Holding the turn: decide the earliest heads until ``mine`` is done or a folder
        still catching up has to be waited for."""
        while mine.items and mine.error is None and not stop.is_set():
            run = self._run()
            if not run:
                return
            decide = run[0][0].decide
            batches = list({id(batch): batch for batch, _ in run}.values())
            for batch in batches:
                batch.busy = True
            try:
                await decide([item for _, item in run])
            except BaseException as exc:
                for batch in batches:
                    batch.error = exc
                    batch.items.clear()
                if mine in batches or not isinstance(exc, Exception):
                    raise
                continue
            finally:
                # Their tasks, waiting while the run was decided here, take the batches
                # back once nothing of them is left (or see the error).
                for batch in batches:
                    batch.busy = False
                self._signal()

    def _run(self) -> list[tuple[_Batch, Any]]:
        """The heads in date order across the folders, as far as no folder that still
        catches up has to be waited for (at most ``MAX_RUN``, one ``decide`` function)."""
        run: list[tuple[_Batch, Any]] = []
        limit = MAX_RUN
        while len(run) < limit and (role := self._next()) is not None:
            batch = self._batches[role]
            assert batch is not None  # noqa: S101 - _next only names a role with a batch
            if run and batch.decide != run[0][0].decide:
                break
            if batch.decide is one_by_one:
                limit = 1  # plain steps: each its own, an error is that step's batch's
            run.append((batch, batch.items.popleft()[1]))
        return run

    def _next(self) -> str | None:
        """The role whose head is due, or None while one catching up must be waited for."""
        heads: list[tuple[datetime, int, str]] = []
        now = time.monotonic()
        for index, role in enumerate(self._roles):
            batch = self._batches[role]
            if batch is not None and batch.items:
                heads.append((batch.items[0][0], index, role))
            elif self._catching[role] and not self._gone(role, now):
                return None
        return min(heads)[2] if heads else None

    def _gone(self, role: str, now: float) -> bool:
        away = self._away[role]
        return away is not None and now - away >= self._grace

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until something changed, ``stop``, or a lost folder's grace ran out."""
        now = time.monotonic()
        ends = [a + self._grace - now for a in self._away.values() if a is not None]
        timeout = min((end for end in ends if end > 0), default=None)
        changed = asyncio.ensure_future(self._changed.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({changed, stopped}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            changed.cancel()
            stopped.cancel()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
