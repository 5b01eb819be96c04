"""frustration: an inbound human message past the threshold escalates at once."""

from __future__ import annotations

import pytest

from mailguard.domain.policy import FrustrationRule, Policy
from tests.unit.policy_script import Step, escalated_at, run


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param([Step(0, "in", frustration=0.8)], FrustrationRule(), [0], id="angry-first"),
        pytest.param([Step(0, "in", frustration=0.6)], FrustrationRule(), [0], id="at-threshold"),
        pytest.param([Step(0, "in", frustration=0.59)], FrustrationRule(), [], id="below"),
        pytest.param(
            [Step(0, "in-auto", frustration=0.9)], FrustrationRule(), [], id="automated-never"
        ),
        pytest.param(
            [Step(0, "out-auto", frustration=0.9)], FrustrationRule(), [], id="outbound-never"
        ),
        pytest.param(
            [Step(0, "in", frustration=0.5)],
            FrustrationRule(threshold=0.4),
            [0],
            id="lower-threshold",
        ),
        pytest.param(
            [Step(0, "in", frustration=0.9)], FrustrationRule(enabled=False), [], id="disabled"
        ),
        pytest.param(
            [Step(0, "in"), Step(1, "out-auto"), Step(2, "in", frustration=0.7)],
            FrustrationRule(),
            [2],
            id="angry-later",
        ),
    ],
)
def test_frustration(steps: list[Step], rule: FrustrationRule, expected: list[int]) -> None:
    decisions, _ = run(steps, Policy(frustration=rule))
    assert escalated_at(decisions) == expected
    for index in expected:
        hit = decisions[index].hits[0]
        assert hit.rule == "frustration"
        assert hit.evidence
