"""Many messages, one transaction: :meth:`Engine.process_many` (issue 23).

Deciding a message costs little; committing it costs a round trip to the database and, on
SQLite, a hop to the store's thread and an fsync. So the IMAP catch-up (a FETCH batch at a
time) and the proxy's group commit (whatever arrived while the store was busy) decide a run
of messages in one unit of work, one after the other in the order given, exactly as
:meth:`Engine.process` would decide them one at a time: each decision reads what the
decisions before it wrote (the unit of work reads its own writes), and the rows are the
same but for their ids.

Concurrent writers (the proxy, the watcher, another replica): before deciding anything the
transaction locks every customer the messages will lock, in the one order every writer uses
(address, then mailbox), so two groups, or a group and a single message, cannot deadlock.
A message that may be deferred (the proxy's automated replies to mail not recorded yet)
locks nothing up front: deferred, it must leave no customer row behind.

Failures keep :meth:`Engine.process`'s isolation per message: when deciding one message
raises, the transaction is rolled back; the messages before it are decided again as a
group, the failing one alone in its own transaction (recorded as failed, with its raw
bytes, if it fails again), and the ones after it as a group. A failure that belongs to no
message (the flush or the commit: the database went away) raises for the whole group, so
that no caller acknowledges a message whose decision is not durable (the proxy answers
451, the watcher keeps its checkpoint).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client import Counter

from mailguard.domain.deferral import awaited_message
from mailguard.domain.model import Direction, Source
from mailguard.engine.analysis import Analysis
from mailguard.engine.deferral import Deferral
from mailguard.engine.ports import MessageKey, Store, UnitOfWork
from mailguard.engine.result import ProcessResult
from mailguard.engine.writes import Envelope, PreparedMessage


class Engine(Protocol):
    """What this module needs of :class:`mailguard.engine.service.Engine` (which imports
    this module, so the class is named by its shape here)."""

    def prepare(
        self,
        raw: bytes,
        *,
        source: Source,
        now: datetime,
        mailbox: str | None = None,
        direction: Direction | None = None,
        envelope: Envelope | None = None,
        analysis: Analysis | None = None,
    ) -> PreparedMessage: ...

    async def decide_or_defer(
        self, uow: UnitOfWork, prepared: PreparedMessage, now: datetime, defer: Deferral | None
    ) -> ProcessResult: ...

    async def record_failed(
        self,
        raw: bytes,
        exc: Exception,
        key: MessageKey | None,
        source: Source,
        now: datetime,
        mailbox: str | None,
        direction: Direction | None,
    ) -> ProcessResult: ...

    def locks_of(self, prepared: PreparedMessage) -> tuple[tuple[str, tuple[str, ...]], ...]: ...


BATCH_SPLITS = Counter(
    "mailguard_engine_batch_splits",
    "Batches of process_many rolled back and split around a message whose decision raised",
)


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message for :meth:`Engine.process_many`: the arguments of :meth:`Engine.process`.

    ``analysis`` is the parse and classification done already (in a worker process).
    """

    raw: bytes
    source: Source
    now: datetime
    mailbox: str | None = None
    direction: Direction | None = None
    envelope: Envelope | None = None
    defer: Deferral | None = None
    analysis: Analysis | None = None


@dataclass(slots=True)
class _Member:
    index: int
    item: Incoming
    prepared: PreparedMessage


class _Culprit(Exception):  # noqa: N818 - a marker carried out of the transaction
    """Deciding the group's member at ``position`` raised ``cause``."""

    def __init__(self, position: int, cause: Exception) -> None:
        super().__init__(f"member {position}: {type(cause).__name__}: {cause}")
        self.position = position
        self.cause = cause


async def process_many(
    engine: Engine, store: Store, items: Sequence[Incoming], *, offload: bool = False
) -> list[ProcessResult]:
    """See the module docstring; one result per item, in order."""
    started = time.perf_counter()
    results: list[ProcessResult | None] = [None] * len(items)
    members: list[_Member] = []
    for index, item in enumerate(items):
        try:
            prepared = await prepare(engine, item, offload=offload)
        except Exception as exc:  # isolated per message, as Engine.process does
            results[index] = await failed(engine, item, exc)
        else:
            members.append(_Member(index, item, prepared))
    await _decide(engine, store, members, results)
    return _finished(results, started)


async def decide_prepared(
    engine: Engine, store: Store, pairs: Sequence[tuple[Incoming, PreparedMessage]]
) -> list[ProcessResult]:
    """:func:`process_many` for messages :func:`prepare` prepared already (the group commit's
    callers prepare theirs while the store commits the group before)."""
    started = time.perf_counter()
    results: list[ProcessResult | None] = [None] * len(pairs)
    members = [_Member(index, item, prepared) for index, (item, prepared) in enumerate(pairs)]
    await _decide(engine, store, members, results)
    return _finished(results, started)


async def prepare(engine: Engine, item: Incoming, *, offload: bool = False) -> PreparedMessage:
    """``Engine.prepare`` of ``item`` (in a worker thread with ``offload``)."""
    call = functools.partial(
        engine.prepare,
        item.raw,
        source=item.source,
        now=item.now,
        mailbox=item.mailbox,
        direction=item.direction,
        envelope=item.envelope,
        analysis=item.analysis,
    )
    return await asyncio.to_thread(call) if offload else call()


def _finished(results: list[ProcessResult | None], started: float) -> list[ProcessResult]:
    elapsed = (time.perf_counter() - started) * 1000
    done = [r for r in results if r is not None]
    if len(done) != len(results):  # pragma: no cover - every path fills its slot
        raise RuntimeError("process_many left a message without a result")
    return [replace(r, duration_ms=elapsed) for r in done]


async def _decide(
    engine: Engine,
    store: Store,
    group: list[_Member],
    results: list[ProcessResult | None],
) -> None:
    """Decide ``group`` in one transaction; split around a member that raises."""
    while group:
        work = functools.partial(_decide_all, engine, group)
        try:
            decided = await store.transact(work)
        except _Culprit as culprit:
            BATCH_SPLITS.inc()
            before, bad = group[: culprit.position], group[culprit.position]
            await _decide(engine, store, before, results)
            results[bad.index] = await _alone(engine, store, bad)
            group = group[culprit.position + 1 :]
            continue
        for member, result in zip(group, decided, strict=True):
            results[member.index] = result
        return


async def _decide_all(
    engine: Engine, members: Sequence[_Member], uow: UnitOfWork
) -> list[ProcessResult]:
    """The group's transaction: lock every customer, then decide the members in order."""
    await _lock_all(engine, uow, members)
    decided = []
    for position, member in enumerate(members):
        item = member.item
        try:
            decided.append(await engine.decide_or_defer(uow, member.prepared, item.now, item.defer))
        except Exception as exc:
            raise _Culprit(position, exc) from exc
    return decided


async def _alone(engine: Engine, store: Store, member: _Member) -> ProcessResult:
    """One member in its own transaction, recorded as failed if deciding it raises."""
    item = member.item
    try:
        return await store.transact(
            lambda uow: engine.decide_or_defer(uow, member.prepared, item.now, item.defer)
        )
    except Exception as exc:
        return await failed(engine, item, exc, member.prepared.key)


async def failed(
    engine: Engine, item: Incoming, exc: Exception, key: MessageKey | None = None
) -> ProcessResult:
    """Record ``item`` as failed with ``exc`` (``Engine.record_failed``); raises if that fails."""
    return await engine.record_failed(
        item.raw, exc, key, item.source, item.now, item.mailbox, item.direction
    )


async def _lock_all(engine: Engine, uow: UnitOfWork, members: Sequence[_Member]) -> None:
    """Lock every customer the members will lock, in (address, mailbox) order.

    Each row is created (if missing) at the time of the first member that needs it, as
    deciding the members one at a time would create it.
    """
    first: dict[tuple[str, str], datetime] = {}
    for member in members:
        if _may_defer(member):
            continue
        for address, mailboxes in engine.locks_of(member.prepared):
            for mailbox in mailboxes:
                first.setdefault((address, mailbox), member.item.now)
    # One call per address and creation time (usually one per address): the store locks a
    # customer's rows in all those mailboxes at once.
    runs: list[tuple[str, datetime, list[str]]] = []
    for (address, mailbox), now in sorted(first.items()):
        if runs and runs[-1][0] == address and runs[-1][1] == now:
            runs[-1][2].append(mailbox)
        else:
            runs.append((address, now, [mailbox]))
    for address, now, names in runs:
        await uow.lock_customers(address, names, now)


def _may_defer(member: _Member) -> bool:
    """Whether :func:`mailguard.engine.deferral.defer_if_unseen` could store the member."""
    defer, prepared = member.item.defer, member.prepared
    if defer is None or defer.within <= timedelta(0):
        return False
    if prepared.key.mailbox not in defer.mailboxes:
        return False
    facts = prepared.facts
    awaits = awaited_message(
        prepared.key.direction,
        prepared.classification.automated,
        facts.in_reply_to,
        facts.references,
    )
    return awaits is not None
