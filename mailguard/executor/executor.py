"""The outbox executor: performs pending actions and marks them done (DESIGN.md "Effects").

The engine writes a decision and its actions in one transaction; this loop takes pending
actions, dispatches each by kind to a handler, and records the attempt. A crash between an
effect and ``finish_action`` repeats the action, so every handler is idempotent. A failure
is logged, counted and retried with exponential backoff (the action stays pending with its
error; after ``max_attempts`` it is given up and stays visible as failed); it never blocks
other actions, and after a connection failure the rest of that mailbox's actions wait for
the next round while other mailboxes go on.

Extension point: ``handlers`` maps an action kind to an async callable. Kinds without a
handler are not taken at all: they stay pending and visible (metric
``mailguard_imap_actions_pending``). ``notify`` is performed by
:class:`mailguard.executor.notify.Notifier`, which sends through the upstream relay;
``circuit_break`` is only recorded (:func:`record_circuit_break`).

``dry_run`` (a bool, or a :class:`~mailguard.config.dryrun.DryRun` per mailbox): each action of
a mailbox in a dry run is logged with what would be done and marked done; nothing on any
server changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import structlog

from mailguard.config.dryrun import DryRun
from mailguard.executor.ports import ActionRow, OutboxStore
from mailguard.imap import metrics

log = structlog.get_logger("mailguard.executor")

Handler = Callable[[ActionRow, datetime], Awaitable[str]]
"""Performs one action idempotently; returns a short outcome for the log; raises on failure."""

BATCH = 100


async def record_circuit_break(action: ActionRow, now: datetime) -> str:
    """``circuit_break``: nothing to do on a server; the record says what holds the mail.

    The breaker itself lives in the customer's state, where the policy enforces it: until
    ``until``, every automated reply to the counterpart is held (``mailguard held list``).
    The accompanying ``notify`` action tells the agents.
    """
    counterpart = action.payload.get("counterpart") or action.target
    until = action.payload.get("until") or "?"
    return f"breaker on {counterpart} until {until}: automated replies to it are held meanwhile"


def action_mailbox(action: ActionRow) -> str:
    """The guarded mailbox an action belongs to.

    Escalations and notifications name it in the payload; a held reply's key starts with
    it (``<mailbox>:<direction>:<message-id>:...``, and mailbox names cannot hold ``:``).
    """
    mailbox = action.payload.get("mailbox")
    if isinstance(mailbox, str) and mailbox:
        return mailbox
    return action.idempotency_key.split(":", 1)[0]


class MailboxUnavailable(Exception):
    """Raised by a handler when the mailbox cannot be reached (skip its other actions)."""


class Executor:
    """Runs the outbox until stopped; ``wake()`` makes it look at once."""

    def __init__(
        self,
        store: OutboxStore,
        handlers: Mapping[str, Handler],
        *,
        clock: Callable[[], datetime],
        dry_run: bool | DryRun = False,
        interval: float = 5.0,
        max_attempts: int = 12,
        backoff_cap: float = 300.0,
        unavailable: tuple[type[BaseException], ...] = (MailboxUnavailable,),
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._clock = clock
        self._dry_run = DryRun.of(dry_run)
        self._interval = interval
        self._max_attempts = max_attempts
        self._backoff_cap = backoff_cap
        self._unavailable = unavailable
        self._wake = asyncio.Event()
        self._not_before: dict[int, float] = {}
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography
        self._kinds_seen: set[str] = set()
        self._stop: asyncio.Event | None = None
        self._more = False
        self.healthy = True
        self.status = "ok"

    def wake(self) -> None:
        """Look for pending actions now (the watcher and the proxy call this after a decision)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work off pending actions until ``stop``; storage trouble is logged, not fatal."""
        self._stop = stop
        while not stop.is_set():
            self._wake.clear()
            try:
                finished = await self.run_once()
                self.healthy, self.status = True, "ok"
                if finished and self._more:
                    continue  # a full batch: there is more waiting right now
            except Exception as exc:
                # The database may come back: report it and try again next round.
                self.healthy = False
                first_line = (str(exc).strip().splitlines() or [""])[0]
                self.status = f"failing: {type(exc).__name__}: {first_line}"[:200]
                log.error("executor_round_failed", error=self.status)
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._next_wait()):
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    def _next_wait(self) -> float:
        if not self._not_before:
            return self._interval
        soonest = min(self._not_before.values()) - time.monotonic()
        return max(0.05, min(self._interval, soonest))

    async def run_once(self) -> int:
        """One pass over pending actions; returns how many were finished (done or given up)."""
        pending = await self._store.count_pending()
        self._kinds_seen.update(pending)
        for kind in self._kinds_seen:
            metrics.ACTIONS_PENDING.labels(kind).set(pending.get(kind, 0))
        rows = await self._store.pending_of_kinds(sorted(self._handlers), BATCH)
        self._more = len(rows) == BATCH
        down: set[str] = set()
        finished = 0
        now_mono = time.monotonic()
        for action in rows:
            if self._stop is not None and self._stop.is_set():
                break  # shutting down: the rest stays pending for the next start
            mailbox = action_mailbox(action)
            if mailbox in down or self._not_before.get(action.id, 0.0) > now_mono:
                continue
            finished += await self._perform(action, mailbox, down)
        return finished

    async def _perform(self, action: ActionRow, mailbox: str, down: set[str]) -> int:
        fields = {
            "action_id": action.id,
            "kind": action.kind,
            "mailbox": mailbox,
            "target": action.target,
            "attempt": action.attempts + 1,
        }
        if self._dry_run(mailbox):
            log.info("action_dry_run", **fields)
            await self._store.finish_action(action.id, self._clock())
            metrics.ACTIONS.labels(action.kind, "dry_run").inc()
            return 1
        started = time.perf_counter()
        try:
            outcome = await self._handlers[action.kind](action, self._clock())
        except Exception as exc:
            return await self._failed(action, mailbox, down, exc, fields)
        await self._store.finish_action(action.id, self._clock())
        self._not_before.pop(action.id, None)
        metrics.ACTIONS.labels(action.kind, "done").inc()
        duration = round((time.perf_counter() - started) * 1000, 3)
        log.info("action_done", outcome=outcome, duration_ms=duration, **fields)
        return 1

    async def _failed(
        self,
        action: ActionRow,
        mailbox: str,
        down: set[str],
        exc: Exception,
        fields: dict[str, object],
    ) -> int:
        error = f"{type(exc).__name__}: {exc}"
        attempts = action.attempts + 1
        give_up = attempts >= self._max_attempts
        await self._store.finish_action(action.id, self._clock(), error=error, give_up=give_up)
        if isinstance(exc, self._unavailable):
            down.add(mailbox)
        if give_up:
            self._not_before.pop(action.id, None)
            metrics.ACTIONS.labels(action.kind, "given_up").inc()
            log.error("action_given_up", error=error, **fields)
            return 1
        delay = min(self._backoff_cap, 1.0 * 2.0 ** min(attempts, 30))
        self._not_before[action.id] = time.monotonic() + delay / 2 + self._rng.uniform(0, delay / 2)
        metrics.ACTIONS.labels(action.kind, "failed").inc()
        log.warning("action_failed", error=error, retry_in_s=round(delay, 1), **fields)
        return 0
