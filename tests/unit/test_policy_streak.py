"""automated_streak: N human messages, each answered only by automation, within W."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailguard.domain.policy import FileFollowUp, Policy, RepeatContactRule, StreakRule
from tests.unit.policy_script import Step, escalated_at, run

# repeat_contact is switched off so each row tests the streak alone.
BASE = Policy(repeat_contact=RepeatContactRule(enabled=False))


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in"), Step(30.1, "out-auto")],
            StreakRule(),
            [3],
            id="two-answered-by-robot",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in")],
            StreakRule(),
            [],
            id="second-not-answered-yet",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto"),
                Step(5, "out"),
                Step(30, "in"),
                Step(30.1, "out-auto"),
            ],
            StreakRule(),
            [],
            id="human-reply-in-between-resets",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(24 * 15, "in"), Step(24 * 15, "out-auto")],
            StreakRule(),
            [],
            id="outside-14-day-window",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(24 * 13, "in"), Step(24 * 13, "out-auto")],
            StreakRule(),
            [3],
            id="inside-14-day-window",
        ),
        pytest.param(
            [Step(0, "in"), Step(1, "in"), Step(1.1, "out-auto")],
            StreakRule(),
            [],
            id="two-messages-one-robot-answer-counts-once",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in"), Step(30.1, "out-auto")],
            StreakRule(min_messages=3),
            [],
            id="threshold-three",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto"),
                Step(3, "in"),
                Step(3.1, "out-auto"),
                Step(6, "in"),
                Step(6.1, "out-auto"),
            ],
            StreakRule(min_messages=3, window=timedelta(hours=12)),
            [5],
            id="threshold-three-custom-window",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in"), Step(30.1, "out-auto")],
            StreakRule(enabled=False),
            [],
            id="disabled",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "in-auto"), Step(30, "in"), Step(30.1, "in-auto")],
            StreakRule(),
            [],
            id="customer-side-automation-is-not-our-answer",
        ),
    ],
)
def test_automated_streak(steps: list[Step], rule: StreakRule, expected: list[int]) -> None:
    decisions, _ = run(steps, Policy(automated_streak=rule, repeat_contact=BASE.repeat_contact))
    assert escalated_at(decisions) == expected
    for index in expected:
        hit = decisions[index].hits[0]
        assert hit.rule == "automated_streak"
        assert len(hit.evidence) >= rule.min_messages


def test_the_reply_that_completes_the_streak_is_held() -> None:
    steps = [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in"), Step(30.1, "out-auto")]
    decisions, state = run(steps, BASE)
    assert [a.kind for a in decisions[3].actions] == ["escalate", "notify", "hold_outbound"]
    assert state.escalations[0].rule == "automated_streak"


def test_no_second_escalation_while_one_is_open() -> None:
    steps = [
        Step(0, "in"),
        Step(0.1, "out-auto"),
        Step(30, "in"),
        Step(30.1, "out-auto"),
        Step(31, "in"),
        Step(31.1, "out-auto"),
    ]
    decisions, state = run(steps, BASE)
    assert escalated_at(decisions) == [3]
    assert decisions[5].held
    assert any(h.rule == "automated_streak" for h in decisions[5].hits)
    assert len(state.escalations) == 1


def test_a_follow_up_of_an_escalated_customer_is_filed_beside_the_escalation() -> None:
    steps = [
        Step(0, "in"),
        Step(0.1, "out-auto"),
        Step(30, "in"),
        Step(30.1, "out-auto"),
        Step(31, "in"),
    ]
    decisions, state = run(steps, BASE)
    assert escalated_at(decisions) == [3]
    follow_up = decisions[4]
    assert [a.kind for a in follow_up.actions] == ["file_follow_up"]
    (action,) = follow_up.actions
    assert isinstance(action, FileFollowUp)
    assert action.message_id.endswith("-m4@example")
    assert action.thread == state.escalations[0].thread
    assert "wrote again" in action.reason
    # Before the escalation opened, an inbound message files nothing.
    assert not any(a.kind == "file_follow_up" for d in decisions[:4] for a in d.actions)


def test_a_person_replying_ends_the_follow_up_filing() -> None:
    steps = [
        Step(0, "in"),
        Step(0.1, "out-auto"),
        Step(30, "in"),
        Step(30.1, "out-auto"),
        Step(31, "out"),
        Step(32, "in"),
    ]
    decisions, _ = run(steps, BASE)
    assert decisions[4].resolved
    assert not any(a.kind == "file_follow_up" for a in decisions[5].actions)
