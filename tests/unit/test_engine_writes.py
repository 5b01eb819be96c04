"""The mapping from a policy decision to the store's one-transaction write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailguard.domain.model import Classification, Direction, Evidence, Kind, Source
from mailguard.domain.policy import (
    CircuitBreak,
    Decision,
    Escalate,
    FileFollowUp,
    HoldOutbound,
    Notify,
    NotifyLevel,
    Policy,
    Resolve,
    RuleHit,
)
from mailguard.domain.state import CustomerState, OpenEscalation
from mailguard.engine.ports import CustomerRef, MessageKey
from mailguard.engine.writes import (
    Envelope,
    PreparedMessage,
    ThreadInfo,
    event_write,
    no_customer_write,
    tick_write,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CUSTOMER = "kunde@example.org"
REF = CustomerRef("support", CUSTOMER)


class FakeFacts:
    """Just the attributes the write mapping reads."""

    message_id = "m1@example.com"
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    subject = "Re: Gutschein"
    from_addr = "support@example.com"
    to_addrs = (CUSTOMER,)
    cc_addrs: tuple[str, ...] = ()
    date = NOW
    size = 123

    def mentioned_addresses(self) -> tuple[str, ...]:
        return ()


def prepared(source: Source) -> PreparedMessage:
    cls = Classification(Kind.AUTO_REPLY, True, 0.9, "de", (Evidence("rfc3834", "x", 2.0),))
    key = MessageKey("support", "m1@example.com", Direction.OUTBOUND)
    return PreparedMessage(
        b"raw", FakeFacts(), cls, key, source, CUSTOMER, NOW, Envelope("s@example.com", (CUSTOMER,))
    )


def escalating_decision() -> Decision:
    hit = RuleHit("automated_streak", (Evidence("automated_streak", "c1 answered by a1"),), "2")
    esc = OpenEscalation("automated_streak", "2", NOW, "root@x")
    return Decision(
        CustomerState(escalations=(esc,)),
        (
            Escalate("automated_streak", "2", "support", "root@x"),
            Notify(NotifyLevel.PRIMARY, "2", "support", "automated_streak"),
            HoldOutbound("m1@example.com", "escalated"),
            CircuitBreak(CUSTOMER, NOW + timedelta(hours=24), "loop"),
        ),
        (hit,),
        "explained",
    )


THREAD = ThreadInfo(REF, "root@x", "gutschein", ("m1@example.com", "root@x"))


def test_event_write_from_the_proxy_holds_the_raw_bytes() -> None:
    write = event_write(prepared(Source.SMTP), escalating_decision(), THREAD, Policy(), NOW)
    assert write.message is not None and write.message.thread_root == "root@x"
    assert write.message.evidence == [{"rule": "rfc3834", "matched": "x", "weight": 2.0}]
    assert write.thread is not None and write.thread.message_ids == THREAD.message_ids
    (opened,) = write.opened
    assert opened.rule == "automated_streak" and opened.evidence
    assert [a.kind for a in write.actions] == [
        "escalate",
        "notify",
        "hold_outbound",
        "circuit_break",
    ]
    keys = [a.idempotency_key for a in write.actions]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("support:out:m1@example.com:") for k in keys)
    assert write.held is not None and write.held.raw == b"raw"
    assert write.held.rcpt_tos == (CUSTOMER,)
    (state,) = write.states
    assert state.next_due == NOW + timedelta(hours=8)
    assert write.notified == ()  # the opening notification is not an SLA stage


def test_event_write_from_sent_logs_the_hold_but_holds_nothing() -> None:
    write = event_write(prepared(Source.IMAP), escalating_decision(), THREAD, Policy(), NOW)
    assert write.held is None
    assert "hold_outbound" not in [a.kind for a in write.actions]


def test_same_event_gives_the_same_idempotency_keys() -> None:
    first = event_write(prepared(Source.SMTP), escalating_decision(), THREAD, Policy(), NOW)
    again = event_write(prepared(Source.SMTP), escalating_decision(), THREAD, Policy(), NOW)
    assert [a.idempotency_key for a in first.actions] == [a.idempotency_key for a in again.actions]


def test_tick_write_records_sla_notifications_once_per_stage() -> None:
    esc = OpenEscalation("frustration", "angry", NOW, "root@x", stage=1, notified_at=NOW)
    decision = Decision(
        CustomerState(escalations=(esc,)),
        (Notify(NotifyLevel.PRIMARY, "unanswered", "support", "sla"),),
        (RuleHit("sla", (Evidence("sla", "opened"),), "8 h"),),
        "tick",
    )
    write = tick_write(REF, decision, Policy(), NOW + timedelta(hours=8))
    assert write.message is None
    (notified,) = write.notified
    assert notified.level == "primary"
    (action,) = write.actions
    assert action.idempotency_key.startswith(f"sla:support:{CUSTOMER}:{NOW.isoformat()}#1")


def test_resolve_rows_for_every_mailbox_resolved() -> None:
    decision = Decision(
        CustomerState(),
        (Resolve("human_reply:a", "support", "r"), Resolve("human_reply:a", "shop", "linked")),
    )
    write = event_write(prepared(Source.IMAP), decision, THREAD, Policy(), NOW)
    assert sorted(r.customer.mailbox for r in write.resolved) == ["shop", "support"]


def test_no_customer_write_has_no_thread_or_state() -> None:
    write = no_customer_write(prepared(Source.IMAP), NOW)
    assert write.thread is None and write.states == () and write.actions == ()
    assert write.message is not None and write.decision.customer is None


def test_a_follow_up_names_the_message_and_the_escalated_thread() -> None:
    decision = Decision(
        CustomerState(escalations=(OpenEscalation("frustration", "x", NOW, "root@x"),)),
        (FileFollowUp("m1@example.com", "support", "root@x", "customer escalated wrote again"),),
        (),
        "explained",
    )
    write = event_write(prepared(Source.IMAP), decision, THREAD, Policy(), NOW)
    (action,) = write.actions
    assert action.kind == "file_follow_up" and action.target == CUSTOMER
    assert action.payload["mailbox"] == "support"
    assert action.payload["message_id"] == "m1@example.com"
    assert action.payload["thread"] == "root@x" and action.payload["direction"] == "in"
