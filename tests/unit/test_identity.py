"""Subject normalisation, customer identity, thread ids and derived Message-IDs."""

from __future__ import annotations

import pytest

from mailguard.domain.identity import (
    customer_of,
    derive_message_id,
    fold_plus_tag,
    infer_direction,
    normalize_subject,
    thread_ids,
)
from mailguard.domain.model import Direction


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Gutschein ungültig", "gutschein ungültig"),
        ("Re: Gutschein ungültig", "gutschein ungültig"),
        ("AW: WG: Gutschein  ungültig", "gutschein ungültig"),
        ("RE[2]: Order 55", "order 55"),
        ("Re(3): Re^2: Order 55", "order 55"),
        ("Fwd: FW: TR: order", "order"),
        ("SV: Antw: Doorst.: Enc: RV: Réf : bestelling", "bestelling"),
        ("Antw.: vraag", "vraag"),
        ("[#1234] Re: my refund", "my refund"),
        ("Re: [Ticket#123] my refund", "my refund"),
        ("AW: my refund (#123)", "my refund"),
        ("Re: [Ticket #98765] Re: my refund", "my refund"),
        ("AW: Automatische Antwort: Mein Gutschein", "mein gutschein"),
        ("Automatic reply: Where is my parcel?", "where is my parcel"),
        ("Reminder: invoice", "reminder: invoice"),
        ("Re: [2] items", "[2] items"),
        ("Return policy", "return policy"),
        ("", ""),
    ],
)
def test_normalize_subject(subject: str, expected: str) -> None:
    assert normalize_subject(subject) == expected


OWN = ("example.com",)
OWN_ADDR = ("helpdesk@outsourced.example.net",)


@pytest.mark.parametrize(
    ("address", "fold", "expected"),
    [
        ("kunde@example.org", True, "kunde@example.org"),
        ("Kunde@Example.org", True, "kunde@example.org"),
        ("kunde+shop@example.org", True, "kunde@example.org"),
        ("kunde+shop@example.org", False, "kunde+shop@example.org"),
        ("support@example.com", True, None),
        ("agent@eu.mail.example.com", True, None),
        ("helpdesk@outsourced.example.net", True, None),
        ("helpdesk+x@outsourced.example.net", True, None),
        ("other@outsourced.example.net", True, "other@outsourced.example.net"),
        ("someone@notexample.com", True, "someone@notexample.com"),
        ("", True, None),
        (None, True, None),
        ("not-an-address", True, None),
        ("+@example.org", True, "+@example.org"),
    ],
)
def test_customer_of(address: str | None, fold: bool, expected: str | None) -> None:
    assert customer_of(address, OWN, OWN_ADDR, fold) == expected


def test_fold_plus_tag_keeps_non_addresses() -> None:
    assert fold_plus_tag("nobody") == "nobody"


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("support@example.com", Direction.OUTBOUND),
        ("kunde@example.org", Direction.INBOUND),
        (None, Direction.INBOUND),
        ("helpdesk@outsourced.example.net", Direction.OUTBOUND),
    ],
)
def test_infer_direction(sender: str | None, expected: Direction) -> None:
    assert infer_direction(sender, OWN, OWN_ADDR) is expected


def test_thread_ids_order_and_dedup() -> None:
    ids = thread_ids("<c@x>", ["<b@x>"], ["<a@x>", "<b@x>", ""])
    assert ids == ("c@x", "b@x", "a@x")
    assert thread_ids(None, [], []) == ()


def test_derived_message_id_is_stable_across_transports() -> None:
    proxy = (
        b"From: support@example.com\r\nTo: kunde@example.org\r\nSubject: Re: x\r\n"
        b"Date: Mon, 2 Mar 2026 08:00:00 +0000\r\nX-Mailer: helpdesk\r\n\r\nbody\r\n"
    )
    sent = (
        b"Received: from localhost\nDate: Mon, 2 Mar 2026 08:00:00 +0000\nFrom: support@example.com"
        b"\nTo: kunde@example.org\nSubject: Re:\n x\n\nbody\n"
    )
    assert derive_message_id(proxy) == derive_message_id(sent)
    assert derive_message_id(proxy).endswith("@derived")
    other = proxy.replace(b"Re: x", b"Re: y")
    assert derive_message_id(other) != derive_message_id(proxy)
    assert derive_message_id(b"garbage without headers").startswith("mg-")
