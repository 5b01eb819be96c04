"""Raw-message building blocks for scripts/gen_classify_set.py (headers, MIME parts).

Messages are assembled as bytes by hand, not with email.message, so that the header
order, folding and encodings look like what the imitated systems actually send.
"""

from __future__ import annotations

import base64
import quopri
import random
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr

BASE_DATE = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def enc(text: str) -> str:
    """RFC 2047-encode a header text when it is not plain ASCII."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def addr(name: str, address: str) -> str:
    """A From/To value with an encoded display name."""
    return formataddr((name, address), charset="utf-8") if name else address


def when(rng: random.Random) -> datetime:
    """A plausible date in March 2025, in a European time zone."""
    return BASE_DATE + timedelta(minutes=rng.randrange(0, 60 * 24 * 28))


def date_header(moment: datetime, offset_hours: int = 1) -> str:
    from datetime import timezone

    return format_datetime(moment.astimezone(timezone(timedelta(hours=offset_hours))))


def msgid(rng: random.Random, domain: str, style: str = "plain") -> str:
    token = "".join(rng.choice("0123456789abcdef") for _ in range(16))
    if style == "gmail":
        return f"<CA+{token.upper()}x{rng.randrange(10**9)}@mail.gmail.com>"
    if style == "outlook":
        host = f"AM{rng.randrange(1, 9)}PR0{rng.randrange(1, 9)}MB{rng.randrange(1000, 9999)}"
        return f"<{host}{token.upper()}@{host}.eurprd0{rng.randrange(1, 9)}.prod.outlook.com>"
    return f"<{token}.{rng.randrange(10**6)}@{domain}>"


def received(rng: random.Random, sender_host: str, moment: datetime) -> str:
    ip = f"192.0.2.{rng.randrange(2, 250)}"
    qid = "".join(rng.choice("0123456789ABCDEF") for _ in range(10))
    return (
        f"from {sender_host} ({sender_host} [{ip}])\r\n\tby mx1.support.example.com "
        f"(Postfix) with ESMTPS id {qid}\r\n\tfor <support@support.example.com>; "
        f"{date_header(moment)}"
    )


def text_part(text: str, cte: str = "quoted-printable", ctype: str = "text/plain") -> bytes:
    """One MIME entity (headers + body) holding ``text``."""
    data = text.replace("\n", "\r\n").encode("utf-8")
    if cte == "quoted-printable":
        body = quopri.encodestring(data)
    elif cte == "base64":
        body = base64.encodebytes(data)
    else:
        body = data
    head = f"Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: {cte}\r\n"
    return head.encode() + b"\r\n" + body


def html_of(text: str, quoted: str = "") -> str:
    paragraphs = "".join(f"<p>{line}</p>\r\n" for line in text.split("\n\n"))
    quote = f'<blockquote type="cite">{quoted}</blockquote>' if quoted else ""
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p{margin:0}</style></head><body>\r\n" + paragraphs + quote + "</body></html>"
    )


def multipart(subtype: str, parts: list[bytes], rng: random.Random, params: str = "") -> bytes:
    """A multipart entity (headers + body) around already-built parts."""
    boundary = f"----=_Part_{rng.randrange(10**6)}_{rng.randrange(10**9)}"
    lines = [
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\r\n\r\n'.encode(),
        b"This is a multi-part message in MIME format.\r\n",
    ]
    for part in parts:
        lines.append(f"\r\n--{boundary}\r\n".encode() + part)
    lines.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(lines)


def attachment(name: str, size: int, rng: random.Random) -> bytes:
    payload = base64.encodebytes(rng.randbytes(size))
    return (
        f'Content-Type: application/pdf; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
        f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
    ).encode() + payload


def assemble(headers: list[tuple[str, str]], entity: bytes) -> bytes:
    """Header fields followed by an entity that starts with its own Content-* fields."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("utf-8") + b"MIME-Version: 1.0\r\n" + entity
