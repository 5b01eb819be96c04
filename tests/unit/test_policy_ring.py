"""referral_ring: robots sending the customer to each other, across mailboxes or a partner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mailguard.domain.policy import Escalate, Peer, Policy, ReferralRingRule
from mailguard.domain.state import CustomerState
from tests.unit.policy_script import SUPPORT, Step, escalated_at, run

PARTNER = "gutschein@voucher-partner.example.net"
VOUCHERS = "vouchers@example.com"
SUPPORT_ADDR = next(iter(SUPPORT))
WITH_PARTNER = ReferralRingRule(partner_addresses=frozenset({PARTNER}))
# The engine always tells the policy about every other guarded mailbox, even where the
# customer has no state yet, so the support side knows the vouchers address is one of ours.
VOUCHERS_PEER = Peer("vouchers", frozenset({VOUCHERS}), CustomerState())


@pytest.mark.parametrize(
    ("steps", "rule", "expected"),
    [
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(20, "in", mentioned=(SUPPORT_ADDR,)),
            ],
            WITH_PARTNER,
            [2],
            id="partner-sends-back-named-in-text",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(20, "in", recipients=(PARTNER,)),
            ],
            WITH_PARTNER,
            [2],
            id="customer-copies-partner",
        ),
        pytest.param(
            [Step(0, "in"), Step(0.1, "out-auto", mentioned=(PARTNER,)), Step(20, "in")],
            WITH_PARTNER,
            [],
            id="no-sign-customer-went-there",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(20, "in", mentioned=(SUPPORT_ADDR,)),
            ],
            ReferralRingRule(),
            [],
            id="partner-not-configured",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(24 * 15, "in", mentioned=(SUPPORT_ADDR,)),
            ],
            WITH_PARTNER,
            [],
            id="outside-window",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(20, "in", mentioned=(SUPPORT_ADDR,)),
            ],
            ReferralRingRule(enabled=False, partner_addresses=frozenset({PARTNER})),
            [],
            id="disabled",
        ),
        pytest.param(
            [
                Step(0, "in"),
                Step(0.1, "out-auto", mentioned=(PARTNER,)),
                Step(1, "out"),
                Step(20, "in", mentioned=(SUPPORT_ADDR,)),
            ],
            WITH_PARTNER,
            [],
            id="human-reply-breaks-ring",
        ),
    ],
)
def test_referral_ring_with_partner(
    steps: list[Step], rule: ReferralRingRule, expected: list[int]
) -> None:
    decisions, _ = run(steps, Policy(referral_ring=rule))
    assert escalated_at(decisions) == expected
    for index in expected:
        assert decisions[index].hits[0].rule == "referral_ring"


def support_state(referral: bool, reply_hours: float = 0.1) -> CustomerState:
    mentioned = (VOUCHERS,) if referral else ()
    steps = [
        Step(0, "in", peers=(VOUCHERS_PEER,)),
        Step(reply_hours, "out-auto", mentioned=mentioned, peers=(VOUCHERS_PEER,)),
    ]
    _, state = run(steps, Policy())
    return state


@pytest.mark.parametrize(
    ("ours_names_theirs", "theirs_names_ours", "their_reply", "expected"),
    [
        pytest.param(True, False, 0.1, True, id="support-names-vouchers"),
        pytest.param(False, True, 0.1, True, id="vouchers-names-support"),
        pytest.param(True, True, 0.1, True, id="both-name-each-other"),
        pytest.param(False, False, 0.1, False, id="nobody-names-the-other"),
        pytest.param(True, True, None, False, id="support-side-not-answered"),
    ],
)
def test_referral_ring_across_mailboxes(
    ours_names_theirs: bool, theirs_names_ours: bool, their_reply: float | None, expected: bool
) -> None:
    if their_reply is None:
        _, peer_state = run([Step(0, "in")], Policy())
    else:
        peer_state = support_state(theirs_names_ours, their_reply)
    peer = Peer("support", SUPPORT, peer_state)
    mentioned = (SUPPORT_ADDR,) if ours_names_theirs else ()
    steps = [
        Step(1, "in", peers=(peer,)),
        Step(1.1, "out-auto", mentioned=mentioned, peers=(peer,)),
    ]
    decisions, state = run(steps, Policy(), mailbox="vouchers")
    assert bool(escalated_at(decisions)) is expected
    if expected:
        decision = decisions[1]
        escalations = [a for a in decision.actions if isinstance(a, Escalate)]
        assert {e.mailbox for e in escalations} == {"vouchers", "support"}
        assert len({e.link_key for e in escalations}) == 1
        assert escalations[0].link_key is not None
        linked = decision.peer_states["support"].escalations[0]
        assert linked.link_key == state.escalations[0].link_key
        assert linked.rule == "referral_ring"


def test_ring_does_not_reopen_a_peer_already_escalated() -> None:
    _, peer_state = run(
        [
            Step(0, "in", frustration=0.9, peers=(VOUCHERS_PEER,)),
            Step(0.1, "out-auto", mentioned=(VOUCHERS,), peers=(VOUCHERS_PEER,)),
        ],
        Policy(),
    )
    peer = Peer("support", SUPPORT, peer_state)
    steps = [Step(1, "in", peers=(peer,)), Step(1.1, "out-auto", peers=(peer,))]
    decisions, _ = run(steps, Policy(), mailbox="vouchers")
    assert [a.mailbox for a in decisions[1].actions if isinstance(a, Escalate)] == ["vouchers"]
    assert "support" not in decisions[1].peer_states


def test_window_is_respected_across_mailboxes() -> None:
    peer = Peer("support", SUPPORT, support_state(True))
    late = 24 * 15
    steps = [Step(late, "in", peers=(peer,)), Step(late + 0.1, "out-auto", peers=(peer,))]
    decisions, _ = run(
        steps, Policy(referral_ring=ReferralRingRule(window=timedelta(days=14))), mailbox="vouchers"
    )
    assert escalated_at(decisions) == []
