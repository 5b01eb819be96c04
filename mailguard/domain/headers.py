"""Cheap, bounded parsing of a raw header block: unfolding, 8-bit handling, RFC 2047 words.

The stdlib ``email`` parser is correct but builds a whole object tree; mailguard looks at a
handful of header fields of every message, so it splits the header block itself and decodes
only what it reads. Every function here is total: odd input yields a defect note, never an
exception.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable

# A header block larger than this is not a header block any more (RFC 5322 limits a line to
# 998 octets; 10,000 ordinary fields fit in ~1 MiB). Beyond it we stop, note a defect, and
# treat the rest as body so a 100 MB single line costs a bounded amount of work.
MAX_HEADER_BLOCK = 1 << 20
# Individual values are clipped before decoding; no rule needs more.
MAX_VALUE_CHARS = 8192
MANY_FIELDS = 1000

_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_ENCODED_WORD_GAP = re.compile(rb"(\?=)[ \t\r\n]+(=\?)")
_QP_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")
_WHITESPACE = re.compile(r"\s+")


def split_head(raw: bytes, limit: int = MAX_HEADER_BLOCK) -> tuple[bytes, int, bool]:
    """Return (header block, offset where the body starts, whether the block was clipped).

    The block ends at the first empty line (CRLF or bare LF line endings both occur in the
    wild). Without one within ``limit`` the message is headers-only or hopelessly broken.
    """
    end_crlf = raw.find(b"\n\r\n", 0, limit)
    # Bound the second search by the first hit: a CRLF message has no bare blank line, and
    # an unbounded search would scan a megabyte-sized body for nothing.
    end_lf = raw.find(b"\n\n", 0, end_crlf + 2 if end_crlf >= 0 else limit)
    candidates = [pos for pos in (end_lf, end_crlf) if pos >= 0]
    if candidates:
        pos = min(candidates)
        skip = 2 if pos == end_lf else 3
        return raw[: pos + 1], pos + skip, False
    if len(raw) <= limit:
        return raw, len(raw), False
    return raw[:limit], len(raw), True


def parse_fields(block: bytes) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Unfold a header block into (lower-case name, raw value) pairs plus defect notes."""
    fields: list[tuple[str, bytes]] = []
    defects: list[str] = []
    name: str | None = None
    value_parts: list[bytes] = []
    bad_lines = 0
    lines = block.split(b"\n")
    if lines and lines[0].startswith(b"From "):
        # An mbox "From " separator line is an envelope artefact, not a header field.
        lines = lines[1:]
    for line in lines:
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            if name is not None:
                value_parts.append(line)
            continue
        if name is not None:
            fields.append((name, b" ".join(value_parts)))
        colon = line.find(b":")
        if colon <= 0 or b" " in line[:colon].strip():
            bad_lines += 1
            name = None
            value_parts = []
            continue
        name = line[:colon].strip().decode("ascii", "replace").lower()
        value_parts = [line[colon + 1 :].strip()]
    if name is not None:
        fields.append((name, b" ".join(value_parts)))
    if bad_lines:
        defects.append(f"{bad_lines} header line(s) without a field name")
    if len(fields) > MANY_FIELDS:
        defects.append(f"{len(fields)} header fields (more than {MANY_FIELDS})")
    return fields, defects


def lookup_codec(charset: str) -> codecs.CodecInfo | None:
    """Find a codec for a MIME charset label, or None when Python knows no such charset."""
    label = charset.strip().strip('"').split("*", 1)[0].lower()
    if not label:
        return None
    try:
        return codecs.lookup(label)
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None, defects: list[str], where: str) -> str:
    """Decode text in a declared charset, falling back to UTF-8 then cp1252 and noting why."""
    if charset:
        info = lookup_codec(charset)
        if info is None:
            defects.append(f"unknown charset {charset[:40]!r} in {where}")
        else:
            try:
                return info.decode(data)[0]
            except (UnicodeDecodeError, ValueError):
                # A "lying" charset: the label names one encoding, the bytes are another.
                defects.append(f"text in {where} is not valid {charset[:40]}")
            except Exception:  # codecs may raise anything on hostile input
                defects.append(f"charset {charset[:40]!r} failed in {where}")
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if not charset:
            defects.append(f"undeclared 8-bit text in {where}")
        return data.decode("cp1252", "replace")


def _decode_word(charset: bytes, encoding: bytes, payload: bytes, defects: list[str]) -> str:
    if encoding in (b"b", b"B"):
        padded = payload + b"=" * (-len(payload) % 4)
        try:
            data = base64.b64decode(padded)
        except (binascii.Error, ValueError):
            defects.append("broken base64 encoded-word in a header")
            return payload.decode("ascii", "replace")
    else:
        data = _QP_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), payload.replace(b"_", b" "))
    return decode_bytes(data, charset.decode("ascii", "replace"), defects, "a header")


def decode_value(raw: bytes, defects: list[str]) -> str:
    """Decode one raw header value: 8-bit bytes, RFC 2047 encoded words, folded whitespace."""
    raw = raw[:MAX_VALUE_CHARS]
    if raw.isascii() and b"=?" not in raw and b"\x00" not in raw:
        # Most values: plain ASCII, nothing to decode (the same text as the path below).
        return raw.decode("ascii")
    if b"=?" in raw:
        # RFC 2047 section 6.2: whitespace between adjacent encoded words is not displayed.
        raw = _ENCODED_WORD_GAP.sub(rb"\1\2", raw)
        pieces: list[str] = []
        pos = 0
        for match in _ENCODED_WORD.finditer(raw):
            pieces.append(decode_bytes(raw[pos : match.start()], None, defects, "a header"))
            pieces.append(_decode_word(match.group(1), match.group(2), match.group(3), defects))
            pos = match.end()
        pieces.append(decode_bytes(raw[pos:], None, defects, "a header"))
        text = "".join(pieces)
    else:
        text = decode_bytes(raw, None, defects, "a header")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text


def collapse(text: str) -> str:
    """Collapse runs of whitespace to one space and trim."""
    # Most values have single spaces only; skipping the regex for them is measurably faster.
    if "  " in text or "\t" in text or "\n" in text or "\r" in text or not text.isascii():
        return _WHITESPACE.sub(" ", text).strip()
    return text.strip()


def strip_id(value: str) -> str | None:
    """A Message-ID without angle brackets and whitespace; None when empty."""
    cleaned = value.strip().strip("<>").strip()
    return cleaned or None


def split_ids(value: str) -> tuple[str, ...]:
    """All message ids in a References / In-Reply-To value, without angle brackets."""
    found = re.findall(r"<([^<>\s]+)>", value)
    if found:
        return tuple(found)
    # Some mailers omit the brackets; accept bare tokens that look like ids.
    return tuple(token for token in value.split() if "@" in token)


_ADDRESS_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"|<[^>]*>|\([^)]*\)|[^,"<(])+')
_ANGLE = re.compile(r"<([^<>]*)>")
_COMMENT = re.compile(r"\(([^()]*)\)")


def parse_address_list(values: Iterable[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs from address header values; never raises.

    A small tokenizer instead of email.utils.getaddresses, which costs more than the rest
    of header parsing together: items split at commas outside quotes, brackets and
    comments; the address is the bracketed part, else the bare token; a trailing comment
    ("MAILER-DAEMON@x (Mail Delivery System)") serves as the name when there is no other.
    RFC 5322 groups ("team: a@b, c@d;") lose their label, which no rule needs.
    """
    pairs: list[tuple[str, str]] = []
    for value in values:
        for item in _ADDRESS_ITEM.findall(value):
            text = item.strip().rstrip(";")
            if not text:
                continue
            bracket = _ANGLE.search(text)
            if bracket:
                address = bracket.group(1)
                name = text[: bracket.start()]
            else:
                comment = _COMMENT.search(text)
                address = _COMMENT.sub("", text)
                name = comment.group(1) if comment else ""
            if ":" in name and not name.strip().startswith('"'):
                name = name.rpartition(":")[2]
            if ":" in address:
                address = address.rpartition(":")[2]
            name = name.strip().strip('"').replace('\\"', '"').strip()
            pairs.append((name, address.strip()))
    return pairs
