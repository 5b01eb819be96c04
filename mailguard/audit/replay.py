"""The port the audit replays messages through, and the replay loop itself.

The audit does not know the engine: it asks an ``EngineFactory`` for an ``AuditEngine``
(the policy side builds one on a temporary SQLite database) and feeds it raw messages
in date order. Keeping the port this small lets the readers and the report be tested
without a database, and lets the engine batch its writes however it needs to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mailguard.audit.records import AuditRecord
from mailguard.audit.report import AnalysisCounts, ReportBuilder
from mailguard.audit.sources import RawMessage

Outcome = AuditRecord | None | Exception
"""What replaying one message gave: its record, None for a duplicate, or what it raised."""


class AuditEngine(Protocol):
    """Replay raw messages from an export, in order, and say what happened to each."""

    def replay_stream(
        self, messages: Iterable[RawMessage]
    ) -> AsyncIterator[tuple[RawMessage, Outcome]]:
        """Replay every message in the given order as if it had just arrived.

        ``message.date`` is the time the reader sorted it by (Date header, else a
        fallback) and is the ``now`` the engine should decide with. ``message.folder``
        is a hint such as "Sent" or "INBOX" for telling outbound from inbound mail.
        Yields each message with its outcome, in input order: the record for the report,
        None when the engine had already processed this message (the same Message-ID and
        direction seen twice, e.g. in INBOX and in an archive folder: idempotency means it
        changes nothing), or the exception the message raised. One message's failure never
        stops the stream. An engine may work ahead on later messages (the real one parses
        and classifies in worker processes) as long as decisions are taken in order.
        """
        ...

    def analysis_counts(self) -> AnalysisCounts:
        """Where the messages replayed so far were parsed and classified."""
        ...


class OneByOne(ABC):
    """Base of engines that replay one message at a time (stand-ins in tests and benches)."""

    @abstractmethod
    async def replay(self, message: RawMessage) -> AuditRecord | None:
        """Replay one message; see :meth:`AuditEngine.replay_stream` for the meaning."""

    _replayed = 0

    def analysis_counts(self) -> AnalysisCounts:
        """Everything is analysed in this process."""
        return AnalysisCounts(in_process=self._replayed)

    async def replay_stream(
        self, messages: Iterable[RawMessage]
    ) -> AsyncIterator[tuple[RawMessage, Outcome]]:
        """``replay`` each message in turn, isolating failures."""
        for message in messages:
            self._replayed += 1
            try:
                outcome: Outcome = await self.replay(message)
            except Exception as exc:  # one message's failure is isolated, see AuditEngine
                outcome = exc
            yield message, outcome


EngineFactory = Callable[[], AbstractAsyncContextManager[AuditEngine]]
"""Builds the engine for one audit run; leaving the context flushes and cleans up."""

ProgressCallback = Callable[[int], None]
"""Called with the number of messages handled since the previous call."""


async def replay_all(
    messages: Iterable[RawMessage],
    engine: AuditEngine,
    builder: ReportBuilder,
    *,
    on_progress: ProgressCallback | None = None,
    progress_every: int = 200,
) -> None:
    """Feed every message to ``engine`` and every resulting record to ``builder``.

    A message that makes the engine raise is recorded as a failure and skipped, like
    a mail server's runner that parks a bad message and keeps looping: one broken
    message must never abort the audit of the other 99,999.
    """
    pending = 0
    async for message, outcome in engine.replay_stream(messages):
        if isinstance(outcome, Exception):
            builder.add_failure(message.origin, f"{type(outcome).__name__}: {outcome}")
        elif outcome is None:
            builder.add_duplicate()
        else:
            builder.add(outcome)
        pending += 1
        if on_progress is not None and pending >= progress_every:
            on_progress(pending)
            pending = 0
    if on_progress is not None and pending:
        on_progress(pending)
    builder.set_analysis(engine.analysis_counts())
