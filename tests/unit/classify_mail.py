"""Builds small raw messages for the classifier's unit tests."""

from __future__ import annotations

from email.header import Header


def mail(
    *headers: tuple[str, str],
    body: str = "Hello,\n\ncould you check my invoice please?\n\nThanks\nAnna",
    subject: str = "Question about my invoice",
    sender: str = "Anna Schmidt <anna@example.org>",
    ctype: str = "text/plain; charset=utf-8",
) -> bytes:
    """A CRLF message with the usual fields plus ``headers``; non-ASCII subjects encoded."""
    encoded = subject if subject.isascii() else Header(subject, "utf-8").encode()
    fields = [
        ("From", sender),
        ("To", "Support <support@example.com>"),
        ("Subject", encoded),
        ("Date", "Mon, 03 Mar 2025 10:00:00 +0100"),
        ("Message-ID", "<m1@example.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", ctype),
        ("Content-Transfer-Encoding", "8bit"),
        *headers,
    ]
    head = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")
