"""Hypothesis state machine over random interleavings of a customer's conversation.

Invariants (issue 4): no escalation without evidence; a human outbound reply always resolves;
processing the same message twice changes nothing. Also: the state survives JSON.
"""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mailguard.domain.model import Direction, Kind
from mailguard.domain.policy import (
    RULES,
    Decision,
    Escalate,
    Event,
    HoldOutbound,
    Policy,
    ReferralRingRule,
    Resolve,
    decide,
    decide_handled,
    decide_tick,
)
from mailguard.domain.state import CustomerState
from tests.unit.policy_script import CUSTOMER, SUPPORT, T0

PARTNER = "partner@voucher-partner.example.net"
POLICY = Policy(referral_ring=ReferralRingRule(partner_addresses=frozenset({PARTNER})))
KINDS = [Kind.AUTO_REPLY, Kind.OUT_OF_OFFICE, Kind.TICKET_ACK, Kind.BOUNCE]


class Conversation(RuleBasedStateMachine):
    """One customer in one mailbox; every step checks the decision it produced."""

    def __init__(self) -> None:
        super().__init__()
        self.state = CustomerState()
        self.now = T0
        self.counter = 0
        self.processed: list[Event] = []

    def _check(self, decision: Decision) -> None:
        hit_rules = {h.rule for h in decision.hits if h.evidence}
        for action in decision.actions:
            if isinstance(action, Escalate):
                assert action.rule in hit_rules, "escalation without evidence"
                assert action.rule in RULES
            if isinstance(action, HoldOutbound):
                assert decision.hits and all(h.evidence for h in decision.hits)
        for hit in decision.hits:
            assert hit.evidence, f"{hit.rule} hit without evidence"

    def _send(self, direction: Direction, automated: bool, kind: Kind, **extra: object) -> None:
        self.counter += 1
        event = Event(
            direction=direction,
            automated=automated,
            at=self.now,
            thread="t1",
            message_id=f"m{self.counter}@example",
            counterpart=CUSTOMER,
            kind=kind,
            mailbox="support",
            mailbox_addresses=SUPPORT,
            **extra,  # type: ignore[arg-type]
        )
        before = self.state
        decision = decide(before, event, POLICY, self.now)
        self._check(decision)
        if direction is Direction.OUTBOUND and not automated:
            assert decision.state.escalations == ()
            assert decision.state.history == ()
            assert decision.resolved == bool(before.escalations)
        self.state = decision.state
        self.processed.append(event)

    @rule(hours=st.floats(min_value=0.01, max_value=60))
    def wait(self, hours: float) -> None:
        self.now += timedelta(hours=hours)

    @rule(
        frustration=st.sampled_from([0.0, 0.0, 0.3, 0.7, 0.95]),
        mention=st.sampled_from([(), (PARTNER,), tuple(SUPPORT)]),
    )
    def customer_writes(self, frustration: float, mention: tuple[str, ...]) -> None:
        self._send(Direction.INBOUND, False, Kind.HUMAN, frustration=frustration, mentioned=mention)

    @rule(kind=st.sampled_from(KINDS))
    def customer_robot_writes(self, kind: Kind) -> None:
        self._send(Direction.INBOUND, True, kind)

    @rule(kind=st.sampled_from(KINDS), mention=st.sampled_from([(), (PARTNER,)]))
    def our_robot_replies(self, kind: Kind, mention: tuple[str, ...]) -> None:
        self._send(Direction.OUTBOUND, True, kind, mentioned=mention)

    @rule()
    def agent_replies(self) -> None:
        self._send(Direction.OUTBOUND, False, Kind.HUMAN)

    @rule()
    def tick(self) -> None:
        decision = decide_tick(self.state, POLICY, self.now, "support")
        self._check(decision)
        assert not decision.escalated
        self.state = decision.state

    @rule()
    def agent_marks_handled(self) -> None:
        before = self.state
        decision = decide_handled(before, POLICY, self.now, "support", "agent")
        assert decision.state.escalations == ()
        assert decision.resolved == bool(before.escalations)
        assert all(isinstance(a, Resolve) for a in decision.actions)
        self.state = decision.state

    @precondition(lambda self: bool(self.processed))
    @rule(data=st.data())
    def replay_a_message(self, data: st.DataObject) -> None:
        # Only messages still remembered are guaranteed duplicates; older ones are outside
        # every window and the store's (mailbox, Message-ID, direction) key catches them.
        recent = [e for e in self.processed if e.at >= self.now - POLICY.retention]
        if not recent:
            return
        event = data.draw(st.sampled_from(recent))
        decision = decide(self.state, event, POLICY, self.now)
        assert decision.duplicate
        assert decision.state == self.state
        assert decision.actions == ()

    @invariant()
    def state_round_trips_through_json(self) -> None:
        encoded = json.loads(json.dumps(self.state.to_dict()))
        assert CustomerState.from_dict(encoded) == self.state

    @invariant()
    def at_most_one_open_escalation_with_a_known_rule(self) -> None:
        assert len(self.state.escalations) <= 1
        assert all(e.rule in RULES for e in self.state.escalations)


Conversation.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestConversation = Conversation.TestCase
