"""``mailguard`` with one injected fault, for end-to-end tests of failed messages.

Run as ``python -m tests.integration.faulty_mailguard run -c FILE``: the real command, except
that the classifier raises for a message whose subject contains :data:`FAULT`, as a bug in a
rule would. The engine then records the message as failed with its raw bytes, which is what
the test needs to see (mocks only to inject faults: docs/testing.md).
"""

from __future__ import annotations

import sys
from typing import Any

from mailguard.app.cli import main
from mailguard.domain.classify import Classifier

FAULT = "explode-on-purpose"

_classify = Classifier.classify


def _faulty(self: Classifier, facts: Any) -> Any:
    if FAULT in facts.subject:
        raise RuntimeError("injected fault")
    return _classify(self, facts)


Classifier.classify = _faulty  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
