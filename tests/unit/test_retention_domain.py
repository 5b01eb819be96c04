"""Retention bounds and the stale escalation, with time passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailguard.domain.model import Direction, Kind
from mailguard.domain.policy_model import Notify, NotifyLevel, Resolve
from mailguard.domain.retention import STALE_RULE, RetentionPolicy, decide_stale
from mailguard.domain.state import CustomerState, Entry, OpenEscalation

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _state(opened: datetime | None) -> CustomerState:
    entry = Entry(T0, Direction.INBOUND, False, Kind.HUMAN, "t@x", "m1@x", "carl@x.example")
    escalations = () if opened is None else (OpenEscalation("frustration", "angry", opened, "t@x"),)
    return CustomerState(history=(entry,), escalations=escalations)


def test_cutoffs_follow_now() -> None:
    bounds = RetentionPolicy(history=90 * DAY, held=30 * DAY, deferred=DAY, failed=10 * DAY)
    cut = bounds.cutoffs(T0)
    assert cut.history == T0 - 90 * DAY
    assert (cut.held, cut.held_notice) == (T0 - 30 * DAY, T0 - 29 * DAY)
    assert (cut.failed, cut.failed_notice) == (T0 - 10 * DAY, T0 - 9 * DAY)
    assert (cut.deferred, cut.noticed, cut.escalations) == (T0 - DAY, T0 - DAY, T0 - 30 * DAY)


@pytest.mark.parametrize(
    ("opened", "stale"),
    [
        (None, False),
        (T0 - 29 * DAY, False),
        (T0 - 30 * DAY + timedelta(seconds=1), False),
        (T0 - 30 * DAY, True),
        (T0 - 45 * DAY, True),
    ],
)
def test_an_escalation_open_for_the_bound_is_closed(opened: datetime | None, stale: bool) -> None:
    decision = decide_stale(_state(opened), T0, "support", 30 * DAY)
    assert (decision is not None) is stale


def test_stale_closure_resolves_notifies_and_keeps_the_history() -> None:
    state = _state(T0 - 31 * DAY)
    decision = decide_stale(state, T0, "support", 30 * DAY)
    assert decision is not None
    assert decision.state.escalations == ()
    assert decision.state.history == state.history
    resolve, notify = decision.actions
    assert isinstance(resolve, Resolve) and resolve.by == "stale:30 d"
    assert resolve.mailbox == "support"
    assert isinstance(notify, Notify) and notify.level is NotifyLevel.PRIMARY
    assert notify.rule == STALE_RULE and "closed as stale" in notify.reason
    [hit] = decision.hits
    assert hit.rule == STALE_RULE and "frustration escalation opened" in hit.evidence[0].matched
    assert STALE_RULE in decision.explain


def test_a_stored_escalation_the_state_forgot_is_closed_too() -> None:
    assert decide_stale(_state(None), T0, "support", 30 * DAY, T0 - 10 * DAY) is None
    decision = decide_stale(_state(None), T0, "support", 30 * DAY, T0 - 31 * DAY)
    assert decision is not None and [a.kind for a in decision.actions] == ["resolve", "notify"]
    assert "an escalation open for 31 d" in decision.actions[1].reason
