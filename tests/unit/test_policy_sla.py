"""sla: an escalation without a human reply is re-notified, then goes to the secondary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailguard.domain.policy import Notify, NotifyLevel, Policy, SlaRule, next_due
from tests.unit.policy_script import Step, at, run

ANGRY = Step(0, "in", frustration=0.9)


def levels(steps: list[Step], rule: SlaRule) -> list[list[str]]:
    decisions, _ = run(steps, Policy(sla=rule))
    return [[a.level.value for a in d.actions if isinstance(a, Notify)] for d in decisions]


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param([ANGRY, Step(7.9, "tick")], SlaRule(), [["primary"], []], id="not-yet"),
        pytest.param(
            [ANGRY, Step(8, "tick")], SlaRule(), [["primary"], ["primary"]], id="renotify-at-8h"
        ),
        pytest.param(
            [ANGRY, Step(8, "tick"), Step(12, "tick"), Step(16, "tick")],
            SlaRule(),
            [["primary"], ["primary"], [], ["secondary"]],
            id="secondary-at-16h",
        ),
        pytest.param(
            [ANGRY, Step(20, "tick")],
            SlaRule(),
            [["primary"], ["secondary"]],
            id="catch-up-jumps-to-secondary",
        ),
        pytest.param(
            [ANGRY, Step(16, "tick"), Step(30, "tick")],
            SlaRule(),
            [["primary"], ["secondary"], []],
            id="nothing-after-secondary",
        ),
        pytest.param(
            [ANGRY, Step(5, "out"), Step(20, "tick")],
            SlaRule(),
            [["primary"], [], []],
            id="human-reply-stops-sla",
        ),
        pytest.param(
            [ANGRY, Step(2, "tick"), Step(3, "tick")],
            SlaRule(first=timedelta(hours=2), second=timedelta(hours=1)),
            [["primary"], ["primary"], ["secondary"]],
            id="custom-periods",
        ),
        pytest.param(
            [ANGRY, Step(20, "tick")], SlaRule(enabled=False), [["primary"], []], id="disabled"
        ),
        pytest.param(
            [ANGRY, Step(9, "in")], SlaRule(), [["primary"], ["primary"]], id="message-catches-up"
        ),
    ],
)
def test_sla(steps: list[Step], rule: SlaRule, expected: list[list[str]]) -> None:
    assert levels(steps, rule) == expected


def test_next_due_follows_the_stages() -> None:
    policy = Policy()
    _, state = run([ANGRY], policy)
    assert next_due(state, policy) == at(8)
    _, state = run([Step(8, "tick")], policy, state)
    assert next_due(state, policy) == at(16)
    _, state = run([Step(16, "tick")], policy, state)
    assert next_due(state, policy) is None
    assert state.escalations[0].stage == 2


def test_sla_hit_has_evidence() -> None:
    decisions, _ = run([ANGRY, Step(8, "tick")], Policy())
    (hit,) = decisions[1].hits
    assert hit.rule == "sla"
    assert hit.evidence
    assert [a.level for a in decisions[1].actions if isinstance(a, Notify)] == [NotifyLevel.PRIMARY]
