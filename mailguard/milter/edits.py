"""What the milter asks Postfix to change: the proxy's rewrite and divert as milter edits.

The proxy relays a rewritten copy of the message; a milter cannot: Postfix keeps the message
and the milter tells it what to change (RFC-less, but libmilter's ``smfi_chgheader``,
``smfi_addheader``, ``smfi_insheader``, ``smfi_replacebody``, ``smfi_addrcpt`` and
``smfi_delrcpt`` are the vocabulary every MTA speaks). So the milter computes the same bytes
as the proxy (:func:`mailguard.smtp.rewrite.rewrite`, :func:`mailguard.smtp.rewrite.divert`)
and :func:`rewrite_edits` turns the difference into edits: changed, added and removed header
fields, and the new body. The MIME structure stays as the rewrite left it, because the body
sent back is the rewrite's own.

Pure functions on bytes; no protocol, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_FOLD = re.compile(r"\r?\n[ \t]+")


@dataclass(frozen=True, slots=True)
class ChangeHeader:
    """Replace the ``index``-th (1-based) field called ``name``; an empty value removes it."""

    name: str
    index: int
    value: str


@dataclass(frozen=True, slots=True)
class AddHeader:
    """Append a header field."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class InsertHeader:
    """Insert a header field at ``index`` (0: the top of the header)."""

    index: int
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ReplaceBody:
    """The whole new body (everything after the header's blank line), CRLF line ends."""

    body: bytes


@dataclass(frozen=True, slots=True)
class AddRecipient:
    """Add an envelope recipient."""

    address: str


@dataclass(frozen=True, slots=True)
class RemoveRecipient:
    """Remove an envelope recipient, as it was given in RCPT TO."""

    address: str


Edit = ChangeHeader | AddHeader | InsertHeader | ReplaceBody | AddRecipient | RemoveRecipient
Field = tuple[str, str]


def split_message(raw: bytes) -> tuple[list[Field], bytes]:
    """The header fields (name, value after the colon, folding kept) and the body.

    A message without a blank line is all header. Values are decoded as UTF-8 with
    surrogate escapes, so bytes that are not UTF-8 survive a round trip.
    """
    for separator in (b"\r\n\r\n", b"\n\n"):
        cut = raw.find(separator)
        if cut >= 0:
            head, body = raw[:cut], raw[cut + len(separator) :]
            break
    else:
        head, body = raw, b""
    fields: list[Field] = []
    for line in head.decode("utf-8", "surrogateescape").splitlines():
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value}\r\n{line}")
            continue
        name, colon, value = line.partition(":")
        if colon:
            fields.append((name.strip(), value))
    return fields, body


def join_message(fields: Sequence[Field], body: bytes) -> bytes:
    """The raw message from its fields and body (the inverse of :func:`split_message`)."""
    head = "".join(f"{name}:{value}\r\n" for name, value in fields)
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + body


def unfold(value: str) -> str:
    """A field value on one line, without the leading space (for comparing and sending)."""
    return _FOLD.sub(" ", value).strip()


def header_edits(before: Sequence[Field], after: Sequence[Field]) -> list[Edit]:
    """The header edits that make ``before`` into ``after``, by name and occurrence.

    The n-th field of a name in ``before`` is compared with the n-th of that name in
    ``after`` (values unfolded): changed, removed (highest occurrence first, so the indexes
    of the others stay valid) or added at the end. Moving a field is not an edit: its
    position means nothing to a reader.
    """

    def by_name(fields: Sequence[Field]) -> dict[str, list[Field]]:
        grouped: dict[str, list[Field]] = {}
        for name, value in fields:
            grouped.setdefault(name.lower(), []).append((name, value))
        return grouped

    old, new = by_name(before), by_name(after)
    changes: list[Edit] = []
    removals: list[Edit] = []
    additions: list[Edit] = []
    for key in [*old, *(k for k in new if k not in old)]:
        was, now = old.get(key, []), new.get(key, [])
        for index in range(max(len(was), len(now))):
            if index < len(was) and index < len(now):
                if unfold(was[index][1]) != unfold(now[index][1]):
                    changes.append(ChangeHeader(was[index][0], index + 1, unfold(now[index][1])))
            elif index < len(was):
                removals.append(ChangeHeader(was[index][0], index + 1, ""))
            else:
                additions.append(AddHeader(now[index][0], unfold(now[index][1])))
    removals.reverse()
    return [*changes, *removals, *additions]


def rewrite_edits(original: bytes, rewritten: bytes) -> list[Edit]:
    """Edits that turn ``original`` into ``rewritten``: header fields, then the body."""
    before, old_body = split_message(original)
    after, new_body = split_message(rewritten)
    edits = header_edits(before, after)
    if new_body != old_body:
        edits.append(ReplaceBody(new_body))
    return edits


def divert_edits(
    recipients: Sequence[str], agents: str, diverted: bytes, original: bytes
) -> list[Edit]:
    """The recipients replaced by the agents' address, and the header fields that
    :func:`mailguard.smtp.rewrite.divert` puts on top (whom it was meant for, and why)."""
    before, _ = split_message(original)
    after, _ = split_message(diverted)
    added = after[: len(after) - len(before)]
    edits: list[Edit] = [RemoveRecipient(r) for r in recipients]
    edits.append(AddRecipient(agents))
    edits.extend(InsertHeader(i, name, unfold(value)) for i, (name, value) in enumerate(added))
    return edits
