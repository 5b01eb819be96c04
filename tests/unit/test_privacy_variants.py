"""Which text names a customer: plus-tag and case variants, not longer addresses."""

from __future__ import annotations

import base64

import pytest

from mailguard.domain.privacy import AddressVariants

CARL = AddressVariants.of("Carl+Shop@Customer.Example")


def test_the_base_address_is_lower_case_without_the_tag() -> None:
    assert (CARL.local, CARL.domain, CARL.address) == (
        "carl",
        "customer.example",
        "carl@customer.example",
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("carl@customer.example", True),
        ("CARL@Customer.EXAMPLE", True),
        ("carl+shop@customer.example", True),
        ("carl+other.tag@customer.example", True),
        ("From: Carl <carl@customer.example>", True),
        ('{"customer": "carl@customer.example"}', True),
        ("msg-1@customer.example#carl+x@customer.example", True),
        ("write to carl@customer.example.", True),
        ("mcarl@customer.example", False),
        ("karl.carl@customer.example", False),
        ("carl@customer.example.org", False),
        ("carl@customer.examples", False),
        ("carlos@customer.example", False),
        ("carl@other.example", False),
        ("", False),
    ],
)
def test_names(text: str, named: bool) -> None:
    assert CARL.names(text) is named


def test_matches_is_the_whole_value() -> None:
    assert CARL.matches("Carl@customer.example")
    assert CARL.matches("carl+a@customer.example")
    assert not CARL.matches("x carl@customer.example")
    assert not CARL.matches(None)


def test_names_json_searches_nested_values() -> None:
    assert CARL.names_json({"rcpt": ["dora@customer.example", "CARL+x@customer.example"]})
    assert not CARL.names_json({"rcpt": ["dora@customer.example"]})
    assert not CARL.names_json(None)


def test_names_bytes_finds_encoded_text() -> None:
    body = base64.b64encode(b"Please write to carl@customer.example again.\n").decode()
    raw = (
        "From: robot@example.com\r\nTo: someone@else.example\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{body}\r\n"
    ).encode()
    assert CARL.names_bytes(raw)
    soft = (
        b"From: robot@example.com\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncarl@custo=\r\nmer.example\r\n"
    )
    assert CARL.names_bytes(soft)
    assert not CARL.names_bytes(b"From: dora@customer.example\r\n\r\nhello\r\n")
    assert not CARL.names_bytes(b"")


def test_like_patterns_escape_wildcards() -> None:
    odd = AddressVariants.of("a_b%c@x.example")
    assert odd.like_patterns() == ("%a\\_b\\%c@x.example%", "%a\\_b\\%c+%@x.example%")


@pytest.mark.parametrize("bad", ["carl", "carl@", "@customer.example", "carl@localhost", "a b@c.d"])
def test_not_an_address(bad: str) -> None:
    with pytest.raises(ValueError, match="not an e-mail address"):
        AddressVariants.of(bad)
