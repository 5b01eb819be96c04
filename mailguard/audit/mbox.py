"""mbox files: find the messages (offset, length, date) in one pass, and undo From_ quoting.

The reader is our own rather than ``mailbox.mbox`` because ``mailbox`` would need a
second full read just to find each message's Date header, and it splits on any line
starting with "From " even where no blank line precedes it. We accept a From_ line after
a blank line (or one that looks like a real From_ envelope line, which some writers put
without the blank line), and undo mboxrd quoting (">From " -> "From ") on reading back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# (date from the Date header or else the From_ line, offset of the message after its
# From_ line, length in bytes without the separating blank line, 1-based number)
MboxEntry = tuple[datetime | None, int, int, int]

# Header blocks longer than this many lines are pathological; the From_ date still
# places the message.
MAX_HEADER_LINES = 1000

_DATE_HEADER = re.compile(rb"^date:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
_FROM_LINE = re.compile(
    rb"^From \S+ +\w{3} +(\w{3}) +(\d{1,2}) +(\d{1,2}):(\d{2}):(\d{2}) +(?:\S+ +)?(\d{4})"
)
_MBOXRD_QUOTED = re.compile(rb"^>(>*From )", re.MULTILINE)
_MONTHS = {
    m: i
    for i, m in enumerate(
        (b"jan", b"feb", b"mar", b"apr", b"may", b"jun")
        + (b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"),
        start=1,
    )
}
_BLANK = (b"\n", b"\r\n")


def header_date(block: bytes) -> datetime | None:
    """The Date header of a raw header block as an aware UTC datetime, or None."""
    match = _DATE_HEADER.search(block)
    if match is None:
        return None
    value = re.sub(rb"\r?\n[ \t]", b" ", match.group(1)).decode("latin-1").strip()
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # RFC 5322 "-0000" means "UTC, origin zone unknown"; email.utils returns it naive.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def from_line_date(line: bytes) -> datetime | None:
    """The asctime date of an mbox From_ line; parsed by hand to avoid locale trouble."""
    match = _FROM_LINE.match(line)
    if match is None:
        return None
    month = _MONTHS.get(match.group(1).lower())
    if month is None:
        return None
    day, hour, minute, second, year = (int(match.group(i)) for i in (2, 3, 4, 5, 6))
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def unescape_mboxrd(data: bytes) -> bytes:
    """Undo mbox From_ quoting: one ">" is removed from lines matching ^>+From ."""
    if b">From " not in data:
        return data
    return _MBOXRD_QUOTED.sub(rb"\1", data)


def iter_mbox(lines: Iterable[bytes]) -> Iterator[MboxEntry]:
    """Every message of an mbox given as its lines (an open binary file works)."""
    scanner = _Scanner()
    for line in lines:
        done = scanner.feed(line)
        if done is not None:
            yield done
    last = scanner.finish()
    if last is not None:
        yield last


class _Scanner:
    """Line-by-line state of the pass over one mbox file."""

    def __init__(self) -> None:
        self.number = 0
        self.start = -1
        self.date: datetime | None = None
        self.header: list[bytes] | None = None
        self.offset = 0
        self.prev_len = 0
        self.prev_blank = True

    def feed(self, line: bytes) -> MboxEntry | None:
        """Take one line; returns the previous message when this line starts a new one."""
        done = None
        if line.startswith(b"From ") and (self.prev_blank or _FROM_LINE.match(line)):
            done = self.finish()
            self.number += 1
            self.start = self.offset + len(line)
            self.date = from_line_date(line)
            self.header = []
        elif self.header is not None:
            if line in _BLANK or len(self.header) > MAX_HEADER_LINES:
                self._end_header()
            else:
                self.header.append(line)
        self.prev_blank = line in _BLANK
        self.prev_len = len(line)
        self.offset += len(line)
        return done

    def _end_header(self) -> None:
        if self.header is not None:
            self.date = header_date(b"".join(self.header)) or self.date
            self.header = None

    def finish(self) -> MboxEntry | None:
        """Close the message in progress, if any, at the current offset."""
        if self.start < 0:
            return None
        self._end_header()
        # The blank line before a From_ line (or at the end) is the separator, not mail.
        stop = self.offset - self.prev_len if self.prev_blank else self.offset
        entry = (self.date, self.start, max(stop - self.start, 0), self.number)
        self.start = -1
        return entry
