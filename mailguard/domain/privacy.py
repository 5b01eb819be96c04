"""Which stored text names one person: an address with its plus-tag and case variants.

A customer who asks what is stored about them (GDPR Art. 15), or to have it erased (Art. 17),
gives one address. mailguard may have recorded the same person as ``Carl@Customer.example``,
``carl@customer.example`` or ``carl+shop@customer.example`` (a plus-tag, RFC 5233 subaddress),
in a column of its own, inside JSON, in a Message-ID key (``<id>#carl@customer.example``) or in
the raw bytes of held and failed mail. :class:`AddressVariants` answers "does this name them?"
for all of those, and gives the SQL ``LIKE`` patterns that find candidates cheaply first.

Pure: strings and bytes in, booleans out; the stdlib ``email`` package decodes MIME.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header

# Characters that may stand right before a local part (RFC 5322 atext and the dot): one of
# them there means the match is the tail of a longer address ("mcarl@..." is not "carl@...").
# Except "#": mailguard keys a message's further customers as "<message-id>#<customer>", and
# an address with "#" in it is rare enough to count "x#carl@..." as naming carl@.
_ATEXT = r"A-Za-z0-9.!$%&'*+/=?^_`{|}~\-"
# What may follow "+" in a tag: anything up to the "@" that is not a delimiter of text.
_TAG = r"[^\s@<>\"'(),;:\[\]\\]*"
_LIKE_SPECIAL = re.compile(r"([\\%_])")
# A raw message is first searched as it is; only then are its MIME parts decoded, at most
# this many (a hostile message with thousands of parts must not make an export crawl).
MAX_DECODED_PARTS = 200


def _like_escape(text: str) -> str:
    return _LIKE_SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True, slots=True)
class AddressVariants:
    """One person's address and every way mailguard may have written it down.

    ``local`` is the lower-case local part without its plus-tag, ``domain`` the lower-case
    domain. A text names the person when it holds ``local@domain`` or ``local+TAG@domain``,
    in any case, not as the tail or head of a longer address.
    """

    local: str
    domain: str
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile(
            rf"(?<![{_ATEXT}]){re.escape(self.local)}(?:\+{_TAG})?@{re.escape(self.domain)}"
            r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])",
            re.IGNORECASE,
        )
        object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def of(cls, address: str) -> AddressVariants:
        """The variants of ``address``; ValueError when it is not an address."""
        text = address.strip().strip("<>").strip().lower()
        local, sep, domain = text.rpartition("@")
        if (
            not sep
            or not local
            or not domain
            or "." not in domain.strip(".")
            or any(c.isspace() or c in "<>@" for c in local + domain)
        ):
            raise ValueError(f"{address!r} is not an e-mail address")
        base = local.split("+", 1)[0] or local
        return cls(base, domain.rstrip("."))

    @property
    def address(self) -> str:
        """The address without a plus-tag, lower-case: how the person is shown."""
        return f"{self.local}@{self.domain}"

    def describe(self) -> str:
        """The variants in words, for a person reading an export."""
        return f"{self.address} and {self.local}+TAG@{self.domain}, in any case"

    def matches(self, address: str | None) -> bool:
        """True when ``address`` is exactly one of the variants (a column holding an address)."""
        if not address:
            return False
        found = self._pattern.fullmatch(address.strip())
        return found is not None

    def names(self, text: str | None) -> bool:
        """True when ``text`` holds one of the variants anywhere."""
        return bool(text) and self._pattern.search(text or "") is not None

    def names_json(self, value: object) -> bool:
        """True when a JSON value (a column's list or object) holds a variant anywhere."""
        if value is None:
            return False
        if isinstance(value, str):
            return self.names(value)
        return self.names(json.dumps(value, ensure_ascii=False, default=str))

    def names_bytes(self, raw: bytes | None) -> bool:
        """True when a raw message names the person: in its bytes as they are, or in a
        header or text part once decoded (RFC 2047 encoded words, quoted-printable, base64)."""
        if not raw:
            return False
        if self.names(raw.decode("utf-8", errors="replace")):
            return True
        return any(self.names(text) for text in _decoded_texts(raw))

    def like_patterns(self) -> tuple[str, ...]:
        """SQL ``LIKE`` patterns (``ESCAPE '\\'``) over a lower-cased column that find every
        text naming the person, and a few more (confirm each with :meth:`names`)."""
        local, domain = _like_escape(self.local), _like_escape(self.domain)
        patterns = [f"%{local}@{domain}%", f"%{local}+%@{domain}%"]
        # JSON columns may hold non-ASCII as \\uXXXX escapes.
        escaped_local = json.dumps(self.local)[1:-1]
        escaped_domain = json.dumps(self.domain)[1:-1]
        if (escaped_local, escaped_domain) != (self.local, self.domain):
            local, domain = _like_escape(escaped_local), _like_escape(escaped_domain)
            patterns += [f"%{local}@{domain}%", f"%{local}+%@{domain}%"]
        return tuple(patterns)


def _decoded_texts(raw: bytes) -> list[str]:
    """The decoded header values and text parts of a raw message."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    texts: list[str] = []
    for index, part in enumerate(msg.walk()):
        if index >= MAX_DECODED_PARTS:
            break
        for _name, value in part.items():
            texts.append(_header_text(str(value)))
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                texts.append(payload.decode(charset, errors="replace"))
            except LookupError:  # an unknown charset name
                texts.append(payload.decode("utf-8", errors="replace"))
    return texts


def _header_text(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, ValueError, UnicodeError):
        return value
