"""A held reply's copy in the agents' mailbox, and what an agent's command on it may do.

mailguard files a copy of every held robot reply into the mailbox's held folder. The copy
starts with mailguard's stamp, three header lines before the reply's own headers:

- ``X-Mailguard-Held: <Message-ID of the reply>`` (its first line; a delivered message
  always starts with the server's own trace headers, so no customer can forge this);
- ``X-Mailguard-Held-Id: <row id>; sha256=<first 32 hex digits of the stored reply's
  SHA-256>``: which held row the copy is of, and a digest only the stored bytes give;
- ``X-Mailguard-How:`` how to release or drop it, for the agent who looks.

An agent releases a copy by moving it into the release folder (or setting the release
keyword on it in the held folder) and drops it by the drop folder or keyword. mailguard acts
only on a copy whose stamp names a row of the same mailbox with the same Message-ID and the
same digest, and only while that row still waits (state ``held``); what it relays or
discards is always the stored row, never the copy's bytes. :func:`judge` says what to do
with one copy, from its stamp and the row's facts; it is pure, the adapters act on it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from enum import StrEnum

HELD_HEADER = "X-Mailguard-Held"
HELD_ID_HEADER = "X-Mailguard-Held-Id"
HOW_HEADER = "X-Mailguard-How"
DIGEST_LENGTH = 32

_ID_VALUE = re.compile(r"^\s*(\d{1,18})\s*;\s*sha256=([0-9a-f]{32})\s*$")
_HEADER_END = re.compile(rb"\r?\n\r?\n")


class Command(StrEnum):
    """What an agent asked for: send the held reply, or discard it."""

    RELEASE = "release"
    DROP = "drop"


class Outcome(StrEnum):
    """What to do about one copy (:func:`judge`), and after acting, what was done."""

    RELEASE = "release"  # the row waits: release it now
    DROP = "drop"  # the row waits: discard it now
    RELEASED = "released"  # sent (now, earlier, by the CLI or another replica)
    DROPPED = "dropped"  # discarded (by an agent, the CLI, a person taking over, retention)
    BUSY = "busy"  # claimed for release moments ago by another process: look again later
    RETRY = "retry"  # the relay refused for now: the row still waits, try again later
    FAILED = "failed"  # the relay refused for good: the row still waits, the agent decides
    UNCERTAIN = "uncertain"  # claimed, and no receipt: a process died while relaying it
    REFUSED = "refused"  # not a copy mailguard may act on: left alone, logged


@dataclass(frozen=True, slots=True)
class Stamp:
    """mailguard's stamp on a copy: the reply's Message-ID, the row id and digest (None on
    copies filed before the id was stamped)."""

    message_id: str
    held_id: int | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class HeldFacts:
    """What :func:`judge` needs to know about the held row a stamp names."""

    id: int
    mailbox: str
    message_id: str
    raw: bytes
    state: str
    claimed_at: datetime | None
    relayed: bool


@dataclass(frozen=True, slots=True)
class Verdict:
    """An outcome and, for the log and the agent, why."""

    outcome: Outcome
    why: str = ""


def digest(raw: bytes) -> str:
    """The digest a copy carries of the stored reply's bytes."""
    return hashlib.sha256(raw).hexdigest()[:DIGEST_LENGTH]


def how(
    release_folder: str, drop_folder: str, release_keyword: str, drop_keyword: str, keywords: bool
) -> str:
    """The sentence that tells an agent how to release or drop a held copy."""
    if keywords:
        return (
            f'To send this held reply, move it to the folder "{release_folder}" (or set the '
            f'keyword {release_keyword}); to discard it, move it to "{drop_folder}" (or set '
            f"{drop_keyword})."
        )
    return (
        f'To send this held reply, move it to the folder "{release_folder}"; to discard it, '
        f'move it to "{drop_folder}".'
    )


def _header_line(name: str, value: str) -> bytes:
    charset = "us-ascii" if value.isascii() else "utf-8"
    folded = Header(value, charset, header_name=name).encode(linesep="\r\n")
    return f"{name}: {folded}\r\n".encode("ascii")


def stamp(held_id: int, message_id: str, raw: bytes, how_text: str) -> bytes:
    """The lines mailguard puts before the reply's own headers in its copy."""
    return (
        f"{HELD_HEADER}: {message_id}\r\n".encode()
        + f"{HELD_ID_HEADER}: {held_id}; sha256={digest(raw)}\r\n".encode()
        + _header_line(HOW_HEADER, how_text)
    )


def parse_stamp(raw: bytes) -> Stamp | None:
    """The stamp of a copy (its header block or all of it); None when it has none.

    The first line must be the ``X-Mailguard-Held`` one; the id line counts only as the
    line right after it (a header further down could have come with the reply itself).
    """
    head = _HEADER_END.split(raw, maxsplit=1)[0]
    lines = head.split(b"\n", 2)
    name, sep, value = lines[0].decode("utf-8", errors="replace").partition(":")
    if not sep or name.strip().lower() != HELD_HEADER.lower():
        return None
    message_id = value.strip()
    if len(lines) < 2:
        return Stamp(message_id, None, None)
    name, sep, value = lines[1].decode("utf-8", errors="replace").partition(":")
    match = _ID_VALUE.match(value) if sep else None
    if name.strip().lower() != HELD_ID_HEADER.lower() or match is None:
        return Stamp(message_id, None, None)
    return Stamp(message_id, int(match.group(1)), match.group(2))


def judge(
    stamp: Stamp | None,
    command: Command,
    mailbox: str,
    row: HeldFacts | None,
    now: datetime,
    busy_for: timedelta,
) -> Verdict:
    """What to do with a copy an agent gave ``command`` in ``mailbox``.

    ``busy_for``: how long a claim without a receipt is taken for a relay in progress
    (another process's) before it counts as one a crash interrupted.
    """
    if stamp is None:
        return Verdict(Outcome.REFUSED, "not a held copy of mailguard's (no stamp)")
    if stamp.held_id is None or stamp.digest is None:
        return Verdict(
            Outcome.REFUSED,
            f"the copy carries no {HELD_ID_HEADER} (filed by an older version): "
            "use mailguard held release|drop",
        )
    problem = _mismatch(stamp, mailbox, row)
    if problem is not None or row is None:
        return Verdict(Outcome.REFUSED, problem or "no such held message")
    if row.state == "held":
        return Verdict(Outcome.RELEASE if command is Command.RELEASE else Outcome.DROP)
    if row.state == "discarded":
        return Verdict(Outcome.DROPPED, "it was discarded before")
    if row.state != "released":
        return Verdict(Outcome.REFUSED, f"held message {row.id} is {row.state}, not held")
    if row.relayed:
        return Verdict(Outcome.RELEASED, "it was released before")
    if row.claimed_at is not None and now - row.claimed_at < busy_for:
        return Verdict(Outcome.BUSY, "another process is releasing it")
    return Verdict(
        Outcome.UNCERTAIN,
        f"claimed for release at {row.claimed_at:%Y-%m-%d %H:%M:%S} UTC without a relay "
        "receipt: a process stopped while relaying it, so it may not have been sent. Check "
        f"the relay's log, then: mailguard held release --force {row.id}"
        if row.claimed_at is not None
        else "released without a relay receipt; it may not have been sent",
    )


def _mismatch(stamp: Stamp, mailbox: str, row: HeldFacts | None) -> str | None:
    if row is None:
        return f"no held message {stamp.held_id}"
    if row.mailbox != mailbox:
        return f"held message {row.id} is of another mailbox"
    if row.message_id != stamp.message_id:
        return f"held message {row.id} is not <{stamp.message_id}>"
    if digest(row.raw) != stamp.digest:
        return f"held message {row.id}: the digest does not match the stored reply"
    return None
