"""bot_ping_pong: never auto-answer automated mail; circuit-break a looping counterpart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailguard.domain.model import Kind
from mailguard.domain.policy import CircuitBreak, PingPongRule, Policy
from tests.unit.policy_script import Step, at, kinds, run

OOO = Kind.OUT_OF_OFFICE


def loop(n: int, gap: float) -> list[Step]:
    """``n`` exchanges: their out-of-office, our auto-reply, ``gap`` hours apart."""
    steps: list[Step] = []
    for i in range(n):
        steps += [Step(i * gap, "in-auto", kind=OOO), Step(i * gap + 0.01, "out-auto")]
    return steps


@pytest.mark.parametrize(
    ("steps", "rule", "held", "tripped"),
    [
        pytest.param(loop(1, 1), PingPongRule(), [1], [], id="auto-to-auto-held"),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto")],
            PingPongRule(),
            [],
            [],
            id="auto-reply-to-human-allowed",
        ),
        pytest.param(loop(3, 1), PingPongRule(), [1, 3, 5], [5], id="third-exchange-trips"),
        pytest.param(loop(3, 13), PingPongRule(), [1, 3, 5], [], id="spread-beyond-24h"),
        pytest.param(loop(2, 1), PingPongRule(max_exchanges=2), [1, 3], [3], id="k-two"),
        pytest.param(loop(3, 1), PingPongRule(enabled=False), [], [], id="disabled"),
        pytest.param(
            [*loop(3, 1), Step(4, "in"), Step(4.1, "out-auto")],
            PingPongRule(),
            [1, 3, 5, 7],
            [5],
            id="breaker-holds-even-after-human-inbound",
        ),
        pytest.param(
            [*loop(3, 1), Step(40, "in"), Step(40.1, "out-auto")],
            PingPongRule(cooldown=timedelta(hours=12)),
            [1, 3, 5],
            [5],
            id="cooldown-over",
        ),
        pytest.param(
            [Step(0, "in-auto", kind=OOO), Step(1, "in"), Step(1.1, "out-auto")],
            PingPongRule(),
            [],
            [],
            id="latest-inbound-is-human",
        ),
    ],
)
def test_bot_ping_pong(
    steps: list[Step], rule: PingPongRule, held: list[int], tripped: list[int]
) -> None:
    policy = Policy(bot_ping_pong=rule)
    decisions, _ = run(steps, policy)
    assert [i for i, d in enumerate(decisions) if d.held] == held
    assert [i for i, d in enumerate(decisions) if "circuit_break" in kinds(d)] == tripped
    for index in held:
        assert all(h.evidence for h in decisions[index].hits)


def test_breaker_until_is_now_plus_cooldown() -> None:
    decisions, state = run(loop(3, 1), Policy())
    breaks = [a for a in decisions[5].actions if isinstance(a, CircuitBreak)]
    assert breaks[0].until == at(2.01) + timedelta(hours=24)
    assert "notify" in kinds(decisions[5])
    assert state.breaker_for(breaks[0].counterpart, at(3)) is not None
    assert not decisions[5].escalated
