"""repeat_contact: M human messages within T without any human reply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailguard.domain.policy import Policy, RepeatContactRule, StreakRule
from tests.unit.policy_script import Step, escalated_at, run

NO_STREAK = StreakRule(enabled=False)


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param(
            [Step(0, "in"), Step(10, "in"), Step(40, "in")],
            RepeatContactRule(),
            [2],
            id="three-in-48h-no-robot",
        ),
        pytest.param([Step(0, "in"), Step(10, "in")], RepeatContactRule(), [], id="only-two"),
        pytest.param(
            [Step(0, "in"), Step(30, "in"), Step(49, "in")],
            RepeatContactRule(),
            [],
            id="first-fell-out-of-window",
        ),
        pytest.param(
            [Step(0, "in"), Step(30, "in"), Step(47.9, "in")],
            RepeatContactRule(),
            [2],
            id="just-inside-window",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(1, "out-auto"),
                Step(10, "in"),
                Step(11, "out-auto"),
                Step(20, "in"),
            ],
            RepeatContactRule(),
            [4],
            id="with-robot-replies-too",
        ),
        pytest.param(
            [Step(0, "in"), Step(10, "in"), Step(11, "out"), Step(40, "in")],
            RepeatContactRule(),
            [],
            id="human-reply-resets",
        ),
        pytest.param(
            [Step(0, "in"), Step(1, "in-auto"), Step(2, "in-auto")],
            RepeatContactRule(),
            [],
            id="automated-inbound-does-not-count",
        ),
        pytest.param(
            [Step(0, "in"), Step(1, "in")],
            RepeatContactRule(min_messages=2),
            [1],
            id="threshold-two",
        ),
        pytest.param(
            [Step(0, "in"), Step(2, "in"), Step(3, "in")],
            RepeatContactRule(window=timedelta(hours=2)),
            [],
            id="short-window",
        ),
        pytest.param(
            [Step(0, "in"), Step(10, "in"), Step(40, "in")],
            RepeatContactRule(enabled=False),
            [],
            id="disabled",
        ),
    ],
)
def test_repeat_contact(steps: list[Step], rule: RepeatContactRule, expected: list[int]) -> None:
    decisions, _ = run(steps, Policy(automated_streak=NO_STREAK, repeat_contact=rule))
    assert escalated_at(decisions) == expected
    for index in expected:
        hit = decisions[index].hits[0]
        assert hit.rule == "repeat_contact"
        assert len(hit.evidence) >= rule.min_messages
