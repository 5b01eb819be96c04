"""The port the audit replays messages through, and the replay loop itself.

The audit does not know the engine: it asks an ``EngineFactory`` for an ``AuditEngine``
(the policy side builds one on a temporary SQLite database) and feeds it raw messages
in date order. Keeping the port this small lets the readers and the report be tested
without a database, and lets the engine batch its writes however it needs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from mailguard.audit.records import AuditRecord
from mailguard.audit.report import ReportBuilder
from mailguard.audit.sources import RawMessage


class AuditEngine(Protocol):
    """Process one raw message from an export and say what happened to it."""

    async def replay(self, message: RawMessage) -> AuditRecord | None:
        """Replay ``message`` through the engine as if it had just arrived.

        ``message.date`` is the time the reader sorted it by (Date header, else a
        fallback) and is the ``now`` the engine should decide with. ``message.folder``
        is a hint such as "Sent" or "INBOX" for telling outbound from inbound mail.
        Returns the record for the report, or None when the engine had already
        processed this message (the same Message-ID and direction seen twice, e.g.
        in INBOX and in an archive folder): idempotency means it changes nothing.
        May raise on a message it cannot handle; the replay loop records the
        failure against ``message.origin`` and carries on with the next message.
        """
        ...


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
    for message in messages:
        try:
            record = await engine.replay(message)
        except Exception as exc:  # any failure of one message is isolated, see docstring
            builder.add_failure(message.origin, f"{type(exc).__name__}: {exc}")
        else:
            if record is None:
                builder.add_duplicate()
            else:
                builder.add(record)
        pending += 1
        if on_progress is not None and pending >= progress_every:
            on_progress(pending)
            pending = 0
    if on_progress is not None and pending:
        on_progress(pending)
