"""The handover rewrite and the divert: content changed where intended, nothing else."""

from __future__ import annotations

import email
import email.policy

from mailguard.smtp.handler import HandoverText
from mailguard.smtp.rewrite import divert, rewrite

PLAIN_LATIN1 = (
    b"From: support@example.com\r\nTo: kunde@example.de\r\nSubject: Re: Bestellung\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n\r\nVielen Dank f\xfcr Ihre Nachricht.\r\n"
)
HTML_ONLY = (
    b"From: support@example.com\r\nTo: c@example.org\r\nSubject: Re: x\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Thanks</p>\r\n"
)


def parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def test_plain_text_keeps_its_charset_and_gets_the_sentence_first() -> None:
    out = parse(rewrite(PLAIN_LATIN1, sentence="Ein Mensch antwortet bald.", headers={"X-A": "1"}))
    assert out.get_content_charset() == "iso-8859-1"
    text = out.get_content().replace("\r\n", "\n")
    assert text == "Ein Mensch antwortet bald.\n\nVielen Dank für Ihre Nachricht.\n"
    assert out["X-A"] == "1"
    assert out["Subject"] == "Re: Bestellung"


def test_html_without_body_tag_gets_the_sentence_in_front() -> None:
    out = parse(rewrite(HTML_ONLY, sentence="A <person> answers.", subject_prefix="[p] "))
    assert out.get_content().startswith(
        '<p class="mailguard-handover">A &lt;person&gt; answers.</p>'
    )
    assert out["Subject"] == "[p] Re: x"


def test_subject_prefix_is_not_doubled() -> None:
    once = rewrite(HTML_ONLY, sentence="s", subject_prefix="[p] ")
    assert parse(rewrite(once, sentence="s", subject_prefix="[p] "))["Subject"] == "[p] Re: x"


def test_divert_prepends_headers_and_keeps_the_message_byte_for_byte() -> None:
    out = divert(PLAIN_LATIN1, original_recipients=["kunde@example.de"], reason="escalated\n x")
    head, _, rest = out.partition(b"X-Mailguard-Reason: escalated x\r\n")
    assert head == b"X-Mailguard-Diverted-From: kunde@example.de\r\n"
    assert rest == PLAIN_LATIN1


def test_handover_sentence_by_language() -> None:
    text = HandoverText("", {"en": "EN", "de": "DE"}, "en")
    assert (text.sentence("de"), text.sentence("fr"), text.sentence(None)) == ("DE", "EN", "EN")
