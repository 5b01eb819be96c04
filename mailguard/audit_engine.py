"""The real engine behind ``mailguard audit``: replay an export through :class:`Engine`.

The audit replays history on a temporary SQLite database (or a given file) through the very
engine the daemon uses, inside one :meth:`Store.batch` so that 100,000 messages do not cost
100,000 commits. Each result is flattened into the audit's :class:`AuditRecord`.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.replay import AuditEngine, EngineFactory
from mailguard.audit.sources import RawMessage
from mailguard.domain.classify import Classifier, ClassifierSettings
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Source
from mailguard.domain.policy import Escalate, Policy
from mailguard.ports import UnitOfWork
from mailguard.service import CompanyIdentity, Engine, ProcessResult, Status
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade

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
    """:class:`mailguard.audit.replay.AuditEngine` on the real engine and one store batch."""

    def __init__(self, engine: Engine, work: UnitOfWork) -> None:
        self._engine = engine
        self._work = work
        self._clock = _EPOCH

    async def replay(self, message: RawMessage) -> AuditRecord | None:
        """Process one exported message with ``now`` = its date (see ``AuditEngine``)."""
        # The replay clock never runs backwards: undated mail is decided at the time of the
        # message before it, so windows stay meaningful.
        if message.date is not None and message.date > self._clock:
            self._clock = message.date
        prepared = self._engine.prepare(message.raw, source=Source.AUDIT, now=self._clock)
        result = await self._engine.process_prepared(self._work, prepared, self._clock)
        return to_audit_record(result, message.origin)


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
) -> EngineFactory:
    """Build the ``EngineFactory`` that ``mailguard audit`` replays through.

    ``db_path`` None uses a temporary SQLite file that is removed afterwards; a path keeps
    the database for inspection (it must not hold data from another run). Partner addresses
    are added to the policy's ``referral_ring.partner_addresses``.
    """
    base = policy or Policy()
    partners = base.referral_ring.partner_addresses | {a.lower() for a in partner_addresses}
    effective = replace(base, referral_ring=replace(base.referral_ring, partner_addresses=partners))
    identity = CompanyIdentity(
        own_domains=frozenset(d.lower() for d in own_domains),
        own_addresses=frozenset(a.lower() for a in own_addresses),
        mailboxes=tuple(
            (name, frozenset(a.lower() for a in addrs)) for name, addrs in mailboxes.items()
        ),
    )
    settings = classifier_settings or ClassifierSettings()

    @asynccontextmanager
    async def factory() -> AsyncIterator[AuditEngine]:
        with _database(db_path) as path:
            url = f"sqlite:///{path}"
            await upgrade(url)
            store = SqlStore.from_url(url)
            try:
                engine = Engine(
                    store,
                    identity,
                    effective,
                    parse=parse_facts,
                    classifier=Classifier(settings),
                )
                async with store.batch(flush_every=flush_every) as work:
                    yield ReplayEngine(engine, work)
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
