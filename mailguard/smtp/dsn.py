"""Delivery status notifications (RFC 3464) for recipients the upstream refused for good.

The proxy answers its client for the whole message at the end of DATA, after the upstream
has answered each RCPT. When the upstream accepts some recipients and refuses others with a
5xx, the client gets 250 (the message did leave, to the others) and the refused recipients
are reported the way any MTA reports them: a ``multipart/report`` (RFC 6522) with a
``message/delivery-status`` part (RFC 3464) to the envelope sender, from the null sender so
that it is never answered or bounced itself (RFC 5321 §4.5.5, §6.1), and with the original
message's header (``text/rfc822-headers``) so the sender knows which message it was.

Pure: bytes in, bytes out, the time passed in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime, make_msgid

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")


def status_of(code: int, text: str) -> str:
    """The RFC 3463 status of a refusal: the enhanced code the upstream gave, else X.0.0."""
    match = _ENHANCED.match(text.strip())
    if match is not None:
        return ".".join(match.groups())
    return f"{str(code)[:1] if 400 <= code < 600 else '5'}.0.0"


def header_of(raw: bytes) -> bytes:
    """The header block of a message (up to the first blank line)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        cut = raw.find(separator)
        if cut >= 0:
            return raw[: cut + len(separator)]
    return raw


def delivery_status_notification(
    raw: bytes,
    *,
    sender: str,
    refused: Mapping[str, tuple[int, str]],
    reporting_mta: str,
    remote_mta: str,
    arrived: datetime,
    now: datetime,
) -> bytes:
    """A failure DSN to ``sender`` for the ``refused`` recipients of ``raw``."""
    failed = sorted(refused)
    boundary = make_msgid(domain=reporting_mta).strip("<>").replace("@", "/")
    explanation = "\r\n".join(
        [
            f"This is the mail system at {reporting_mta}.",
            "",
            "Your message could not be delivered to the recipients below: the next mail",
            "server refused them permanently. Any other recipients were delivered to.",
            "",
            *(f"<{r}>: {remote_mta} said: {refused[r][0]} {refused[r][1]}" for r in failed),
            "",
        ]
    )
    per_recipient = "".join(
        f"\r\nFinal-Recipient: rfc822; {rcpt}\r\n"
        "Action: failed\r\n"
        f"Status: {status_of(*refused[rcpt])}\r\n"
        f"Remote-MTA: dns; {remote_mta}\r\n"
        f"Diagnostic-Code: smtp; {refused[rcpt][0]} {refused[rcpt][1]}\r\n"
        for rcpt in failed
    )
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{reporting_mta}>\r\n"
        f"To: <{sender}>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(now)}\r\n"
        f"Message-ID: {make_msgid(domain=reporting_mta)}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
    )
    parts = (
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Content-Description: Notification\r\n\r\n"
        f"{explanation}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n"
        "Content-Description: Delivery report\r\n\r\n"
        f"Reporting-MTA: dns; {reporting_mta}\r\n"
        f"Arrival-Date: {format_datetime(arrived)}\r\n"
        f"{per_recipient}\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "Content-Description: Undelivered message headers\r\n\r\n"
    )
    tail = f"--{boundary}--\r\n"
    original = header_of(raw).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return (head + parts).encode("utf-8", "replace") + original + tail.encode()
