"""The real engine behind ``mailguard audit``: replay an export through :class:`Engine`.

The audit replays history on a temporary SQLite database (or a given file) through the very
engine the daemon uses, inside one :meth:`Store.batch` so that 100,000 messages do not cost
100,000 commits. Each result is flattened into the audit's :class:`AuditRecord`.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import pickle
import shutil
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import structlog
from prometheus_client import Counter

from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.replay import AuditEngine, EngineFactory, Outcome
from mailguard.audit.report import AnalysisCounts
from mailguard.audit.sources import RawMessage
from mailguard.domain.classify import ClassifierSettings
from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.model import Source
from mailguard.domain.policy import Escalate, Policy
from mailguard.engine.analysis import Analysis, analyse_batch, init_worker
from mailguard.engine.factory import EngineSettings, build_engine
from mailguard.engine.ports import UnitOfWork
from mailguard.engine.service import Engine, ProcessResult, Status
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade

# Parse and classify in chunks (one pickling round trip per chunk, not per message), with
# a few chunks in flight so the workers never wait for the engine or the engine for them.
_CHUNK = 64
_DEPTH = 4
PARALLEL_FROM = 2000

log = structlog.get_logger("mailguard.audit")

POOL_FALLBACK_MESSAGES = Counter(
    "mailguard_audit_pool_fallback_messages",
    "Audit messages analysed in-process because the worker pool failed",
)

# Before the first dated message there is no replay clock yet; any fixed instant works
# because it only orders undated mail first.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_audit_record(result: ProcessResult, origin: str) -> AuditRecord | None:
    """Flatten an engine result for the report; None for a duplicate (nothing changed).

    The referral ring may open an escalation only in the other mailbox (this one was
    escalated already); the record then still names the rule, with the other mailbox in
    ``linked_mailboxes``, so the report shows the ring.
    """
    if result.status is Status.DUPLICATE or result.key is None:
        return None
    if result.status is Status.FAILED or result.classification is None:
        raise RuntimeError(result.error or "message could not be processed")
    decision = result.decision
    key = result.key
    hits: tuple[RuleHit, ...] = ()
    escalated: str | None = None
    linked: tuple[str, ...] = ()
    if decision is not None:
        hits = tuple(
            RuleHit(h.rule, "; ".join(e.matched for e in h.evidence)) for h in decision.hits
        )
        opened = [a for a in decision.actions if isinstance(a, Escalate)]
        if opened:
            escalated = opened[0].rule
            linked = tuple(sorted({a.mailbox for a in opened} - {key.mailbox}))
    cls = result.classification
    return AuditRecord(
        mailbox=key.mailbox,
        customer=result.customer,
        direction=key.direction,
        at=result.at or _EPOCH,
        kind=cls.kind,
        automated=cls.automated,
        sender=result.sender,
        subject=result.subject,
        thread_id=result.thread,
        message_id=key.message_id,
        rule_hits=hits,
        escalated=escalated,
        linked_mailboxes=linked,
        resolved=decision.resolved if decision else False,
        held=decision.held if decision else False,
        frustration=cls.frustration,
        origin=origin,
    )


class ReplayEngine:
    """:class:`mailguard.audit.replay.AuditEngine` on the real engine and one store batch.

    Decisions must be taken one message after the other, in date order; parsing and
    classifying need nothing from earlier messages. So a large replay parses and classifies
    ahead in worker processes (up to ``_DEPTH`` chunks of ``_CHUNK`` messages in flight)
    while this process decides and writes, which uses a second core for the biggest
    share of the work. A replay smaller than ``parallel_from`` messages stays in-process:
    starting workers would cost more than it saves.
    """

    def __init__(
        self,
        engine: Engine,
        work: UnitOfWork,
        settings: ClassifierSettings,
        *,
        workers: int = 0,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        self._engine = engine
        self._work = work
        self._settings = settings
        self._workers = workers
        self._parallel_from = parallel_from
        self._clock = _EPOCH
        self._in_workers = 0
        self._in_process = 0
        self._after_pool_failure = 0

    def analysis_counts(self) -> AnalysisCounts:
        """Where the messages replayed so far were analysed (see :class:`AnalysisCounts`)."""
        return AnalysisCounts(self._in_workers, self._in_process, self._after_pool_failure)

    async def replay_stream(
        self, messages: Iterable[RawMessage]
    ) -> AsyncIterator[tuple[RawMessage, Outcome]]:
        """Replay in order; see :meth:`mailguard.audit.replay.AuditEngine.replay_stream`."""
        stream = iter(messages)
        head = list(itertools.islice(stream, self._parallel_from))
        if self._workers < 1 or len(head) < self._parallel_from:
            for message in itertools.chain(head, stream):
                self._in_process += 1
                yield message, await self._replay_one(message, None)
            return
        with _analysis_pool(self._workers, self._settings) as pool:
            in_flight: deque[tuple[list[RawMessage], asyncio.Future[list[Analysis]] | None]]
            in_flight = deque()
            for chunk in _chunks(itertools.chain(head, stream), _CHUNK):
                in_flight.append((chunk, self._submit(pool, chunk)))
                if len(in_flight) >= _DEPTH:
                    async for item in self._finish(*in_flight.popleft()):
                        yield item
            while in_flight:
                async for item in self._finish(*in_flight.popleft()):
                    yield item

    async def _finish(
        self, chunk: list[RawMessage], analysed: asyncio.Future[list[Analysis]] | None
    ) -> AsyncIterator[tuple[RawMessage, Outcome]]:
        # No analysis (None) means "analyse here": the pool was unusable at submit time,
        # or a worker died (out of memory, killed) on this chunk. Either way the audit
        # still covers every message, and says so (log, report figures, metric).
        analyses: Sequence[Analysis | None] = [None] * len(chunk)
        if analysed is not None:
            try:
                analyses = await analysed
            except _POOL_FAILURES as exc:
                self._fell_back(chunk, exc, "result")
            else:
                self._in_workers += len(chunk)
        for message, analysis in zip(chunk, analyses, strict=True):
            yield message, await self._replay_one(message, analysis)

    def _submit(
        self, pool: ProcessPoolExecutor, chunk: list[RawMessage]
    ) -> asyncio.Future[list[Analysis]] | None:
        """Send a chunk to the workers; None when the pool is unusable (the engine then
        analyses the chunk itself)."""
        try:
            loop = asyncio.get_running_loop()
            return loop.run_in_executor(pool, analyse_batch, [m.raw for m in chunk])
        except _POOL_FAILURES as exc:
            self._fell_back(chunk, exc, "submit")
            return None

    def _fell_back(self, chunk: list[RawMessage], exc: BaseException, stage: str) -> None:
        """Count and log a chunk the pool failed on; it is analysed in this process."""
        self._after_pool_failure += len(chunk)
        POOL_FALLBACK_MESSAGES.inc(len(chunk))
        log.warning(
            "analysis_pool_failed",
            stage=stage,
            error=f"{type(exc).__name__}: {exc}",
            messages=len(chunk),
            fallback="in_process",
        )

    async def _replay_one(self, message: RawMessage, analysis: Analysis | None) -> Outcome:
        # The replay clock never runs backwards: undated mail is decided at the time of the
        # message before it, so windows stay meaningful.
        if message.date is not None and message.date > self._clock:
            self._clock = message.date
        try:
            prepared = self._engine.prepare(
                message.raw, source=Source.AUDIT, now=self._clock, analysis=analysis
            )
            result = await self._engine.process_prepared(self._work, prepared, self._clock)
            return to_audit_record(result, message.origin)
        except Exception as exc:  # isolated per message, see AuditEngine.replay_stream
            return exc


def default_workers() -> int:
    """Worker processes for parsing and classifying: the cores this process may use, less
    the one that decides and writes; none on a single core."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform has sched_getaffinity
        cores = os.cpu_count() or 1
    return max(0, cores - 1)


@contextmanager
def _analysis_pool(workers: int, settings: ClassifierSettings) -> Iterator[ProcessPoolExecutor]:
    # "spawn", not fork: this process runs an event loop and aiosqlite's thread, and a
    # forked child could inherit a lock held by one of them.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(settings,),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_POOL_FAILURES = (BrokenProcessPool, OSError, pickle.PicklingError, RuntimeError)


def _chunks(items: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def audit_engine_factory(
    *,
    own_domains: Iterable[str],
    mailboxes: Mapping[str, Iterable[str]],
    own_addresses: Iterable[str] = (),
    partner_addresses: Iterable[str] = (),
    policy: Policy | None = None,
    classifier_settings: ClassifierSettings | None = None,
    db_path: str | None = None,
    flush_every: int = 1000,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
) -> EngineFactory:
    """Build the ``EngineFactory`` that ``mailguard audit`` replays through.

    ``workers`` is the number of processes that parse and classify ahead of the engine
    (None: one per core beyond the first; 0: everything in this process). Replays of fewer
    than ``parallel_from`` messages run in this process whatever ``workers`` says.

    ``db_path`` None uses a temporary SQLite file that is removed afterwards; a path keeps
    the database for inspection (it must not hold data from another run). Partner addresses
    are added to the policy's ``referral_ring.partner_addresses``.
    """
    base = policy or Policy()
    partners = base.referral_ring.partner_addresses | {a.lower() for a in partner_addresses}
    effective = replace(base, referral_ring=replace(base.referral_ring, partner_addresses=partners))
    boxes = tuple((name, frozenset(a.lower() for a in addrs)) for name, addrs in mailboxes.items())
    # A guarded mailbox's address is the company's even outside the own domains.
    own = {a.lower() for a in own_addresses}.union(*(addrs for _, addrs in boxes))
    identity = CompanyIdentity(
        own_domains=frozenset(d.lower() for d in own_domains),
        own_addresses=frozenset(own),
        mailboxes=boxes,
    )
    settings = classifier_settings or ClassifierSettings()

    @asynccontextmanager
    async def factory() -> AsyncIterator[AuditEngine]:
        with _database(db_path) as path:
            url = f"sqlite:///{path}"
            await upgrade(url)
            store = SqlStore.from_url(url)
            try:
                # The workers classify; this process only does so for a dead worker's
                # messages or a small replay, so its classifier is compiled on first use.
                engine = build_engine(
                    store, EngineSettings(identity, effective, settings), lazy_classifier=True
                )
                async with store.batch(flush_every=flush_every) as work:
                    yield ReplayEngine(
                        engine,
                        work,
                        settings,
                        workers=default_workers() if workers is None else workers,
                        parallel_from=parallel_from,
                    )
            finally:
                await store.close()

    return factory


@contextmanager
def _database(db_path: str | None) -> Iterator[Path]:
    """The given SQLite path, or one in a temporary directory removed afterwards."""
    if db_path is not None:
        yield Path(db_path)
        return
    tmp = tempfile.mkdtemp(prefix="mailguard-audit-")
    try:
        yield Path(tmp) / "audit.sqlite3"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


AuditEngineBuilder = Callable[..., EngineFactory]
"""The shape of :func:`audit_engine_factory`, for the CLI and the bench."""
