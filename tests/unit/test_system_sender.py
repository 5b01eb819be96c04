"""A person at root@, noreply@, postmaster@: human when a person's mail program and a
person's words say so; the robots at those addresses stay robots."""

from __future__ import annotations

import pytest

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import parse_facts
from mailguard.domain.model import Kind
from tests.unit.classify_mail import mail

CLASSIFIER = Classifier()
OUTLOOK = ("X-Mailer", "Microsoft Outlook 16.0")
THUNDERBIRD = ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Thunderbird/115.9.0")
PERSONAL = "Hi,\n\nI'm writing from the server's mailbox, mine isn't set up yet.\n\nMark"


def rules(raw: bytes) -> set[str]:
    return {e.rule for e in CLASSIFIER.classify(parse_facts(raw)).evidence}


@pytest.mark.parametrize(
    ("sender", "headers", "body"),
    [
        ("root@host.internal", (THUNDERBIRD,), PERSONAL),
        # The real case: Outlook, a no-reply envelope sender, X-Auto-Response-Suppress.
        (
            "Mark <noreply@example.org>",
            (
                OUTLOOK,
                ("Return-Path", "<noreply@example.org>"),
                ("X-Auto-Response-Suppress", "All"),
            ),
            PERSONAL,
        ),
        (
            "postmaster@baeckerei.example.de",
            (("X-Mailer", "Apple Mail (2.3774)"),),
            "Guten Tag,\n\nich schreibe von unserer einzigen Adresse. Geht Mittwoch?\n\nNadia",
        ),
    ],
)
def test_a_person_at_a_system_address_is_human(
    sender: str, headers: tuple[tuple[str, str], ...], body: str
) -> None:
    raw = mail(*headers, sender=sender, body=body)
    result = CLASSIFIER.classify(parse_facts(raw))
    assert not result.automated and result.kind is Kind.HUMAN, result.evidence
    assert "person_at_system_address" in {e.rule for e in result.evidence}


def test_without_a_persons_mail_program_the_address_counts() -> None:
    raw = mail(sender="Mark <noreply@example.org>", body=PERSONAL)
    assert "person_at_system_address" not in rules(raw)


def test_without_first_person_words_the_address_counts() -> None:
    raw = mail(
        OUTLOOK,
        ("Return-Path", "<noreply@example.org>"),
        sender="noreply@example.org",
        body="Backup finished: 14 tables.",
    )
    result = CLASSIFIER.classify(parse_facts(raw))
    assert result.automated, result.evidence
    assert "person_at_system_address" not in {e.rule for e in result.evidence}


def test_a_bounce_with_a_mail_programs_header_stays_a_bounce() -> None:
    raw = mail(
        ("X-Mailer", "Apple Mail (2.1878.6)"),
        sender="postmaster@mail.example.com",
        subject="Undelivered Mail Returned to Sender",
        ctype='multipart/report; report-type=delivery-status; boundary="b"',
        body="--b\nContent-Type: text/plain\n\nI'm sorry, your message could not be delivered."
        "\n--b\nContent-Type: message/delivery-status\n\nAction: failed\nStatus: 5.1.1\n--b--",
    )
    result = CLASSIFIER.classify(parse_facts(raw))
    assert result.automated and result.kind is Kind.BOUNCE, result.evidence
    assert "person_at_system_address" not in {e.rule for e in result.evidence}
