"""RFC 3834 between company addresses (no customer): counterpart and the hold/break rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mailguard.domain.model import Direction, Kind
from mailguard.domain.policy import CircuitBreak, HoldOutbound, PingPongRule, Policy
from mailguard.domain.policy_internal import InternalParty, decide_internal, internal_party
from mailguard.domain.policy_model import Event
from mailguard.domain.state import CustomerState

SUPPORT = "support@example.com"
BOT = "noreply@example.com"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sender", "recipients", "mailbox", "expected"),
    [
        pytest.param(SUPPORT, [BOT], {SUPPORT}, InternalParty(BOT, SUPPORT), id="we-answer-bot"),
        pytest.param(BOT, [SUPPORT], {SUPPORT}, InternalParty(BOT, BOT), id="bot-writes-us"),
        pytest.param(SUPPORT, [SUPPORT], {SUPPORT}, InternalParty(SUPPORT, SUPPORT), id="self"),
        pytest.param("a@example.com", ["b@example.com"], {SUPPORT}, None, id="not-ours"),
        pytest.param(BOT, [SUPPORT], set(), InternalParty(f"{BOT} <-> {SUPPORT}", BOT), id="pair"),
        pytest.param(SUPPORT, [], {SUPPORT}, None, id="no-recipient"),
        pytest.param(None, [SUPPORT], {SUPPORT}, None, id="no-sender"),
    ],
)
def test_internal_party(
    sender: str | None, recipients: list[str], mailbox: set[str], expected: InternalParty | None
) -> None:
    assert internal_party(sender, recipients, mailbox) == expected


def run(steps: list[tuple[str, bool]], rule: PingPongRule) -> list[tuple[bool, bool]]:
    """Messages (sender, automated) ten minutes apart: (held, circuit broken) for each."""
    state = CustomerState()
    policy = Policy(bot_ping_pong=rule)
    out = []
    for n, (sender, automated) in enumerate(steps):
        at = T0 + timedelta(minutes=10 * n)
        event = Event(
            direction=Direction.OUTBOUND if sender == SUPPORT else Direction.INBOUND,
            automated=automated,
            at=at,
            thread="t",
            message_id=f"m{n}",
            counterpart=BOT,
            kind=Kind.AUTO_REPLY if automated else Kind.HUMAN,
            mailbox="support",
        )
        decision = decide_internal(state, event, sender, policy, at)
        state = decision.state
        out.append(
            (
                any(isinstance(a, HoldOutbound) for a in decision.actions),
                any(isinstance(a, CircuitBreak) for a in decision.actions),
            )
        )
    return out


LOOP = [(BOT, True), (SUPPORT, True)] * 3


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param(
            LOOP,
            PingPongRule(),
            [
                (False, False),
                (True, False),
                (True, False),
                (True, True),
                (True, False),
                (True, False),
            ],
            id="held-from-the-first-answer-tripped-at-the-third",
        ),
        pytest.param(
            [(BOT, False), (SUPPORT, True)],
            PingPongRule(),
            [(False, False), (False, False)],
            id="auto-reply-to-a-person-is-fine",
        ),
        pytest.param(LOOP[:2], PingPongRule(enabled=False), [(False, False)] * 2, id="off"),
        pytest.param(
            [(SUPPORT, True), (SUPPORT, True)],
            PingPongRule(),
            [(False, False), (False, False)],
            id="two-notices-of-one-side-are-no-exchange",
        ),
    ],
)
def test_decide_internal(
    steps: list[tuple[str, bool]], rule: PingPongRule, expected: list[tuple[bool, bool]]
) -> None:
    assert run(steps, rule) == expected


def test_duplicate_changes_nothing() -> None:
    event = Event(Direction.OUTBOUND, True, T0, "t", "m1", BOT, kind=Kind.AUTO_REPLY)
    first = decide_internal(CustomerState(), event, SUPPORT, Policy(), T0)
    again = decide_internal(first.state, event, SUPPORT, Policy(), T0)
    assert again.duplicate and again.state == first.state
