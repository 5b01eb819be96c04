"""asks_for_human: the classifier hears the request, the policy escalates, config and audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mailguard.app.explain import render_explanation
from mailguard.audit.records import AuditRecord, RuleHit
from mailguard.audit.report import ReportBuilder
from mailguard.config import parse_config
from mailguard.config.settings import policy_of
from mailguard.domain.classify import Classifier, ClassifierSettings
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification, Direction, Evidence, Kind
from mailguard.domain.policy import AsksForHumanRule, Event, Policy, decide
from mailguard.domain.state import CustomerState
from tests.unit.classify_mail import mail

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ASK = Evidence("asks_for_human", "talk to a real person", 0.0)


def classify(body: str, subject: str = "My order", **kw: object) -> Classification:
    settings = kw.get("settings")
    classifier = Classifier(settings) if isinstance(settings, ClassifierSettings) else Classifier()
    sender = str(kw.get("sender", "Anna Schmidt <anna@example.org>"))
    return classifier.classify(parse_facts(mail(subject=subject, body=body, sender=sender)))


def event(
    evidence: tuple[Evidence, ...] = (ASK,),
    direction: Direction = Direction.INBOUND,
    automated: bool = False,
    frustration: float = 0.0,
) -> Event:
    return Event(
        direction=direction,
        automated=automated,
        at=NOW,
        thread="t1",
        message_id="m1@example.org",
        counterpart="anna@example.org",
        kind=Kind.AUTO_REPLY if automated else Kind.HUMAN,
        frustration=frustration,
        evidence=evidence,
        mailbox="support",
    )


@pytest.mark.parametrize(
    ("ev", "rule", "escalates"),
    [
        pytest.param(event(), AsksForHumanRule(), True, id="asks"),
        pytest.param(event(evidence=()), AsksForHumanRule(), False, id="no-request"),
        pytest.param(event(), AsksForHumanRule(enabled=False), False, id="disabled"),
        pytest.param(event(automated=True), AsksForHumanRule(), False, id="automated-never"),
        pytest.param(
            event(direction=Direction.OUTBOUND, automated=True),
            AsksForHumanRule(),
            False,
            id="outbound-never",
        ),
    ],
)
def test_policy(ev: Event, rule: AsksForHumanRule, escalates: bool) -> None:
    decision = decide(CustomerState(), ev, Policy(asks_for_human=rule), NOW)
    assert decision.escalated is escalates
    if escalates:
        (hit,) = decision.hits
        assert hit.rule == "asks_for_human"
        assert hit.evidence == (ASK,)
        assert "talk to a real person" in hit.detail
        assert decision.state.escalations[0].rule == "asks_for_human"


def test_a_request_for_a_person_opens_the_escalation_before_frustration() -> None:
    decision = decide(CustomerState(), event(frustration=0.9), Policy(), NOW)
    assert [h.rule for h in decision.hits] == ["asks_for_human", "frustration"]
    assert decision.state.escalations[0].rule == "asks_for_human"


def test_configured_on_by_default_and_switchable() -> None:
    assert policy_of(parse_config("", "f.yaml", {})).asks_for_human.enabled is True
    config = parse_config("policy:\n  asks_for_human: {enabled: false}\n", "f.yaml", {})
    assert policy_of(config).asks_for_human == AsksForHumanRule(enabled=False)


def test_the_classifier_records_the_phrase_as_evidence() -> None:
    result = classify("Hello,\n\nCan I please talk to a real person?\n\nThanks\nAnna")
    (ask,) = [e for e in result.evidence if e.rule == "asks_for_human"]
    assert ask.matched == "talk to a real person"
    assert not result.automated


def test_the_subject_counts_but_not_a_reply_subject() -> None:
    fresh = classify("See subject.", subject="Beschwerde über den Kurier")
    assert fresh.frustration >= 0.6
    reply = classify("Thanks, that helps.", subject="Re: Ihre Beschwerde über den Kurier")
    assert reply.frustration == 0.0


def test_quoted_history_and_signatures_do_not_count() -> None:
    body = (
        "Thanks, all sorted now.\n\nOn Mon, 2 Mar 2026 at 10:00, Anna <anna@example.org> wrote:\n"
        "> I want to talk to a real person! This is a disgrace!!!\n"
    )
    result = classify(body, subject="Re: Order 12")
    assert result.frustration == 0.0
    assert not [e for e in result.evidence if e.rule == "asks_for_human"]


def test_agents_mail_is_never_scored() -> None:
    settings = ClassifierSettings(agent_addresses=frozenset({"maria@example.com"}))
    body = "I'm very sorry you are unhappy; I will call you back. Please call me on 0301234."
    result = classify(body, settings=settings, sender="Maria <maria@example.com>")
    assert result.frustration == 0.0 and result.frustration_evidence == ()
    assert not [e for e in result.evidence if e.rule == "asks_for_human"]


def test_explain_shows_the_rule_and_the_signals_with_their_text() -> None:
    raw = mail(subject="Bot", body="I want to speak to a manager. This is ridiculous.")
    facts = parse_facts(raw)
    text = render_explanation(facts, Classifier().classify(facts), as_json=False)
    assert "asks_for_human" in text and "speak to a manager" in text
    assert "frustration:anger_en" in text and "ridiculous" in text


def test_the_audit_report_counts_the_rule() -> None:
    builder = ReportBuilder()
    builder.add(
        AuditRecord(
            mailbox="support",
            customer="anna@example.org",
            direction=Direction.INBOUND,
            at=NOW,
            kind=Kind.HUMAN,
            automated=False,
            sender="anna@example.org",
            subject="Bot",
            thread_id="t1",
            message_id="m1@example.org",
            rule_hits=(RuleHit("asks_for_human", "'talk to a real person'"),),
            escalated="asks_for_human",
        )
    )
    report = builder.build()
    assert report.rule_hits["asks_for_human"] == 1
    (trap,) = report.trapped["asks_for_human"]
    assert trap.customer == "anna@example.org"


SALES_CALLS = [
    "Could somebody in your sales department ring me about fibre for our three offices?",
    "Ich hätte gern einen Rückruf von Ihrem Vertrieb wegen eines Angebots für zwölf Geräte.",
    "Est-ce que quelqu'un du service commercial peut me rappeler pour un devis ?",
    "¿Me podría llamar alguien de ventas para un presupuesto de 30 líneas?",
    "Potrebbe richiamarmi qualcuno dell'ufficio vendite per un preventivo?",
    "Kan iemand van verkoop me terugbellen over een offerte voor tien laptops?",
    "Alguém do comercial pode me ligar para falar de um orçamento?",
]
HELP_CALLS = [
    "Could somebody ring me about my broken router, please?",
    "Ich hätte gern einen Rückruf wegen meiner falschen Rechnung.",
    "Est-ce que quelqu'un peut me rappeler pour ma facture ?",
    "¿Me podría llamar alguien por el cobro duplicado?",
    "Potrebbe richiamarmi qualcuno per la bolletta sbagliata?",
    "Kan iemand me terugbellen over mijn kapotte router?",
    "Alguém pode me ligar sobre a minha fatura errada?",
]


@pytest.mark.parametrize(("sales", "help_"), list(zip(SALES_CALLS, HELP_CALLS, strict=True)))
def test_a_call_from_the_sales_department_is_not_a_request_for_help(sales: str, help_: str) -> None:
    # Asking a seller to call about buying is ordinary business; the same request about a
    # problem, without the sales department, is a request for a person.
    assert not any(e.rule == "asks_for_human" for e in classify(sales).evidence)
    assert any(e.rule == "asks_for_human" for e in classify(help_).evidence)
