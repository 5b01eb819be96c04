"""Read raw messages from exported mailboxes (mbox, Maildir, Maildir++, .eml) in date order.

Replay needs the messages sorted by time, but an export of 100,000 messages must not be
held in memory. ``scan_paths`` therefore makes two passes: the first reads only header
blocks and remembers a small locator per message (sort time, file, offset, length); the
iterator then reads each message body lazily, in date order, by seeking to it.

mbox files are indexed by ``mailguard.audit.mbox`` (why not ``mailbox.mbox``: see there).
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from mailguard.audit.mbox import header_date, iter_mbox, unescape_mboxrd

__all__ = [
    "MailIndex",
    "RawMessage",
    "SkippedEntry",
    "header_date",
    "looks_like_sent_folder",
    "scan_paths",
    "unescape_mboxrd",
]

# How much of a file we read to find its Date header; header blocks longer than this are
# pathological, and the fallback time (file name or mtime) still places the message.
HEADER_PEEK = 64 * 1024
# Open mbox handles kept during the ordered read; bounded so an export with thousands of
# mbox files cannot exhaust file descriptors.
MAX_OPEN_MBOXES = 32
# Names of skipped entries kept for the report; the count is always exact.
MAX_SKIPPED_NAMES = 1000

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_MAILDIR_TIME = re.compile(r"^(\d{9,11})\.")
_SENT_NAMES = frozenset(
    {
        "sent",
        "sent items",
        "sent messages",
        "sent mail",
        "outbox",
        "gesendet",
        "gesendete objekte",
        "gesendete elemente",
        "gesendete nachrichten",
        "postausgang",
        "envoyés",
        "éléments envoyés",
        "enviados",
        "posta inviata",
        "verzonden items",
    }
)


def looks_like_sent_folder(folder: str | None) -> bool:
    """True when a folder hint names a Sent folder ("Sent", "INBOX.Sent", "Gesendet")."""
    if not folder:
        return False
    last = re.split(r"[/.\\]", folder.strip().strip("/."))[-1]
    return last.casefold() in _SENT_NAMES or folder.casefold() in _SENT_NAMES


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as read from the export, with where it came from."""

    raw: bytes
    origin: str
    folder: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """A file or mbox entry that could not be read, and why."""

    name: str
    reason: str


# A locator: (sort time, discovery order, file path, offset, length or -1 for the whole
# file, folder hint, origin suffix). Plain tuples keep 100,000 of them to a few MB.
_Locator = tuple[float, int, str, int, int, str | None, str]


class MailIndex:
    """The result of the first pass: where every message is, and what was skipped.

    Iterating reads the messages in date order (undated ones last, in the order they
    were found). Entries that fail on the second read are added to ``skipped``.
    Files inside a folder that are simply not mail (a README, a mail client's index
    file) are ``ignored``: reported, but not a sign that the export is damaged.
    """

    def __init__(self) -> None:
        self._locators: list[_Locator] = []
        self._skipped: list[SkippedEntry] = []
        self.skipped_count = 0
        self._ignored: list[SkippedEntry] = []
        self.ignored_count = 0
        self._sorted = True

    def __len__(self) -> int:
        return len(self._locators)

    @property
    def skipped(self) -> tuple[SkippedEntry, ...]:
        """The first ``MAX_SKIPPED_NAMES`` skipped entries (``skipped_count`` is exact)."""
        return tuple(self._skipped)

    @property
    def ignored(self) -> tuple[SkippedEntry, ...]:
        """The first ``MAX_SKIPPED_NAMES`` files that are not mail (``ignored_count`` is exact)."""
        return tuple(self._ignored)

    def skip(self, name: str, reason: str) -> None:
        """Record an unreadable file or entry; never raises."""
        self.skipped_count += 1
        if len(self._skipped) < MAX_SKIPPED_NAMES:
            self._skipped.append(SkippedEntry(name, reason))

    def ignore(self, name: str, reason: str) -> None:
        """Record a file that is not mail at all."""
        self.ignored_count += 1
        if len(self._ignored) < MAX_SKIPPED_NAMES:
            self._ignored.append(SkippedEntry(name, reason))

    def add(
        self,
        when: datetime | None,
        path: str,
        offset: int,
        length: int,
        folder: str | None,
        suffix: str = "",
    ) -> None:
        """Remember one message; ``when`` None sorts it after all dated messages."""
        key = when.timestamp() if when is not None else float("inf")
        self._locators.append((key, len(self._locators), path, offset, length, folder, suffix))
        self._sorted = False

    def __iter__(self) -> Iterator[RawMessage]:
        if not self._sorted:
            self._locators.sort()
            self._sorted = True
        handles: OrderedDict[str, BinaryIO] = OrderedDict()
        try:
            for key, _seq, path, offset, length, folder, suffix in self._locators:
                raw = self._read(handles, path, offset, length)
                if raw is None:
                    continue
                when = None if key == float("inf") else datetime.fromtimestamp(key, UTC)
                yield RawMessage(raw, path + suffix, folder, when)
        finally:
            for handle in handles.values():
                handle.close()

    def _read(
        self, handles: OrderedDict[str, BinaryIO], path: str, offset: int, length: int
    ) -> bytes | None:
        try:
            if length < 0:
                return Path(path).read_bytes()
            handle = handles.get(path)
            if handle is None:
                if len(handles) >= MAX_OPEN_MBOXES:
                    handles.popitem(last=False)[1].close()
                # Kept open across reads (closed in __iter__) because the ordered pass
                # seeks back and forth in the same few mbox files.
                handle = handles[path] = open(path, "rb")
            else:
                handles.move_to_end(path)
            handle.seek(offset)
            return unescape_mboxrd(handle.read(length))
        except OSError as exc:
            self.skip(path, f"unreadable on second pass: {exc.strerror or exc}")
            return None


def scan_paths(paths: Sequence[str | os.PathLike[str]]) -> MailIndex:
    """First pass over every PATH: mbox files, Maildir(++) trees, .eml files and folders.

    Reads header blocks only. Missing paths and unreadable files are recorded in the
    index's ``skipped`` list, never raised.
    """
    index = MailIndex()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if _is_maildir(path):
                _scan_maildir_tree(index, path)
            else:
                _scan_directory(index, path)
        elif path.exists():
            _scan_file(index, path, explicit=True)
        else:
            index.skip(str(path), "no such file or directory")
    return index


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _scan_maildir_tree(index: MailIndex, root: Path) -> None:
    """A Maildir and its Maildir++ subfolders (".Sent", ".Archive.2024")."""
    _scan_maildir(index, root, "INBOX")
    try:
        children = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        index.skip(str(root), f"cannot list: {exc.strerror or exc}")
        return
    for entry in children:
        if entry.name.startswith(".") and entry.is_dir() and _is_maildir(Path(entry.path)):
            _scan_maildir(index, Path(entry.path), entry.name[1:])


def _scan_maildir(index: MailIndex, folder_dir: Path, folder: str) -> None:
    # tmp/ holds deliveries in progress and is deliberately not read (Maildir spec).
    for sub in ("new", "cur"):
        try:
            names = sorted(os.listdir(folder_dir / sub))
        except OSError as exc:
            index.skip(str(folder_dir / sub), f"cannot list: {exc.strerror or exc}")
            continue
        for name in names:
            if name.startswith("."):
                continue
            stamp = _MAILDIR_TIME.match(name)
            fallback = datetime.fromtimestamp(int(stamp.group(1)), UTC) if stamp else None
            _scan_single(index, folder_dir / sub / name, folder, fallback)


def _scan_directory(index: MailIndex, root: Path) -> None:
    """A plain folder, recursively: .eml files, mbox files and Maildirs inside it."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: _walk_error(index, e)):
        here = Path(dirpath)
        maildirs = [d for d in dirnames if _is_maildir(here / d)]
        for name in maildirs:
            _scan_maildir_tree(index, here / name)
        # Do not descend into Maildirs (done above) or hidden folders; sorted for a
        # reproducible discovery order, which breaks ties between equal dates.
        dirnames[:] = sorted(d for d in dirnames if d not in maildirs and not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                _scan_file(index, here / name, explicit=False)


def _walk_error(index: MailIndex, exc: OSError) -> None:
    index.skip(str(exc.filename), f"cannot list: {exc.strerror or exc}")


def _scan_file(index: MailIndex, path: Path, *, explicit: bool) -> None:
    """One file: an mbox if it starts with a From_ line, else a single message."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_PEEK)
    except OSError as exc:
        index.skip(str(path), f"unreadable: {exc.strerror or exc}")
        return
    if not head.strip():
        index.skip(str(path), "empty file")
    elif head.startswith(b"From "):
        _scan_mbox(index, path)
    elif path.suffix.lower() == ".eml" or explicit or _HEADER_LINE.match(head):
        folder = path.parent.name or None
        _index_single(index, path, head, folder, _mtime(path))
    else:
        index.ignore(str(path), "not a message, mbox or Maildir")


def _scan_single(index: MailIndex, path: Path, folder: str, fallback: datetime | None) -> None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_PEEK)
    except OSError as exc:
        index.skip(str(path), f"unreadable: {exc.strerror or exc}")
        return
    if not head.strip():
        index.skip(str(path), "empty file")
        return
    _index_single(index, path, head, folder, fallback or _mtime(path))


def _index_single(
    index: MailIndex, path: Path, head: bytes, folder: str | None, fallback: datetime | None
) -> None:
    end = head.find(b"\n\n")
    end_crlf = head.find(b"\r\n\r\n")
    cut = min((e for e in (end, end_crlf) if e >= 0), default=len(head))
    index.add(header_date(head[:cut]) or fallback, str(path), 0, -1, folder)


def _mtime(path: Path) -> datetime | None:
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return None


def _scan_mbox(index: MailIndex, path: Path) -> None:
    """Index every message of one mbox file: offset, length, and Date header or From_ date."""
    folder = path.stem if path.suffix.lower() in (".mbox", ".mbx") else path.name
    name = str(path)
    try:
        with open(path, "rb") as handle:
            for when, start, length, number in iter_mbox(handle):
                index.add(when, name, start, length, folder, f"#{number}")
    except OSError as exc:
        index.skip(name, f"unreadable mbox: {exc.strerror or exc}")
