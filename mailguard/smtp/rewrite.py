"""Rewriting an automated reply that goes to a customer who is with a person.

``rewrite`` adds ``X-Mailguard-*`` headers, an optional subject prefix and a short handover
sentence at the top of the first text/plain and the first text/html body part. The MIME
structure stays as it was: only those two leaves get new content (re-encoded with their own
charset and transfer encoding chosen by the email package), attachments and every other
part are untouched. ``divert`` readdresses the message to the agents, keeping the original
recipients in a header so the agent can answer the customer.

Pure functions on bytes; the proxy runs them in a worker thread for big messages.
"""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage, Message

_POLICY = email.policy.SMTP.clone(max_line_length=998)
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def _leaves(msg: Message) -> list[Message]:
    return [p for p in msg.walk() if not p.is_multipart()]


def _is_body(part: Message, subtype: str) -> bool:
    return (
        part.get_content_type() == f"text/{subtype}"
        and part.get_content_disposition() != "attachment"
    )


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _set_text(part: Message, text: str) -> None:
    charset = part.get_content_charset() or "utf-8"
    try:
        text.encode(charset)
    except (LookupError, UnicodeEncodeError):
        charset = "utf-8"
    if not isinstance(part, EmailMessage):  # parsed with _class=EmailMessage: always true
        raise TypeError("expected an EmailMessage part")
    subtype = part.get_content_subtype()
    disposition = part.get("Content-Disposition")
    part.set_content(text, subtype=subtype, charset=charset, cte="quoted-printable")
    if disposition is not None:
        part.replace_header("Content-Disposition", disposition)


def _insert_html(markup: str, sentence: str) -> str:
    block = f'<p class="mailguard-handover">{html.escape(sentence)}</p>'
    match = _BODY_TAG.search(markup)
    if match is None:
        return block + markup
    return markup[: match.end()] + block + markup[match.end() :]


def rewrite(
    raw: bytes,
    *,
    sentence: str,
    subject_prefix: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    """The message with the handover sentence, subject prefix and headers added."""
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=_POLICY)
    for name, value in (headers or {}).items():
        del msg[name]
        msg[name] = value
    if subject_prefix:
        subject = str(msg.get("Subject", ""))
        if not subject.startswith(subject_prefix):
            del msg["Subject"]
            msg["Subject"] = subject_prefix + subject
    leaves = _leaves(msg)
    plain = next((p for p in leaves if _is_body(p, "plain")), None)
    markup = next((p for p in leaves if _is_body(p, "html")), None)
    if plain is not None:
        _set_text(plain, f"{sentence}\n\n{_text_of(plain)}")
    if markup is not None:
        _set_text(markup, _insert_html(_text_of(markup), sentence))
    return msg.as_bytes(policy=_POLICY)


def divert(raw: bytes, *, original_recipients: list[str], reason: str) -> bytes:
    """The message as diverted to the agents: headers naming whom it was meant for, and why."""
    head = (
        f"X-Mailguard-Diverted-From: {', '.join(original_recipients)}\r\n"
        f"X-Mailguard-Reason: {' '.join(reason.split())}\r\n"
    ).encode()
    # Prepending header fields keeps the rest of the message byte for byte.
    return head + raw
