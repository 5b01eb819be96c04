"""Group commit for the live path: messages that arrive together share one transaction.

The SMTP proxy and the milter hand each message to :meth:`GroupCommit.process` and answer
their client once it returns, that is once the message's decision is committed. Each caller
parses and classifies its own message (on the event loop, or in a worker thread when it is
big), then queues it. One drain task at a time takes *everything* queued (up to
``max_group``) and decides it with :func:`mailguard.engine.many.decide_prepared`, one
transaction for the group; messages arriving meanwhile wait for the next group. So a
message alone is decided at once (no timer, no added wait), and under load the store's one
commit serves as many messages as arrived during the commit before.

Each caller gets its own result, after the group's commit. When the commit fails, every
member of the group gets the exception (the proxy answers 451, the milter tempfails):
nothing is acknowledged that is not durable. A message whose own decision raises is
isolated as :meth:`Engine.process` isolates it (recorded as failed, the others decided).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Counter, Histogram

from mailguard.engine.many import Incoming, decide_prepared, failed, prepare
from mailguard.engine.ports import Store
from mailguard.engine.result import ProcessResult
from mailguard.engine.service import Engine
from mailguard.engine.writes import PreparedMessage

GROUP_COMMITS = Counter(
    "mailguard_group_commits",
    "Transactions of the live path's group commit (the proxy, the milter)",
)
GROUP_SIZE = Histogram(
    "mailguard_group_commit_messages",
    "Messages decided per group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)

T = TypeVar("T")
R = TypeVar("R")


class Drain(Generic[T, R]):
    """Callers submit items one by one; one task at a time hands everything queued (up to
    ``max_group``) to ``flush`` in one call and gives each caller its own result.

    No timer: the first item of an idle drain is flushed at once, and items submitted while
    a flush runs wait for the next one. When ``flush`` raises, every item of that call gets
    the exception.
    """

    def __init__(
        self,
        flush: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        max_group: int = 64,
        on_group: Callable[[int], None] = lambda size: None,
    ) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._flush = flush
        self._max = max_group
        self._on_group = on_group
        self._queue: deque[tuple[T, asyncio.Future[R]]] = deque()
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """``item``'s result, once the group it went with was flushed."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        # Shielded: a caller that goes away (a client hanging up) leaves its item in the
        # group; the flush does not depend on who still waits for it.
        return await asyncio.shield(done)

    async def _run(self) -> None:
        while self._queue:
            group = [self._queue.popleft() for _ in range(min(self._max, len(self._queue)))]
            self._on_group(len(group))
            try:
                results = await self._flush([item for item, _ in group])
            except Exception as exc:  # every member fails: none may be acknowledged
                _fail(group, exc)
                continue
            except BaseException:
                # Cancelled (shutdown): nobody may wait for ever, nor be acknowledged.
                cancelled = RuntimeError("the group was cancelled")
                _fail(group, cancelled)
                _fail(list(self._queue), cancelled)
                self._queue.clear()
                raise
            for (_, done), result in zip(group, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def close(self) -> None:
        """Wait for the group being flushed (and any queued behind it)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


class GroupCommit:
    """See the module docstring; one per adapter (the proxy's handler, the milter's)."""

    def __init__(self, engine: Engine, *, max_group: int = 64) -> None:
        self._engine = engine
        self._store: Store = engine.store
        self._drain: Drain[tuple[Incoming, PreparedMessage], ProcessResult] = Drain(
            self._decide, max_group=max_group, on_group=_count
        )

    @property
    def engine(self) -> Engine:
        """The engine the groups are decided by."""
        return self._engine

    async def process(self, item: Incoming, *, offload: bool = False) -> ProcessResult:
        """Decide ``item`` in the next group; returns once that group is committed.

        ``offload`` parses and classifies in a worker thread (a big message must not stall
        the other sessions on the event loop). Raises when the group's commit failed.
        """
        try:
            prepared = await prepare(self._engine, item, offload=offload)
        except Exception as exc:  # isolated per message, as Engine.process does
            return await failed(self._engine, item, exc)
        return await self._drain.submit((item, prepared))

    async def _decide(self, group: list[tuple[Incoming, PreparedMessage]]) -> list[ProcessResult]:
        return await decide_prepared(self._engine, self._store, group)

    async def close(self) -> None:
        """Wait for the group being decided (and any queued behind it)."""
        await self._drain.close()


def _count(size: int) -> None:
    GROUP_COMMITS.inc()
    GROUP_SIZE.observe(size)


def _fail(group: list[tuple[T, asyncio.Future[R]]], exc: Exception) -> None:
    for _, done in group:
        if not done.done():
            done.set_exception(exc)
