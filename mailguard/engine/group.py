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

_Waiting = tuple[Incoming, PreparedMessage, "asyncio.Future[ProcessResult]"]


class GroupCommit:
    """See the module docstring; one per engine and process, shared by its adapters."""

    def __init__(self, engine: Engine, *, max_group: int = 64) -> None:
        if max_group < 1:
            raise ValueError("max_group must be at least 1")
        self._engine = engine
        self._store: Store = engine.store
        self._max = max_group
        self._queue: deque[_Waiting] = deque()
        self._drain: asyncio.Task[None] | None = None

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
        done: asyncio.Future[ProcessResult] = asyncio.get_running_loop().create_future()
        self._queue.append((item, prepared, done))
        if self._drain is None or self._drain.done():
            self._drain = asyncio.create_task(self._run())
        # Shielded: a caller that goes away (a client hanging up) leaves its message in
        # the group; the group's commit does not depend on who still waits for it.
        return await asyncio.shield(done)

    async def _run(self) -> None:
        """Decide groups until nothing is queued."""
        while self._queue:
            group = [self._queue.popleft() for _ in range(min(self._max, len(self._queue)))]
            GROUP_COMMITS.inc()
            GROUP_SIZE.observe(len(group))
            try:
                results = await decide_prepared(
                    self._engine, self._store, [(item, prepared) for item, prepared, _ in group]
                )
            except Exception as exc:  # the commit failed: every member must not be acknowledged
                _fail(group, exc)
                continue
            except BaseException:
                # Cancelled (shutdown): nobody may wait for ever, nor be acknowledged.
                _fail(group, RuntimeError("the group commit was cancelled"))
                _fail(list(self._queue), RuntimeError("the group commit was cancelled"))
                self._queue.clear()
                raise
            for (_, _, done), result in zip(group, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def close(self) -> None:
        """Wait for the group being decided (and any queued behind it)."""
        if self._drain is not None:
            await asyncio.gather(self._drain, return_exceptions=True)


def _fail(group: list[_Waiting], exc: Exception) -> None:
    for _, _, done in group:
        if not done.done():
            done.set_exception(exc)
