"""The envelope of every mail mailguard writes to its agents: headers, Message-ID, bytes.

Notifications (:mod:`mailguard.executor.notify`) and retention notices
(:mod:`mailguard.executor.notices`) share it. The Message-ID is derived from the outbox
action's idempotency key, so every attempt at one action sends the same message.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

NOTIFY_HEADER = "X-Mailguard-Notification"


def notification_message_id(idempotency_key: str) -> str:
    """The notification's Message-ID: the same for every attempt at one action."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"notify-{digest}@mailguard.invalid"


def compose(
    *,
    sender: str,
    recipient: str,
    subject: str,
    body: str,
    idempotency_key: str,
    marker: str,
    language: str,
    now: datetime,
) -> bytes:
    """An RFC 5322 message with CRLF line ends, ready for the relay.

    ``marker`` is the value of ``X-Mailguard-Notification`` (the level, or the notice).
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg["Message-ID"] = f"<{notification_message_id(idempotency_key)}>"
    # RFC 3834: an automatic message; no auto-responder should answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg[NOTIFY_HEADER] = marker
    msg.set_content(body)
    # After set_content, which replaces every Content-* header.
    msg["Content-Language"] = language
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
