"""Parsing and classification as a self-contained, picklable step.

Parsing and classifying a message is pure CPU work and needs nothing from the store, so an
offline replay can run it in worker processes ahead of the engine (which must stay
sequential: decisions depend on the order of events). What crosses the process boundary is
a small snapshot of the facts the engine reads, never the parsed message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mailguard.domain.classify import Classifier, ClassifierSettings
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification


@dataclass(frozen=True, slots=True)
class FactsSnapshot:
    """The facts the engine reads (``service_writes.Facts``), detached from the message."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_addr: str | None
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...]
    date: datetime | None
    size: int
    mentioned: tuple[str, ...]

    def mentioned_addresses(self) -> tuple[str, ...]:
        """Addresses named in the author's text (computed when the snapshot was taken)."""
        return self.mentioned


@dataclass(frozen=True, slots=True)
class Analysis:
    """One message parsed and classified; ``error`` says why classification failed."""

    facts: FactsSnapshot
    classification: Classification | None
    error: str | None = None


def analyse(raw: bytes, classifier: Classifier) -> Analysis:
    """Parse and classify ``raw``; a classifier failure is captured, never raised."""
    facts = parse_facts(raw)
    snapshot = FactsSnapshot(
        message_id=facts.message_id,
        in_reply_to=facts.in_reply_to,
        references=facts.references,
        subject=facts.subject,
        from_addr=facts.from_addr,
        to_addrs=facts.to_addrs,
        cc_addrs=facts.cc_addrs,
        date=facts.date,
        size=facts.size,
        mentioned=facts.mentioned_addresses(),
    )
    try:
        return Analysis(snapshot, classifier.classify(facts))
    except Exception as exc:  # the classifier promises not to raise; keep the message if it does
        return Analysis(snapshot, None, f"{type(exc).__name__}: {exc}")


# One classifier per worker process, built once by ``init_worker`` (compiling the rule
# set per message would cost more than classifying).
_worker_classifier: Classifier | None = None


def init_worker(settings: ClassifierSettings) -> None:
    """Process-pool initializer: build this worker's classifier."""
    global _worker_classifier
    _worker_classifier = Classifier(settings)


def analyse_batch(raws: Sequence[bytes]) -> list[Analysis]:
    """Process-pool task: analyse a chunk of messages with this worker's classifier."""
    classifier = _worker_classifier
    if classifier is None:
        raise RuntimeError("analyse_batch runs in a worker started with init_worker")
    return [analyse(raw, classifier) for raw in raws]
