"""MessageFacts: what one raw message says, parsed once, headers eagerly and the body lazily.

``parse_facts`` reads only the header block up front. The body text (first text part,
quoted history and signature removed) is extracted on first use and cached, within a fixed
window, so the cost per message does not grow with attachment size.
"""

from __future__ import annotations

import re
from collections.abc import KeysView
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from mailguard.domain.headers import (
    collapse,
    decode_value,
    parse_address_list,
    parse_fields,
    split_head,
    split_ids,
    strip_id,
)
from mailguard.domain.mime import BODY_WINDOW, first_text
from mailguard.domain.quotes import strip_quotes

# The body text rules look at: the author's words rarely run longer, and bounding it keeps
# every pattern scan cheap.
BODY_TEXT_CHARS = 4096
# Text decoded before quote stripping; the author's words come first, history after.
RAW_TEXT_CHARS = 16384

_MENTIONED = re.compile(r"[\w.+'-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+", re.UNICODE)
_ADDRESS_FIELDS = ("from", "to", "cc", "reply-to")


def normalize_address(addr: str) -> str:
    """Canonical form of an e-mail address: lower case, IDNA domain, no brackets or spaces.

    Returns "" for anything that is not ``local@domain``.
    """
    cleaned = addr.strip().strip("<>").strip().rstrip(".")
    if cleaned.lower().startswith("mailto:"):
        cleaned = cleaned[7:]
    local, sep, domain = cleaned.rpartition("@")
    if not sep or not local or not domain or len(cleaned.split()) != 1:
        return ""
    if "@" in local and not (local.startswith('"') and local.endswith('"')):
        return ""
    domain = domain.strip(".").lower()
    if domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return ""
    # Checked after IDNA: its NFKC mapping can turn one character into a space plus a
    # combining mark ("¨"), into dots ("‥") or into brackets ("﹤"), which no host name
    # contains.
    if not domain or ".." in domain or domain != domain.strip(".") or len(domain.split()) != 1:
        return ""
    if "<" in domain or ">" in domain or "@" in domain:
        return ""
    return f"{local.lower()}@{domain}"


@dataclass(frozen=True)
class MessageFacts:
    """The parsed facts of one message. Build with :func:`parse_facts`."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    from_addr: str | None
    from_name: str
    to_addrs: tuple[str, ...]
    cc_addrs: tuple[str, ...]
    reply_to: tuple[str, ...]
    return_path: str | None
    date: datetime | None
    size: int
    malformed: tuple[str, ...]
    _raw_headers: tuple[tuple[str, bytes], ...] = field(default=(), repr=False, compare=False)
    _first: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)
    _clipped: bool = field(default=False, repr=False, compare=False)
    _body: bytes = field(default=b"", repr=False, compare=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def header(self, name: str) -> str | None:
        """The decoded value of the first field called ``name`` (case-insensitive), or None."""
        return self.header_lower(name.lower())

    def header_lower(self, key: str) -> str | None:
        """:meth:`header` for a name already in lower case (the classifier's hot path)."""
        raw = self._first.get(key)
        if raw is None:
            return None
        cached = self._cache.get(key)
        if isinstance(cached, str):
            return cached
        value = collapse(decode_value(raw, []))
        self._cache[key] = value
        return value

    def field_names(self) -> KeysView[str]:
        """Lower-case names of the header fields present (a set-like view)."""
        return self._first.keys()

    def header_all(self, name: str) -> tuple[str, ...]:
        """Decoded values of every field called ``name``, in order."""
        key = name.lower()
        return tuple(collapse(decode_value(raw, [])) for n, raw in self._raw_headers if n == key)

    def has_header(self, name: str) -> bool:
        """Whether a field called ``name`` is present at all (even empty)."""
        return name.lower() in self._first

    @property
    def content_type(self) -> str:
        """The top-level type/subtype, lower case (text/plain when absent)."""
        value = self.header("content-type")
        if not value:
            return "text/plain"
        return value.split(";", 1)[0].strip().lower() or "text/plain"

    def _extract(self) -> tuple[str, str, bool, tuple[str, ...]]:
        cached = self._cache.get(" body")
        if isinstance(cached, tuple):
            return cached
        extracted = first_text(
            self._body,
            self.header("content-type"),
            self.header("content-transfer-encoding") or "",
            self._clipped,
        )
        full = extracted.text[:RAW_TEXT_CHARS].replace("\x00", "")
        own = strip_quotes(full)[:BODY_TEXT_CHARS]
        result = (own, full[:BODY_TEXT_CHARS], extracted.from_html, extracted.defects)
        # The key has a space, which no header field name can contain.
        self._cache[" body"] = result
        return result

    def body_text(self) -> str:
        """The author's own text: first text part (or HTML as text), no quotes or signature."""
        return self._extract()[0]

    def full_text(self) -> str:
        """The first text part before quote stripping, bounded (bounces quote on purpose)."""
        return self._extract()[1]

    def body_is_html(self) -> bool:
        """Whether the body text was taken from an HTML part (no text/plain found)."""
        return self._extract()[2]

    def body_defects(self) -> tuple[str, ...]:
        """Defects found while extracting the body text (computed with it)."""
        return self._extract()[3]

    def mentioned_addresses(self) -> tuple[str, ...]:
        """Normalised addresses written in :meth:`body_text`, first occurrence order."""
        text = self.body_text()
        if "@" not in text:
            return ()
        seen: dict[str, None] = {}
        for match in _MENTIONED.finditer(text):
            address = normalize_address(match.group(0))
            if address:
                seen.setdefault(address, None)
        return tuple(seen)


def _addresses(values: tuple[str, ...]) -> tuple[list[str], str]:
    pairs = parse_address_list(values)
    normalised = [normalize_address(addr) for _, addr in pairs]
    name = pairs[0][0] if pairs else ""
    return [addr for addr in normalised if addr], name


def _parse_date(value: str | None, defects: list[str]) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("unparseable Date header")
        return None
    if parsed.tzinfo is None:
        # RFC 5322 "-0000" means "no zone information"; UTC is the only sane reading.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def message_date(raw: bytes) -> datetime | None:
    """The message's Date (UTC) as :func:`parse_facts` reads it, from the header block only."""
    head, _, _ = split_head(raw)
    fields, _ = parse_fields(head)
    for name, value in fields:
        if name == "date":
            return _parse_date(collapse(decode_value(value, [])), [])
    return None


def parse_facts(raw: bytes) -> MessageFacts:
    """Parse the facts of a raw message. Never raises, whatever the bytes."""
    defects: list[str] = []
    head, body_start, clipped = split_head(raw)
    if clipped:
        defects.append("header block has no end within 1 MiB")
    if b"\x00" in head or raw.find(b"\x00", body_start, body_start + 65536) >= 0:
        defects.append("NUL bytes in the message")
    fields, field_defects = parse_fields(head)
    defects.extend(field_defects)
    decoded: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    first: dict[str, bytes] = {}
    for name, value in fields:
        first.setdefault(name, value)
        if name in _ADDRESS_FIELDS:
            text = collapse(decode_value(value, defects))
            multi.setdefault(name, []).append(text)
            # The first field's value is what header() gives: decoded once, kept for it.
            decoded.setdefault(name, text)
        elif name not in decoded and name in _EAGER:
            decoded[name] = collapse(decode_value(value, defects))
    if not fields:
        defects.append("no header fields")
    from_list, from_name = _addresses(tuple(multi.get("from", ())))
    if "from" not in multi:
        defects.append("missing From header")
    elif not from_list:
        defects.append("From header holds no valid address")
    message_id = strip_id(decoded.get("message-id", ""))
    if message_id is None:
        defects.append("missing Message-ID header")
    return_path_value = decoded.get("return-path")
    return_path: str | None = None
    if return_path_value is not None:
        inner = return_path_value.strip()
        return_path = "" if inner in ("<>", "") else normalize_address(inner) or None
    date = _parse_date(decoded.get("date"), defects)
    return MessageFacts(
        message_id=message_id,
        in_reply_to=split_ids(decoded.get("in-reply-to", "")),
        references=split_ids(decoded.get("references", "")),
        subject=decoded.get("subject", ""),
        from_addr=from_list[0] if from_list else None,
        from_name=collapse(from_name),
        to_addrs=tuple(_addresses(tuple(multi.get("to", ())))[0]),
        cc_addrs=tuple(_addresses(tuple(multi.get("cc", ())))[0]),
        reply_to=tuple(_addresses(tuple(multi.get("reply-to", ())))[0]),
        return_path=return_path,
        date=date,
        size=len(raw),
        malformed=tuple(dict.fromkeys(defects)),
        _raw_headers=tuple(fields),
        _first=first,
        # Only the window the body walker reads is kept, so facts never pin a huge message.
        _body=raw[body_start : body_start + BODY_WINDOW],
        _clipped=len(raw) - body_start > BODY_WINDOW,
        # header() of a field decoded above gives the same text; the classifier reads them.
        _cache=dict(decoded),
    )


# Fields decoded while parsing; everything else is decoded on demand by header().
_EAGER = frozenset({"message-id", "in-reply-to", "references", "subject", "return-path", "date"})
