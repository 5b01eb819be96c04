"""The engine on a real database (SQLite and PostgreSQL): rules end to end, idempotency,
one transaction per event, failure isolation, SLA ticks and the linked referral ring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailguard.domain.model import Direction, Source
from mailguard.engine.ports import MessageKey
from mailguard.engine.service import Engine, Status
from mailguard.store import tables as t
from tests.integration.engine_support import (
    AUTO,
    build_engine,
    count,
    customer_state,
    mail,
    migrated_store,
    rows,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CUSTOMER = "kunde@example.org"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def customer_mail(n: int, hours: float, subject: str = "Gutschein ungültig") -> bytes:
    return mail(
        sender=f"Kunde <{CUSTOMER}>",
        to="support@example.com",
        subject=subject if n == 1 else f"Re: {subject}",
        at=at(hours),
        message_id=f"c{n}@example.org",
        body=f"Guten Tag,\n\nmein Gutschein funktioniert nicht (Nachricht {n}).\n\nGruss\n",
    )


def robot_mail(n: int, hours: float, in_reply_to: str, mention: str = "") -> bytes:
    body = "Vielen Dank fuer Ihre Nachricht. Wir melden uns.\n"
    if mention:
        body += f"Bitte wenden Sie sich an {mention}.\n"
    return mail(
        sender="support@example.com",
        to=CUSTOMER,
        subject="Automatische Antwort: Gutschein ungültig",
        at=at(hours),
        message_id=f"auto{n}@example.com",
        in_reply_to=in_reply_to,
        headers=AUTO,
        body=body,
    )


def agent_mail(hours: float, in_reply_to: str) -> bytes:
    return mail(
        sender="Anna Agent <anna@example.com>",
        to=CUSTOMER,
        subject="Re: Gutschein ungültig",
        at=at(hours),
        message_id="agent1@example.com",
        in_reply_to=in_reply_to,
        body="Hallo,\n\nich habe Ihren Gutschein neu ausgestellt.\n\nAnna\n",
    )


async def feed(engine: Engine, items: list[tuple[bytes, float]], source: Source = Source.IMAP):
    results = []
    for raw, hours in items:
        results.append(await engine.process(raw, source=source, now=at(hours)))
    return results


STREAK = [
    (customer_mail(1, 0), 0),
    (robot_mail(1, 0.01, "c1@example.org"), 0.01),
    (customer_mail(2, 30), 30),
    (robot_mail(2, 30.01, "c2@example.org"), 30.01),
]


async def test_streak_escalates_and_commits_everything(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        results = await feed(engine, STREAK)
        assert [r.status for r in results] == [Status.PROCESSED] * 4
        assert [r.decision.escalated for r in results if r.decision] == [False] * 3 + [True]
        assert results[0].key == MessageKey("support", "c1@example.org", Direction.INBOUND)
        assert results[1].key.direction is Direction.OUTBOUND
        # One thread: the robot replies chain by In-Reply-To, the customer's by subject.
        assert {r.thread for r in results} == {"c1@example.org"}
        assert await count(store, t.messages) == 4
        assert await count(store, t.threads) == 1
        (esc,) = await rows(store, t.escalations)
        assert esc.rule == "automated_streak"
        assert esc.resolved_at is None
        # The streak's own evidence (both unanswered messages), not the held reply's.
        assert [e["rule"] for e in esc.evidence] == ["automated_streak", "automated_streak"]
        assert all("answered only by" in e["matched"] for e in esc.evidence)
        kinds = sorted(r.kind for r in await rows(store, t.outbox_actions))
        # Read from Sent (IMAP), the completing robot reply is held only in the decision log.
        assert kinds == ["escalate", "notify"]
        assert results[3].hold
        state = await customer_state(store, "support", CUSTOMER)
        assert state is not None
        assert len(state["history"]) == 4
        assert await count(store, t.decisions) == 4


async def test_human_reply_resolves_in_the_database(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        await feed(engine, STREAK)
        (result,) = await feed(engine, [(agent_mail(31, "c2@example.org"), 31)])
        assert result.decision is not None and result.decision.resolved
        (esc,) = await rows(store, t.escalations)
        assert esc.resolved_at == at(31)
        assert esc.resolved_by == "human_reply:agent1@example.com"
        state = await customer_state(store, "support", CUSTOMER)
        assert state is not None and state["history"] == [] and state["escalations"] == []


async def test_same_message_twice_changes_nothing(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        await feed(engine, STREAK)
        before = await customer_state(store, "support", CUSTOMER)
        outbound = STREAK[3][0]
        # The proxy saw it, then the watcher reads the same message from Sent.
        again = await engine.process(outbound, source=Source.SMTP, now=at(32))
        assert again.status is Status.DUPLICATE
        again = await engine.process(STREAK[0][0], source=Source.IMAP, now=at(33))
        assert again.status is Status.DUPLICATE
        assert await count(store, t.messages) == 4
        assert await count(store, t.escalations) == 1
        assert await customer_state(store, "support", CUSTOMER) == before


async def test_message_without_message_id_is_idempotent(db_url: str) -> None:
    raw = mail(
        sender=CUSTOMER, to="support@example.com", subject="Hilfe", at=at(0), message_id=None
    )
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        first = await engine.process(raw, source=Source.IMAP, now=at(1))
        second = await engine.process(raw, source=Source.IMAP, now=at(2))
        assert first.status is Status.PROCESSED
        assert first.key is not None and first.key.message_id.endswith("@derived")
        assert second.status is Status.DUPLICATE


async def test_internal_mail_has_no_customer(db_url: str) -> None:
    raw = mail(
        sender="anna@example.com",
        to="support@example.com",
        subject="Lunch?",
        at=at(0),
        message_id="lunch@example.com",
    )
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        result = await engine.process(raw, source=Source.IMAP, now=at(0))
        assert result.status is Status.NO_CUSTOMER
        assert await count(store, t.customers) == 0
        assert await count(store, t.messages) == 1
        again = await engine.process(raw, source=Source.IMAP, now=at(1))
        assert again.status is Status.DUPLICATE


class ExplodingClassifier:
    """Raises for one subject, to inject a per-message fault into the real classifier."""

    def __init__(self) -> None:
        from mailguard.domain.classify import Classifier

        self._real = Classifier()

    def classify(self, facts):  # type: ignore[no-untyped-def]
        if "explode" in facts.subject:
            raise RuntimeError("injected fault")
        return self._real.classify(facts)


async def test_a_failing_message_is_recorded_and_the_loop_goes_on(db_url: str) -> None:
    from mailguard.domain.facts import parse_facts
    from mailguard.domain.policy import Policy
    from tests.integration.engine_support import IDENTITY

    bad = mail(
        sender=CUSTOMER,
        to="support@example.com",
        subject="please explode",
        at=at(0),
        message_id="bad@example.org",
    )
    async with migrated_store(db_url) as store:
        engine = Engine(
            store, IDENTITY, Policy(), parse=parse_facts, classifier=ExplodingClassifier()
        )
        failed = await engine.process(bad, source=Source.IMAP, now=at(0))
        ok = await engine.process(customer_mail(1, 1), source=Source.IMAP, now=at(1))
        assert failed.status is Status.FAILED
        assert failed.error is not None and "injected fault" in failed.error
        assert ok.status is Status.PROCESSED
        (row,) = await rows(store, t.failed_messages)
        assert row.raw == bad
        assert row.message_id == "bad@example.org"
        assert row.source == Source.IMAP
        assert await count(store, t.messages) == 1


async def test_sla_tick_renotifies_then_secondary(db_url: str) -> None:
    angry = mail(
        sender=CUSTOMER,
        to="support@example.com",
        subject="Beschwerde",
        at=at(0),
        message_id="angry@example.org",
        body="Ich schreibe jetzt zum dritten Mal! Das ist eine Frechheit, ich kündige sofort "
        "und gehe zum Anwalt. Unverschämt!\n",
    )
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        (result,) = await feed(engine, [(angry, 0)])
        assert result.decision is not None
        assert [h.rule for h in result.decision.hits][:1] == ["frustration"]
        assert await engine.tick(at(7)) == 0
        assert await engine.tick(at(8)) == 1
        (esc,) = await rows(store, t.escalations)
        assert esc.notify_level == "primary" and esc.last_notified_at == at(8)
        assert await engine.tick(at(9)) == 0
        assert await engine.tick(at(16)) == 1
        (esc,) = await rows(store, t.escalations)
        assert esc.notify_level == "secondary"
        assert await engine.tick(at(40)) == 0
        levels = [
            r.payload["level"] for r in await rows(store, t.outbox_actions) if r.kind == "notify"
        ]
        assert levels == ["primary", "primary", "secondary"]


async def test_referral_ring_links_escalations_in_both_mailboxes(db_url: str) -> None:
    def to_box(box: str, n: int, hours: float) -> bytes:
        return mail(
            sender=CUSTOMER,
            to=f"{box}@example.com",
            subject=f"Gutschein {box}",
            at=at(hours),
            message_id=f"{box}{n}@example.org",
        )

    def robot(box: str, other: str, n: int, hours: float) -> bytes:
        return mail(
            sender=f"{box}@example.com",
            to=CUSTOMER,
            subject=f"Automatic reply: Gutschein {box}",
            at=at(hours),
            message_id=f"{box}-auto{n}@example.com",
            in_reply_to=f"{box}{n}@example.org",
            headers=AUTO,
            body=f"Thank you. For vouchers please contact {other}@example.com.\n",
        )

    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        results = await feed(
            engine,
            [
                (to_box("support", 1, 0), 0),
                (robot("support", "vouchers", 1, 0.01), 0.01),
                (to_box("vouchers", 1, 2), 2),
                (robot("vouchers", "support", 1, 2.01), 2.01),
            ],
        )
        last = results[-1].decision
        assert last is not None and last.hits[0].rule == "referral_ring"
        escalations = await rows(store, t.escalations)
        assert len(escalations) == 2
        assert {e.rule for e in escalations} == {"referral_ring"}
        assert escalations[0].link_key == escalations[1].link_key is not None
        assert escalations[0].linked_escalation_id == escalations[1].id or (
            escalations[1].linked_escalation_id == escalations[0].id
        )
        for box in ("support", "vouchers"):
            state = await customer_state(store, box, CUSTOMER)
            assert state is not None and state["escalations"][0]["rule"] == "referral_ring"
        # A person answering in one mailbox breaks the ring: both escalations resolve.
        reply = mail(
            sender="vouchers@example.com",
            to=CUSTOMER,
            subject="Re: Gutschein",
            at=at(3),
            message_id="person@example.com",
            in_reply_to="vouchers1@example.org",
            body="Hallo, ich kuemmere mich persoenlich darum. Anna\n",
        )
        (result,) = await feed(engine, [(reply, 3)])
        assert result.decision is not None and result.decision.resolved
        assert all(e.resolved_at == at(3) for e in await rows(store, t.escalations))


async def test_handled_signal_resolves_in_the_database(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        await feed(engine, STREAK)
        decision = await engine.handled("support", CUSTOMER.upper(), "anna", at(40))
        assert decision.resolved
        (esc,) = await rows(store, t.escalations)
        assert esc.resolved_by == "handled:anna" and esc.resolved_at == at(40)
        again = await engine.handled("support", CUSTOMER, "anna", at(41))
        assert not again.resolved
        resolves = [r for r in await rows(store, t.outbox_actions) if r.kind == "resolve"]
        assert len(resolves) == 1


async def test_held_smtp_reply_keeps_raw_bytes(db_url: str) -> None:
    async with migrated_store(db_url) as store:
        engine = build_engine(store)
        await feed(engine, STREAK[:3])
        from mailguard.engine.service import Envelope

        raw = STREAK[3][0]
        result = await engine.process(
            raw,
            source=Source.SMTP,
            now=at(30.01),
            envelope=Envelope("support@example.com", (CUSTOMER,)),
        )
        assert result.hold
        (held,) = await rows(store, t.held_messages)
        assert held.raw == raw
        assert held.envelope_recipients == [CUSTOMER]
        assert "hold_outbound" in {r.kind for r in await rows(store, t.outbox_actions)}
