"""The relay journal: the upstream's 250 on disk within microseconds, before the database has it.

A relay receipt (:mod:`mailguard.smtp.receipts`) is one database commit, about a millisecond
on SQLite and more while other messages' transactions hold the writer: a process killed in
that time forgets that the upstream took the message, and the client's retry is relayed
again. Measured with ``bench/proxy_kill.py`` (SIGKILL every ~1.5 s): about one duplicate per
four kills. So the receipt is first appended to a local file, one ``write(2)`` of one line,
which the kernel keeps when the process is killed (as SQLite's WAL does with
``synchronous=NORMAL``: durable against a crash of the process, not of the machine).

Each process holds one journal file under ``data_dir`` locked (``flock``; a process that dies
releases it). At start, every journal file no live process holds is read back: its entries
become database receipts (:meth:`Receipts.recover <mailguard.smtp.receipts.Receipts.recover>`)
and the file is emptied. While running, an entry is pending until its database receipt is
committed; a retry looks at the pending entries first. The file is emptied whenever nothing
is pending and it has grown past :data:`COMPACT_BYTES`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "relay-journal"
COMPACT_BYTES = 1024 * 1024
MAX_FILES = 64


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One relayed message: enough to write its receipt (and its DSN) later."""

    mailbox: str
    message_id: str
    direction: str
    envelope: str
    reply: str
    refused: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    # Only with refused recipients: what the delivery status notification needs.
    sender: str = ""
    head: bytes = b""
    remote: str = ""
    at: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.mailbox, self.message_id, self.direction, self.envelope)

    def line(self) -> bytes:
        data: dict[str, object] = {
            "m": self.mailbox,
            "i": self.message_id,
            "d": self.direction,
            "e": self.envelope,
            "r": self.reply,
            "at": self.at,
        }
        if self.refused:
            data |= {
                "x": {rcpt: list(answer) for rcpt, answer in self.refused.items()},
                "s": self.sender,
                "h": base64.b64encode(self.head).decode(),
                "u": self.remote,
            }
        return json.dumps(data, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> JournalEntry:
        data = json.loads(line)
        refused = {rcpt: (int(code), str(text)) for rcpt, (code, text) in data.get("x", {}).items()}
        return cls(
            data["m"],
            data["i"],
            data["d"],
            data["e"],
            data["r"],
            refused,
            data.get("s", ""),
            base64.b64decode(data.get("h", "")),
            data.get("u", ""),
            data.get("at", ""),
        )


class RelayJournal:
    """This process's journal file and its pending entries (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._fd: int | None = None
        self._orphans: list[int] = []
        self._pending: dict[tuple[str, str, str, str], JournalEntry] = {}

    def open(self) -> list[JournalEntry]:
        """Lock a journal of this process's own; return what unheld journals hold.

        Call :meth:`recovered` once those entries have their database receipts.
        """
        self._directory.mkdir(parents=True, exist_ok=True)
        found: list[JournalEntry] = []
        for number in range(MAX_FILES):
            path = self._directory / f"{PREFIX}.{number}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another live process's journal
                os.close(fd)
                continue
            found.extend(_read(fd))
            if self._fd is None:
                self._fd = fd
            else:
                self._orphans.append(fd)
            if not (self._directory / f"{PREFIX}.{number + 1}").exists():
                break
        if self._fd is None:
            raise OSError(f"no free relay journal in {self._directory} ({MAX_FILES} in use)")
        return found

    def recovered(self) -> None:
        """Empty the journals read at :meth:`open`: their receipts are in the database."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
        for fd in self._orphans:
            os.ftruncate(fd, 0)
            os.close(fd)
        self._orphans = []

    def append(self, entry: JournalEntry) -> None:
        """Write the entry (one ``write``) and keep it pending until :meth:`committed`."""
        if self._fd is None:
            raise RuntimeError("the relay journal is not open")
        os.write(self._fd, entry.line())
        self._pending[entry.key] = entry

    def remember(self, entry: JournalEntry) -> None:
        """Keep an entry of an earlier run pending until its receipt is written."""
        self._pending[entry.key] = entry

    def pending(self, key: tuple[str, str, str, str]) -> JournalEntry | None:
        """The entry of a message relayed by this process whose receipt is not committed."""
        return self._pending.get(key)

    def committed(self, entry: JournalEntry) -> None:
        """Its database receipt is committed; compact the file when nothing is pending."""
        self._pending.pop(entry.key, None)
        if self._fd is not None and not self._pending:
            if os.fstat(self._fd).st_size > COMPACT_BYTES:
                os.ftruncate(self._fd, 0)

    def close(self) -> None:
        """Release the file (its pending entries, if any, are recovered by the next start)."""
        for fd in [*self._orphans, *([self._fd] if self._fd is not None else [])]:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fd = None
        self._orphans = []


def _read(fd: int) -> list[JournalEntry]:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    entries = []
    for line in b"".join(chunks).splitlines():
        # A line cut short by a crash of the machine (not of the process) is skipped.
        with contextlib.suppress(ValueError, KeyError, TypeError):
            entries.append(JournalEntry.parse(line))
    return entries
