"""Classifier rule tables: header signals, localized subjects and bodies, the human traps."""

from __future__ import annotations

import pytest

from mailguard.domain.classify import (
    Classifier,
    ClassifierSettings,
    PatternRule,
    is_reply_subject,
)
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Classification, Kind
from tests.unit.classify_mail import mail

CLASSIFIER = Classifier()
DSN = 'multipart/report; report-type=delivery-status; boundary="b"'
DSN_BODY = (
    "--b\nContent-Type: text/plain\n\nThis is the mail system at host mx.example.org.\n"
    "--b\nContent-Type: message/delivery-status\n\nAction: failed\n--b--\n"
)


def classify(raw: bytes, classifier: Classifier = CLASSIFIER) -> Classification:
    return classifier.classify(parse_facts(raw))


def rules(result: Classification) -> set[str]:
    return {item.rule for item in result.evidence}


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ((("Auto-Submitted", "auto-replied"),), Kind.AUTO_REPLY),
        ((("Auto-Submitted", "auto-generated"),), Kind.NOTIFICATION),
        ((("Auto-Submitted", "auto-replied (vacation)"),), Kind.AUTO_REPLY),
        ((("Precedence", "auto_reply"),), Kind.AUTO_REPLY),
        ((("Precedence", "bulk"),), Kind.AUTO_REPLY),
        ((("Precedence", "list"), ("List-Id", "<users.lists.example.org>")), Kind.BULK),
        ((("List-Unsubscribe", "<https://news.example/u>"),), Kind.BULK),
        ((("X-Autoreply", "yes"),), Kind.AUTO_REPLY),
        ((("X-Autorespond", "Your message"),), Kind.AUTO_REPLY),
        ((("X-Failed-Recipients", "x@example.net"),), Kind.BOUNCE),
        ((("X-MS-Exchange-Message-Is-Ndr", ""),), Kind.BOUNCE),
        ((("X-Mailer", "Mailchimp Mailer - **CID1**"),), Kind.BULK),
        ((("Sender", "owner-users@lists.example.org"),), Kind.BULK),
    ],
)
def test_header_signals(headers: tuple[tuple[str, str], ...], kind: Kind) -> None:
    result = classify(mail(*headers))
    assert result.automated
    assert result.kind is kind


@pytest.mark.parametrize(
    "headers",
    [
        (),
        (("X-Auto-Response-Suppress", "All"), ("X-Mailer", "Microsoft Outlook 16.0")),
        (("Auto-Submitted", "no"),),
        (("X-Autoreply", "no"),),
        (("User-Agent", "Mozilla Thunderbird 128.3"),),
    ],
)
def test_ordinary_mail_is_human(headers: tuple[tuple[str, str], ...]) -> None:
    result = classify(mail(*headers))
    assert not result.automated
    assert result.kind is Kind.HUMAN
    assert result.confidence >= 0.5


def test_dsn_is_a_bounce_even_with_auto_replied() -> None:
    raw = mail(
        ("Auto-Submitted", "auto-replied"),
        sender="Mail Delivery System <MAILER-DAEMON@mx.example.org>",
        subject="Undelivered Mail Returned to Sender",
        ctype=DSN,
        body=DSN_BODY,
    )
    result = classify(raw)
    assert (result.kind, result.automated) == (Kind.BOUNCE, True)
    assert {"dsn_report", "mailer_daemon_sender", "subject_bounce"} <= rules(result)
    assert result.confidence > 0.9


OOO_SUBJECTS = [
    ("en", "Automatic reply: Your invoice", "I am out of the office until 10 March."),
    ("de", "Automatische Antwort: Ihre Rechnung", "Ich bin bis zum 10.03. nicht im Büro."),
    ("de", "Abwesenheitsnotiz: Ihre Rechnung", "Ich bin derzeit im Urlaub."),
    ("fr", "Réponse automatique : Votre facture", "Je suis absente du bureau jusqu'au 10 mars."),
    ("es", "Respuesta automática: Su factura", "Estoy fuera de la oficina hasta el 10."),
    ("it", "Risposta automatica: La sua fattura", "Sono fuori ufficio fino al 10 marzo."),
    ("nl", "Automatisch antwoord: Uw factuur", "Ik ben tot en met 10 maart afwezig."),
    ("pt", "Resposta automática: Sua fatura", "Estou fora do escritório até dia 10."),
]


@pytest.mark.parametrize(("lang", "subject", "body"), OOO_SUBJECTS)
def test_outlook_absence_without_rfc3834_header(lang: str, subject: str, body: str) -> None:
    result = classify(mail(("X-Auto-Response-Suppress", "All"), subject=subject, body=body))
    assert result.automated
    assert result.kind is Kind.OUT_OF_OFFICE
    assert result.language in (lang, None)


@pytest.mark.parametrize(("lang", "subject", "body"), OOO_SUBJECTS)
def test_human_reply_to_an_absence_note_is_human(lang: str, subject: str, body: str) -> None:
    prefix = {"de": "AW", "nl": "Antw", "it": "R", "pt": "RES"}.get(lang, "RE")
    own = "Please answer my question, this is urgent."
    quoted = f"\n\nOn Mon, 3 Mar 2025, Support <s@example.com> wrote:\n> {body}"
    result = classify(mail(subject=f"{prefix}: {subject}", body=own + quoted))
    assert not result.automated
    assert result.kind is Kind.HUMAN


@pytest.mark.parametrize(
    ("subject", "body", "kind"),
    [
        ("Ihre Anfrage #12345 ist eingegangen", "Ihre Ticketnummer: 12345.", Kind.TICKET_ACK),
        ("[Acme] Request received: Login", "Your ticket number is #4711.", Kind.TICKET_ACK),
        (
            "Please confirm your message to anna@example.org",
            "To have your message delivered, please click the link below to confirm.",
            Kind.CHALLENGE_RESPONSE,
        ),
        ("Unzustellbar: Rechnung", "Ihre Nachricht konnte nicht zugestellt werden.", Kind.BOUNCE),
        ("Gelesen: Rechnung", "Ihre Nachricht wurde gelesen.", Kind.NOTIFICATION),
    ],
)
def test_subject_and_body_phrases(subject: str, body: str, kind: Kind) -> None:
    result = classify(mail(subject=subject, body=body))
    assert result.automated
    assert result.kind is kind


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Out of office next week", "I will be out of the office next week, reply by Friday."),
        ("AW: Automatische Antwort: Rechnung", "Schon wieder nur eine automatische Antwort!"),
        ("Antwort: Rechnung", "Danke, das passt so."),
        (
            "Fwd: Undelivered Mail Returned to Sender",
            "My mail bounced, see below.\n\n---------- Forwarded message ---------\n"
            "This is the mail system at host mx.example.org.\nI'm sorry to have to inform you that "
            "your message could not be delivered.",
        ),
        ("Newsletter", "Please unsubscribe me, I keep getting your newsletter."),
        ("Thanks", "Thank you for your message, I will check it tomorrow."),
        (
            "Your robot",
            'I keep getting "This is an automated response, please do not reply to this '
            'email" from you. Is anybody there?',
        ),
        ("Undelivered parcel 4711", "My parcel was returned to you, please send it again."),
        ("We have received your invoice but it is wrong", "The amount is too high."),
        ("Cannot verify your email address", "The link in your mail does not work."),
        (
            "[Acme] Re: Invoice",
            "Hello Anna,\n\nthank you for your message. I checked your ticket #48213 and fixed the "
            "invoice. We will get back to you if anything else is needed.\n\nMaria",
        ),
    ],
)
def test_hard_human_cases(subject: str, body: str) -> None:
    # Sent from Outlook, whose X-Auto-Response-Suppress must not tip the balance either.
    result = classify(mail(("X-Auto-Response-Suppress", "All"), subject=subject, body=body))
    assert not result.automated, [item.rule for item in result.evidence]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("AW: Automatische Antwort: x", True),
        ("Re: x", True),
        ("RE[2]: x", True),
        ("Antwort: x", True),
        ("[EXT] Fwd: x", True),
        ("Automatic reply: x", False),
        ("Reminder: x", False),
    ],
)
def test_reply_subjects(subject: str, expected: bool) -> None:
    assert is_reply_subject(subject) is expected


def test_configured_helpdesk_agent_and_marker() -> None:
    settings = ClassifierSettings(
        helpdesk_senders=frozenset({"@helpdesk.example.com", "bot@example.com"}),
        agent_addresses=frozenset({"Maria@Helpdesk.Example.com"}),
        human_markers=(("X-Helpdesk-Author", r"^agent:"),),
    )
    classifier = Classifier(settings)
    robot = classify(mail(sender="noreply@helpdesk.example.com"), classifier)
    assert robot.automated and "configured_helpdesk_sender" in rules(robot)
    bot = classify(mail(sender="Bot <bot@example.com>"), classifier)
    assert bot.automated
    agent = classify(
        mail(("Auto-Submitted", "auto-replied"), sender="maria@helpdesk.example.com"), classifier
    )
    assert not agent.automated and "configured_agent" in rules(agent)
    marked = classify(
        mail(("X-Helpdesk-Author", "agent: Tom"), sender="desk@helpdesk.example.com"), classifier
    )
    assert not marked.automated and "configured_human_marker" in rules(marked)


def test_extra_rules_extend_the_shipped_ones() -> None:
    extra = (
        PatternRule("acme_bot", Kind.NOTIFICATION, "header:X-Acme-Bot", r"\S", None, 1.0),
        PatternRule("acme_ack", Kind.TICKET_ACK, "body", r"\bvorgang \d+ angelegt", "de", 1.5),
        PatternRule("acme_human", Kind.HUMAN, "subject", r"^\[person\]", None, 5.0),
    )
    classifier = Classifier(ClassifierSettings(extra_rules=extra))
    assert classify(mail(("X-Acme-Bot", "1")), classifier).kind is Kind.NOTIFICATION
    ack = classify(mail(body="Ihr Vorgang 4711 angelegt. Wir melden uns."), classifier)
    assert ack.kind is Kind.TICKET_ACK
    person = classify(mail(("Auto-Submitted", "auto-replied"), subject="[person] hi"), classifier)
    assert not person.automated


@pytest.mark.parametrize(
    "rule",
    [
        PatternRule("bad_target", Kind.BULK, "envelope", "x"),
        PatternRule("bad_regex", Kind.BULK, "subject", "(unclosed"),
    ],
)
def test_invalid_extra_rules_are_rejected_with_their_name(rule: PatternRule) -> None:
    with pytest.raises(ValueError, match=rule.name):
        Classifier(ClassifierSettings(extra_rules=(rule,)))


def test_evidence_names_what_matched() -> None:
    result = classify(mail(("Auto-Submitted", "auto-replied"), subject="Abwesenheitsnotiz: x"))
    matched = {item.rule: item.matched for item in result.evidence}
    assert matched["rfc3834_auto_replied"] == "Auto-Submitted: auto-replied"
    assert matched["subject_out_of_office"] == "Abwesenheitsnotiz:"


def test_order_confirmation_from_a_shop_robot() -> None:
    raw = mail(
        subject="Bestellbestätigung 4711",
        sender="Shop <bestellung@shop.example.de>",
        body="Vielen Dank für Ihre Bestellung. Diese E-Mail wurde automatisch erstellt.",
    )
    result = classify(raw)
    assert result.automated
    assert result.kind in (Kind.NOTIFICATION, Kind.AUTO_REPLY)
