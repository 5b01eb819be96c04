"""MessageFacts: header decoding, addresses, ids, dates, bounded body text."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from mailguard.domain.facts import normalize_address, parse_facts
from tests.unit.classify_mail import mail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna@Example.ORG", "anna@example.org"),
        ("  <anna@example.org>  ", "anna@example.org"),
        ("info@bücher.de", "info@xn--bcher-kva.de"),
        ("mailto:Bob@x.com", "bob@x.com"),
        ("no-at-sign", ""),
        ("two words@x.com", ""),
        ("@x.com", ""),
        ("a@", ""),
        ("a@b..c", ""),
        ("", ""),
        ("<>", ""),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


def test_header_fields_are_decoded_and_normalised() -> None:
    raw = mail(
        ("Cc", '"Müller, Jürgen" <J.Mueller@Beispiel.DE>, b@y.com'),
        ("Reply-To", "<Help@Example.com>"),
        ("In-Reply-To", "<a@x> <b@y>"),
        ("References", "<r1@x>\r\n <r2@y>"),
        ("Return-Path", "<>"),
        subject="Prüfung   der\r\n Rechnung",
        sender="=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.ORG>",
    )
    facts = parse_facts(raw)
    assert facts.subject == "Prüfung der Rechnung"
    assert facts.from_addr == "juergen@example.org"
    assert facts.from_name == "Jürgen Müller"
    assert facts.to_addrs == ("support@example.com",)
    assert facts.cc_addrs == ("j.mueller@beispiel.de", "b@y.com")
    assert facts.reply_to == ("help@example.com",)
    assert facts.in_reply_to == ("a@x", "b@y")
    assert facts.references == ("r1@x", "r2@y")
    assert facts.message_id == "m1@example.org"
    assert facts.return_path == ""
    assert facts.date == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    assert facts.size == len(raw)
    assert facts.malformed == ()
    assert facts.header("x-missing") is None
    assert facts.header("SUBJECT") == "Prüfung der Rechnung"


def test_encoded_words_joined_across_folds() -> None:
    facts = parse_facts(
        mail(subject="=?iso-8859-1?q?Abwesenheitsnotiz:_Pr=FCfung?=\r\n =?utf-8?b?IGbDvHI=?=")
    )
    assert facts.subject == "Abwesenheitsnotiz: Prüfung für"


def test_body_text_strips_quotes_and_signature() -> None:
    body = (
        "Hallo,\n\nzum dritten Mal: wo bleibt meine Erstattung?\n\nGruß\nAnna\n-- \nAnna Schmidt\n"
        "Am 03.03.2025 um 10:00 schrieb Support <s@x.de>:\n> Vielen Dank für Ihre Nachricht.\n"
    )
    text = parse_facts(mail(body=body)).body_text()
    assert "dritten Mal" in text
    assert "Vielen Dank" not in text
    assert "Anna Schmidt" not in text


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, 3 Mar 2025 at 10:00, Support <s@x.com> wrote:\n> We are out of office.",
        "Le lun. 3 mars 2025 à 10:00, Support <s@x.fr> a écrit :\n> Réponse automatique",
        "Em seg., 3 de mar. de 2025 às 10:00, Suporte <s@x.pt> escreveu:\n> Resposta automática",
        "Von: Support <s@x.de>\nGesendet: Montag, 3. März 2025 10:00\nAn: a@b.de\n"
        "Betreff: Automatische Antwort\n\nIch bin nicht im Büro.",
        "-----Original Message-----\nFrom: Support\nI am out of the office.",
        "---------- Forwarded message ---------\nFrom: Mail Delivery System\nUndeliverable",
    ],
)
def test_history_formats_are_cut(history: str) -> None:
    text = parse_facts(mail(body="My own words.\n\n" + history)).body_text()
    assert text == "My own words."


def test_html_only_body_is_converted_and_blockquote_dropped() -> None:
    html = (
        "<html><head><style>p{x:1}</style></head><body><p>Hello &amp; thanks</p>"
        "<blockquote>I am out of the office</blockquote></body></html>"
    )
    facts = parse_facts(mail(body=html, ctype="text/html; charset=utf-8"))
    assert facts.body_text() == "Hello & thanks"
    assert facts.body_is_html()


def test_first_text_part_of_nested_multipart_is_used() -> None:
    body = (
        "--A\nContent-Type: multipart/alternative; boundary=B\n\n--B\n"
        "Content-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Gr=FC=DFe aus K=F6ln\n--B\nContent-Type: text/html\n\n<p>html</p>\n--B--\n"
        "--A\nContent-Type: application/pdf\n\nJVBER\n--A--\n"
    )
    facts = parse_facts(mail(body=body, ctype='multipart/mixed; boundary="A"'))
    assert facts.body_text() == "Grüße aus Köln"
    assert facts.body_defects() == ()


def test_attachment_size_does_not_matter() -> None:
    blob = base64.encodebytes(b"\0" * (3 * 1024 * 1024)).decode()
    body = (
        "--A\nContent-Type: text/plain\n\nsee attachment\n--A\nContent-Type: application/pdf\n"
        f"Content-Transfer-Encoding: base64\n\n{blob}\n--A--\n"
    )
    raw = mail(body=body, ctype='multipart/mixed; boundary="A"')
    facts = parse_facts(raw)
    assert facts.body_text() == "see attachment"
    assert facts.size == len(raw)
    # Facts keep only the window the body walker reads, never the whole message.
    assert len(facts._body) <= 128 * 1024


def test_mentioned_addresses_come_from_own_text_only() -> None:
    body = (
        "Please contact our partner at Partner@Example.NET or help@bücher.de.\n\n"
        "On Mon, Support <s@x.com> wrote:\n> write to quoted@example.com"
    )
    facts = parse_facts(mail(body=body))
    assert facts.mentioned_addresses() == ("partner@example.net", "help@xn--bcher-kva.de")


def test_date_without_zone_is_utc_and_bad_date_is_reported() -> None:
    naive = parse_facts(b"From: a@b.c\r\nDate: Mon, 03 Mar 2025 10:00:00 -0000\r\n\r\nhi")
    assert naive.date == datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    broken = parse_facts(b"From: a@b.c\r\nDate: yesterday-ish\r\nMessage-ID: <x@y>\r\n\r\nhi")
    assert broken.date is None
    assert any("Date" in defect for defect in broken.malformed)


@pytest.mark.parametrize(
    "address",
    ["0@\u00a8", "0@a\u00a8b.xn--", "0@\u2024", "0@xn--\u2025-ccb", "0@\ufe64", "0@xn--\ufe65"],
)
def test_idna_mappings_that_make_no_host_name_are_not_addresses(address: str) -> None:
    # NFKC turns these into a space and a combining mark, dots or brackets: the first
    # normalisation used to return a "domain" the second one rejected.
    assert normalize_address(address) == ""
