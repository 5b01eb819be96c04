"""Hypothesis properties: facts and classification are total and stay within their ranges."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailguard.domain.classify import Classifier
from mailguard.domain.facts import normalize_address, parse_facts
from mailguard.domain.model import Kind

CLASSIFIER = Classifier()
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEADER_NAMES = st.sampled_from(
    [
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Date",
        "Return-Path",
        "Auto-Submitted",
        "Precedence",
        "List-Id",
        "Content-Type",
        "Content-Transfer-Encoding",
        "X-Autoreply",
        "X-Auto-Response-Suppress",
        "Sender",
    ]
)
VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "<>",
            "auto-replied",
            "no",
            "bulk",
            "=?utf-8?q?=C3=A4?=",
            "=?bogus?b?!!!?=",
            'multipart/mixed; boundary="b"',
            "multipart/report; report-type=delivery-status",
            "text/plain; charset=x-none",
            "base64",
            "quoted-printable",
            "Mon, 99 Foo 2025",
            '"a, b" <a@b.c>, <@>, mailto:x',
            "undisclosed-recipients:;",
        ]
    ),
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", b"--b\r\n\r\n"]),
)


def check(raw: bytes) -> None:
    facts = parse_facts(raw)
    result = CLASSIFIER.classify(facts)
    assert 0.0 <= result.confidence <= 1.0
    assert 0.0 <= result.frustration <= 1.0
    assert result.automated == (result.kind is not Kind.HUMAN)
    assert result.malformed == any(item.rule == "malformed" for item in result.evidence)
    assert isinstance(facts.body_text(), str)
    assert all("@" in address for address in facts.mentioned_addresses())


@FAST
@given(st.binary(max_size=4000))
def test_any_bytes(raw: bytes) -> None:
    check(raw)


@FAST
@given(st.lists(st.tuples(HEADER_NAMES, VALUES), max_size=25), BODIES)
def test_structured_messages(fields: list[tuple[str, str]], body: bytes) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    check(head.encode("utf-8", "surrogatepass") + b"\r\n" + body)


@FAST
@given(st.text(max_size=60))
def test_normalize_address_is_idempotent(text: str) -> None:
    once = normalize_address(text)
    assert normalize_address(once) == once
    assert once == "" or ("@" in once and once == once.lower())
