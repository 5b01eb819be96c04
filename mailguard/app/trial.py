"""``mailguard try -c FILE MESSAGE.eml``: what the daemon would do with one message, changing
nothing.

The message goes through the daemon's own engine, configured from the file, against the
database as it is now: classification, the customer's thread and state, the loop policy's
decision (:meth:`~mailguard.engine.service.Engine.process_prepared`, the very function the
watcher and the proxy call), and from the decision the proxy's action (pass, rewrite,
divert, hold, defer: :func:`~mailguard.smtp.dispatch.outcome_of`) or the IMAP side's.

How it stays read-only: the engine runs on :meth:`SqlStore.reading
<mailguard.store.repository.SqlStore.reading>`, a unit of work whose connection only ever
runs SELECTs (rolled back at the end) and which keeps what the engine would write in memory
(:mod:`mailguard.store.readonly`). No transaction that writes is opened, so a running daemon
is neither blocked nor changed. A SQLite database that does not exist yet is not created:
the message is tried against an empty one in a temporary directory instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mailguard.app.backup import sqlite_file
from mailguard.app.explain import render_explanation
from mailguard.app.proxy import deferral_of
from mailguard.app.trial_render import Trial, render_trial
from mailguard.config import Config
from mailguard.config.settings import dry_run_of, engine_settings_of
from mailguard.domain.facts import MessageFacts
from mailguard.domain.model import Direction, Source
from mailguard.engine.deferral import defer_if_unseen
from mailguard.engine.factory import build_engine
from mailguard.engine.result import ProcessResult, Status
from mailguard.errors import MailguardError
from mailguard.store import schema
from mailguard.store.repository import SqlStore


class TrialError(MailguardError):
    """The message cannot be tried: unreadable file, or a database that is not ready."""


async def try_message(
    config: Config,
    raw: bytes,
    *,
    mailbox: str | None = None,
    direction: Direction | None = None,
    now: datetime | None = None,
) -> Trial:
    """Decide ``raw`` as the running daemon would, against the current database; write nothing."""
    now = now or datetime.now(UTC)
    if mailbox is not None and mailbox not in {m.name for m in config.mailboxes}:
        known = ", ".join(m.name for m in config.mailboxes) or "none configured"
        raise TrialError(f"--mailbox {mailbox}: no such mailbox (known: {known})")
    async with _database(config) as (url, notes):
        store = SqlStore.from_url(url)
        try:
            engine = build_engine(store, engine_settings_of(config))
            prepared = engine.prepare(
                raw, source=Source.IMAP, now=now, mailbox=mailbox, direction=direction
            )
            source = _source(config, prepared.key.direction)
            prepared = replace(prepared, source=source)
            deferral = deferral_of(config) if source is Source.SMTP else None
            async with store.reading() as uow:
                awaits = None
                if deferral is not None:
                    awaits = await defer_if_unseen(uow, prepared, deferral, now)
                if awaits is not None:
                    result = ProcessResult(
                        Status.DEFERRED,
                        prepared.key,
                        source,
                        customer=prepared.customer,
                        classification=prepared.classification,
                        awaits=awaits,
                    )
                else:
                    result = await engine.process_prepared(uow, prepared, now)
                writes = tuple(uow.writes)
        finally:
            await store.close()
    return Trial(prepared, result, writes, url, notes)


def _source(config: Config, direction: Direction) -> Source:
    """Outbound mail is the proxy's or the milter's when one runs, else the watcher's (Sent)."""
    deciding = config.proxy.enabled or config.milter is not None
    return Source.SMTP if direction is Direction.OUTBOUND and deciding else Source.IMAP


@asynccontextmanager
async def _database(config: Config) -> AsyncIterator[tuple[str, tuple[str, ...]]]:
    """The configured database's URL once it is at the newest schema; or, for a SQLite file
    that does not exist yet, an empty one in a temporary directory (with a note saying so)."""
    url = config.storage_url
    path = sqlite_file(url)
    if path is not None and not path.exists():
        with tempfile.TemporaryDirectory(prefix="mailguard-try-") as tmp:
            empty = f"sqlite:///{Path(tmp) / 'empty.sqlite3'}"
            await schema.upgrade(empty)
            yield empty, (f"no database at {path} yet: tried against an empty one",)
        return
    revision = await schema.current(url)  # StorageError (exit 1) when it cannot be read
    head = schema.head_revision()
    if revision != head:
        raise TrialError(
            f"the database is at revision {revision or '(empty)'}, this mailguard needs {head}: "
            "run `mailguard db upgrade` first"
        )
    yield url, ()


def read_message(path: str) -> bytes:
    """The message file's bytes, or a :class:`TrialError` naming the file."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TrialError(f"cannot read {path!r}: {exc.strerror or type(exc).__name__}") from None


async def try_main(
    config: Config,
    raw: bytes,
    *,
    mailbox: str | None,
    direction: str | None,
    out: TextIO,
) -> int:
    """Try the message and print the report; return the exit code."""
    wanted = Direction.INBOUND if direction == "inbound" else None
    if direction == "outbound":
        wanted = Direction.OUTBOUND
    trial = await try_message(config, raw, mailbox=mailbox, direction=wanted)
    facts = trial.prepared.facts
    assert isinstance(facts, MessageFacts)  # noqa: S101 - the engine's parser makes these
    out.write(render_explanation(facts, trial.prepared.classification, as_json=False) + "\n")
    out.write(render_trial(config, trial, dry_run_of(config)) + "\n")
    return 0
