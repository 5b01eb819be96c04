"""Delivery status notifications (RFC 3464) for recipients the upstream refused for good."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from mailguard.smtp.dsn import delivery_status_notification, status_of
from mailguard.smtp.receipts import envelope_digest

ORIGINAL = (
    b"From: support@example.com\r\nTo: dora@customer.example, erik@customer.example\r\n"
    b"Subject: Re: hours\r\nMessage-ID: <hours@example.com>\r\n\r\nsecret body\r\n"
)
AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "text", "status"),
    [
        (550, "5.1.1 <dora@customer.example>: no such user", "5.1.1"),
        (552, "mailbox full", "5.0.0"),
        (554, " 5.7.1 relaying denied", "5.7.1"),
    ],
)
def test_status_is_the_enhanced_code_given_or_a_class(code: int, text: str, status: str) -> None:
    assert status_of(code, text) == status


def test_the_report_names_each_refused_recipient_and_only_the_header() -> None:
    raw = delivery_status_notification(
        ORIGINAL,
        sender="support@example.com",
        refused={
            "dora@customer.example": (550, "5.1.1 no such user"),
            "fred@customer.example": (553, "5.1.3 bad address"),
        },
        reporting_mta="mailguard.example.com",
        remote_mta="relay.example.com",
        arrived=AT,
        now=AT,
    )
    report = email.message_from_bytes(raw, policy=email.policy.default)
    assert report["To"].addresses[0].addr_spec == "support@example.com"
    assert report["Auto-Submitted"] == "auto-replied"
    assert report.get_content_type() == "multipart/report"
    assert report.get_param("report-type") == "delivery-status"
    notice, status, headers = report.iter_parts()
    assert "dora@customer.example" in notice.get_content()
    per_message, *recipients = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; mailguard.example.com"
    assert [r["Final-Recipient"] for r in recipients] == [
        "rfc822; dora@customer.example",
        "rfc822; fred@customer.example",
    ]
    assert [r["Status"] for r in recipients] == ["5.1.1", "5.1.3"]
    assert all(r["Action"] == "failed" for r in recipients)
    assert headers.get_content_type() == "text/rfc822-headers"
    assert b"Message-ID: <hours@example.com>" in raw
    assert b"secret body" not in raw


def test_the_envelope_digest_ignores_case_order_and_brackets() -> None:
    one = envelope_digest("<Support@Example.com>", ["b@x", "A@y"])
    assert one == envelope_digest("support@example.com", ["a@y", "<b@x>"])
    assert one != envelope_digest("support@example.com", ["a@y"])
