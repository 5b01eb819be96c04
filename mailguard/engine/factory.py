"""The one way to build an :class:`~mailguard.engine.service.Engine`.

The daemon, the audit and the tests all build the engine here, from the same three
settings, with the real parser and classifier; only the store differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailguard.domain.classify import Classifier, ClassifierSettings
from mailguard.domain.facts import MessageFacts, parse_facts
from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.model import Classification
from mailguard.domain.policy import Policy
from mailguard.engine.ports import Store
from mailguard.engine.service import Engine


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Who the company is, the loop policy and the classifier's company-specific rules."""

    identity: CompanyIdentity
    policy: Policy = field(default_factory=Policy)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)


class LazyClassifier:
    """A classifier compiled on first use.

    A pooled audit classifies in worker processes and needs its own classifier only for the
    messages of a worker that died; compiling the rules up front would be wasted work.
    """

    def __init__(self, settings: ClassifierSettings) -> None:
        self._settings = settings
        self._classifier: Classifier | None = None

    @property
    def compiled(self) -> bool:
        """Whether the rules have been compiled (a message was classified here)."""
        return self._classifier is not None

    def classify(self, facts: MessageFacts) -> Classification:
        if self._classifier is None:
            self._classifier = Classifier(self._settings)
        return self._classifier.classify(facts)


def build_engine(
    store: Store, settings: EngineSettings, *, lazy_classifier: bool = False
) -> Engine:
    """The engine on ``store`` with the real parser and the configured classifier.

    ``lazy_classifier`` defers compiling the classifier until a message is classified in
    this process (for callers that classify elsewhere, such as the pooled audit).
    """
    classifier: Classifier | LazyClassifier = (
        LazyClassifier(settings.classifier) if lazy_classifier else Classifier(settings.classifier)
    )
    return Engine(
        store, settings.identity, settings.policy, parse=parse_facts, classifier=classifier
    )
