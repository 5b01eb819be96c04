"""``mailguard db backup -c FILE DEST``: a consistent copy of the SQLite database, online.

SQLite's backup API (``sqlite3.Connection.backup``) copies the database page by page inside
read transactions, so the daemon keeps writing meanwhile (WAL mode: readers and the writer
do not block each other) and the copy is one consistent state. It is written to a
temporary file beside DEST, checked (``PRAGMA integrity_check``) and only then renamed to
DEST, so DEST is never a half-written file. PostgreSQL is backed up with its own tools
(``pg_dump``, docs/deployment.md).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from mailguard.errors import MailguardError

PAGES_PER_STEP = 1024
"""Pages copied per step; between steps the daemon's writers get the database back."""


class BackupError(MailguardError):
    """The copy cannot be made: the database is not a SQLite file, or a file is in the way."""


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL, or None for another database (or SQLite in memory)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or ":memory:" in url:
        return None
    return Path(url[len(prefix) :].split("?", 1)[0])


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///`` URL; a :class:`BackupError` for anything else."""
    path = sqlite_file(url)
    if path is None:
        raise BackupError(
            "db backup copies a SQLite file; for PostgreSQL use pg_dump (docs/deployment.md)"
        )
    return path


def backup_sqlite(url: str, dest: Path) -> int:
    """Copy the database of ``url`` to ``dest`` (which must not exist); return its pages."""
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    if dest.exists():
        raise BackupError(f"{dest} exists already: give a new file name")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(source, timeout=30)) as src:
            with closing(sqlite3.connect(partial)) as copy:
                src.backup(copy, pages=PAGES_PER_STEP)
                (verdict,) = copy.execute("PRAGMA integrity_check").fetchone()
                if verdict != "ok":
                    raise BackupError(f"the copy failed its integrity check: {verdict}")
                (pages,) = copy.execute("PRAGMA page_count").fetchone()
        os.replace(partial, dest)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return int(pages)
