"""The classifier says exactly what it said before its speed work (issue 23).

``scripts/classifier_reference.py`` classifies the project's labeled sets, their variants
(text in capitals; text behind a dotted capital I), the scenarios, ``../shared/corpus``
when present and the classify bench's messages, and compares every output field with
``tests/data/classifier_reference.jsonl``, recorded from main before the work began. A
change meant to change what the classifier says re-records it with ``--write``.
"""

from __future__ import annotations

from tests.scripts_support import load_script

reference = load_script("scripts/classifier_reference.py")


def test_outputs_match_the_recorded_reference() -> None:
    found = reference.differences()
    assert not found, "\n".join(found[:20])


def test_a_changed_output_is_reported() -> None:
    """The comparison can fail: a classifier with one more rule differs on some message."""
    from mailguard.domain.classify import Classifier, ClassifierSettings, PatternRule
    from mailguard.domain.model import Kind

    extra = PatternRule("test_extra", Kind.NOTIFICATION, "body", r"\bbestellung\b", None, 0.3)
    found = reference.differences(Classifier(ClassifierSettings(extra_rules=(extra,))))
    assert any(line.startswith("bench/") for line in found)
