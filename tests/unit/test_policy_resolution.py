"""Resolution and reset: a human reply or an agent's "handled" resolves; duplicates are no-ops."""

from __future__ import annotations

import pytest

from mailguard.domain.policy import Policy, decide, decide_handled
from mailguard.domain.state import CustomerState
from tests.unit.policy_script import Step, at, event_for, kinds, run

STREAK = [Step(0, "in"), Step(0.1, "out-auto"), Step(30, "in"), Step(30.1, "out-auto")]


@pytest.mark.parametrize(
    ("steps", "expected_last"),
    [
        pytest.param([*STREAK, Step(31, "out")], ["resolve"], id="human-reply-resolves"),
        pytest.param([Step(0, "in"), Step(1, "out")], [], id="nothing-to-resolve"),
        pytest.param(
            [*STREAK, Step(31, "out"), Step(32, "in"), Step(32.1, "out-auto")],
            [],
            id="counters-reset-after-reply",
        ),
        pytest.param(
            [
                *STREAK,
                Step(31, "out"),
                Step(40, "in"),
                Step(40.1, "out-auto"),
                Step(50, "in"),
                Step(50.1, "out-auto"),
            ],
            ["escalate", "notify", "hold_outbound"],
            id="new-streak-after-reset",
        ),
    ],
)
def test_human_reply_resolves_and_resets(steps: list[Step], expected_last: list[str]) -> None:
    decisions, state = run(steps, Policy())
    assert kinds(decisions[-1]) == expected_last


def test_handled_signal_resolves_and_resets() -> None:
    policy = Policy()
    _, state = run(STREAK, policy)
    decision = decide_handled(state, policy, at(32), "support", "agent@example.com")
    assert kinds(decision) == ["resolve"]
    assert decision.state.escalations == ()
    assert decision.state.history == ()
    again = decide_handled(decision.state, policy, at(33), "support", "agent@example.com")
    assert kinds(again) == []


def test_same_event_twice_changes_nothing() -> None:
    policy = Policy()
    decisions, state = run(STREAK, policy)
    repeated = decide(state, event_for(STREAK[3], 3), policy, at(31))
    assert repeated.duplicate
    assert repeated.state == state
    assert repeated.actions == ()


def test_state_survives_json_round_trip() -> None:
    import json

    policy = Policy()
    _, state = run([*STREAK, Step(31, "in-auto"), Step(31.1, "out-auto")], policy)
    restored = CustomerState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    assert CustomerState.from_dict(None) == CustomerState()


def test_old_history_is_pruned() -> None:
    policy = Policy()
    _, state = run([Step(0, "in"), Step(24 * 30, "in")], policy)
    assert [e.at for e in state.history] == [at(24 * 30)]


def test_state_timestamps_round_trip_to_the_microsecond() -> None:
    import json
    from datetime import UTC, datetime

    from mailguard.domain.model import Direction, Kind
    from mailguard.domain.state import Entry

    when = datetime(2026, 3, 2, 8, 0, 1, 123457, tzinfo=UTC)
    entry = Entry(when, Direction.INBOUND, False, Kind.HUMAN, "t", "m@x", "c@x.org", ("p@y",))
    state = CustomerState().with_entry(entry)
    restored = CustomerState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored.history[0].at == when
    assert restored.seen[0][2] == when
    assert restored == state


def test_an_unknown_state_format_starts_afresh() -> None:
    assert CustomerState.from_dict({"v": 999, "history": [[1, 2, 3]]}) == CustomerState()


def test_late_message_is_placed_in_time_order_and_counts() -> None:
    # The Sent copy of a robot reply may be read after the customer's next message.
    from mailguard.domain.policy import RepeatContactRule

    policy = Policy(repeat_contact=RepeatContactRule(enabled=False))
    _, state = run([Step(0, "in"), Step(30, "in"), Step(30.1, "out-auto")], policy)
    late = decide(state, event_for(Step(0.1, "out-auto"), 9), policy, at(31))
    assert [e.at for e in late.state.history] == sorted(e.at for e in late.state.history)
    assert late.escalated
    assert late.hits[0].rule == "automated_streak"
