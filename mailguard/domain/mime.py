"""Bounded extraction of the readable text of a message body.

Only the first text/plain part (or, failing that, the first text/html part) matters for
classification, and it nearly always sits at the start of the body, before any attachment.
So instead of parsing the whole MIME tree, this walks part boundaries with ``bytes.find``
inside a fixed window. A 1 MB attachment after the text therefore costs nothing, and a
broken or hostile structure costs at most the window.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass

from mailguard.domain.headers import decode_bytes, parse_fields, split_head

# How far into the body we look for the text part; text beyond this is not read.
BODY_WINDOW = 128 * 1024
# Encoded bytes of one text part that we decode (base64 of ~24 KB of text).
MAX_ENCODED_TEXT = 32 * 1024
MAX_DEPTH = 20

_PARAM = re.compile(r';\s*([A-Za-z0-9_.*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)')
_HTML_DROP = re.compile(
    r"<(head|style|script|title)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
# Quoted history in HTML mail: <blockquote> (Apple Mail, Thunderbird, Gmail's gmail_quote)
# and Outlook's reply header block, which starts a div that runs to the end of the body.
_HTML_QUOTE = re.compile(
    r"<blockquote\b.*?</blockquote\s*>|<div[^>]*(?:divRplyFwdMsg|gmail_quote|moz-cite-prefix)"
    r"[^>]*>.*\Z",
    re.IGNORECASE | re.DOTALL,
)
_HTML_BREAK = re.compile(r"<(?:br|/p|/div|/tr|/h[1-6]|li|/li|p|div|tr|hr)\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]{0,2000}>")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]+")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")


@dataclass(frozen=True, slots=True)
class BodyText:
    """The first readable text of a body, and what went wrong while finding it."""

    text: str
    from_html: bool
    defects: tuple[str, ...]


def parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """(lower-case type/subtype, parameters) of a Content-Type value; text/plain if absent."""
    if not value:
        return "text/plain", {}
    main = value.split(";", 1)[0].strip().lower()
    params: dict[str, str] = {}
    for name, raw in _PARAM.findall(value):
        key = name.lower()
        if key not in params:
            params[key] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    if "/" not in main:
        main = "text/plain"
    return main, params


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body, with quoted history (blockquote, reply divs) removed."""
    markup = _HTML_DROP.sub(" ", markup)
    markup = _HTML_QUOTE.sub(" ", markup)
    markup = _HTML_BREAK.sub("\n", markup)
    text = html.unescape(_HTML_TAG.sub(" ", markup))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _decode_transfer(data: bytes, encoding: str, defects: list[str]) -> bytes:
    encoding = encoding.strip().lower()
    if encoding == "base64":
        compact = b"".join(data[:MAX_ENCODED_TEXT].split())
        if not _BASE64.fullmatch(compact):
            # The stdlib decoder silently skips foreign bytes; report them, then do the same.
            defects.append("broken base64 in a text part")
        compact = _NOT_BASE64.sub(b"", compact)
        compact = compact[: len(compact) - len(compact) % 4]
        try:
            return base64.b64decode(compact)
        except (binascii.Error, ValueError):
            return b""
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data[:MAX_ENCODED_TEXT])
    if encoding not in ("", "7bit", "8bit", "binary"):
        defects.append(f"unknown Content-Transfer-Encoding {encoding[:40]!r}")
    return data[:MAX_ENCODED_TEXT]


class _Walker:
    """Depth-first search for the first text/plain (else text/html) leaf in a body window."""

    def __init__(self) -> None:
        self.defects: list[str] = []
        self.html: str | None = None
        self.deepest = 0

    def leaf(self, body: bytes, ctype: str, params: dict[str, str], cte: str) -> str | None:
        data = _decode_transfer(body, cte, self.defects)
        text = decode_bytes(data, params.get("charset"), self.defects, f"the {ctype} part")
        if ctype == "text/html":
            if self.html is None:
                self.html = text
            return None
        return text

    def entity(self, head: bytes, body: bytes, depth: int, default: str, inner: bool) -> str | None:
        """Visit one MIME entity given its header block and body bytes."""
        fields, _ = parse_fields(head)
        values = {name: value for name, value in reversed(fields)}
        ctype_raw = values.get("content-type")
        ctype, params = parse_content_type(
            ctype_raw.decode("latin-1") if ctype_raw is not None else default
        )
        cte = values.get("content-transfer-encoding", b"").decode("latin-1")
        disposition = values.get("content-disposition", b"").decode("latin-1").lower()
        return self.visit(body, ctype, params, cte, disposition, depth, inner)

    def visit(
        self,
        body: bytes,
        ctype: str,
        params: dict[str, str],
        cte: str,
        disposition: str,
        depth: int,
        inner: bool,
    ) -> str | None:
        self.deepest = max(self.deepest, depth)
        if depth > MAX_DEPTH:
            self.defects.append(f"MIME nesting deeper than {MAX_DEPTH} levels")
            return None
        if ctype.startswith("multipart/"):
            return self.multipart(body, ctype, params, depth, inner)
        if ctype in ("message/rfc822", "message/global"):
            # An attached message is somebody else's words (a bounced original, a forward):
            # walk it for structural defects only, never take its text.
            head, start, _ = split_head(body)
            self.entity(head, body[start:], depth + 1, "text/plain", True)
            return None
        if inner or disposition.startswith("attachment"):
            return None
        if ctype in ("text/plain", "text/html"):
            return self.leaf(body, ctype, params, cte)
        return None

    def multipart(
        self, body: bytes, ctype: str, params: dict[str, str], depth: int, inner: bool
    ) -> str | None:
        boundary = params.get("boundary", "").encode("latin-1", "replace")
        if not boundary:
            self.defects.append(f"{ctype} without a boundary parameter")
            return None
        delimiter = b"--" + boundary
        pos = body.find(delimiter)
        if pos < 0:
            self.defects.append("MIME boundary never occurs in the body")
            return None
        default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
        while True:
            after = pos + len(delimiter)
            if body[after : after + 2] == b"--":
                return None
            line_end = body.find(b"\n", after)
            if line_end < 0:
                self.defects.append("multipart body ends inside a boundary line")
                return None
            nxt = body.find(b"\n" + delimiter, line_end)
            part = body[line_end + 1 : nxt if nxt >= 0 else len(body)]
            if part[:1] == b"\n" or part[:2] == b"\r\n":
                # No header fields at all: the part is all body, with default type.
                head, content = b"", part[part.find(b"\n") + 1 :]
            else:
                head, start, _ = split_head(part)
                content = part[start:]
            found = self.entity(head, content, depth + 1, default, inner)
            if found is not None:
                return found
            if nxt < 0:
                self.defects.append("multipart without a closing boundary")
                return None
            pos = nxt + 1


def first_text(
    body: bytes, content_type: str | None, transfer_encoding: str, clipped: bool = False
) -> BodyText:
    """The first text/plain part of ``body`` (or text from the first HTML part), bounded.

    ``clipped`` says the caller already cut ``body`` to the window; longer bodies are cut
    here.
    """
    walker = _Walker()
    if len(body) > BODY_WINDOW:
        body, clipped = body[:BODY_WINDOW], True
    ctype, params = parse_content_type(content_type)
    text = walker.visit(body, ctype, params, transfer_encoding, "", 0, False)
    if clipped:
        # Clipping is expected for big attachments; only a clipped *text* is worth noting,
        # and the multipart walker reports a missing closing boundary itself, so drop that.
        walker.defects = [d for d in walker.defects if "closing boundary" not in d]
    if text is not None:
        return BodyText(text, False, tuple(walker.defects))
    if walker.html is not None:
        return BodyText(html_to_text(walker.html), True, tuple(walker.defects))
    return BodyText("", False, tuple(walker.defects))
