"""The export readers: mbox, Maildir(++), .eml folders, single files, broken input."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mailguard.audit.sources import (
    MAX_SKIPPED_NAMES,
    header_date,
    looks_like_sent_folder,
    scan_paths,
    unescape_mboxrd,
)


def message(subject: str, date: str | None, body: str = "Hello.\n", nl: str = "\n") -> bytes:
    headers = ["From: a@example.org", "To: support@example.com", f"Subject: {subject}"]
    if date is not None:
        headers.append(f"Date: {date}")
    text = nl.join(headers) + nl + nl + body.replace("\n", nl)
    return text.encode()


def write_mbox(path: Path, *messages: bytes, from_line: str = "From a@example.org {when}") -> None:
    chunks = []
    for i, raw in enumerate(messages):
        when = f"Mon Nov {9 + i:2d} 10:00:00 2026"
        chunks.append(from_line.format(when=when).encode() + b"\n" + raw + b"\n")
    path.write_bytes(b"".join(chunks))


def subjects(paths: list[Path]) -> list[str]:
    out = []
    for msg in scan_paths([str(p) for p in paths]):
        line = next(x for x in msg.raw.splitlines() if x.startswith(b"Subject: "))
        out.append(line.removeprefix(b"Subject: ").decode())
    return out


def test_mbox_is_read_in_date_order_with_from_line_unescaped(tmp_path: Path) -> None:
    mbox = tmp_path / "INBOX.mbox"
    body = "First line.\n>From here on, quoted.\n>>From two levels.\nFrom the start.\n"
    write_mbox(
        mbox,
        message("late", "Tue, 10 Nov 2026 12:00:00 +0100"),
        message("early", "Mon, 09 Nov 2026 08:00:00 +0000", body=body),
        message("middle", "Mon, 09 Nov 2026 22:30:00 -0500"),
    )
    index = scan_paths([str(mbox)])
    messages = list(index)
    assert [m.origin for m in messages] == [f"{mbox}#2", f"{mbox}#3", f"{mbox}#1"]
    assert [m.folder for m in messages] == ["INBOX"] * 3
    assert messages[0].date == datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    # Unescaping removes exactly one ">" (mboxrd); the From_ line itself is not included.
    assert messages[0].raw.startswith(b"From: a@example.org\n")
    assert b"\nFrom here on, quoted.\n>From two levels.\n" in messages[0].raw
    # The separator blank line belongs to the mbox, not to the message.
    assert messages[0].raw.endswith(b"From the start.\n")
    assert index.skipped_count == 0


def test_mbox_without_date_header_falls_back_to_the_from_line(tmp_path: Path) -> None:
    mbox = tmp_path / "Sent"
    write_mbox(mbox, message("no date", None), message("dated", "Sun, 01 Nov 2026 00:00:00 +0000"))
    messages = list(scan_paths([mbox]))
    assert [m.date for m in messages] == [
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 9, 10, 0, tzinfo=UTC),
    ]
    assert messages[0].folder == "Sent"


def test_mbox_line_starting_with_from_inside_a_paragraph_does_not_split(tmp_path: Path) -> None:
    mbox = tmp_path / "x.mbox"
    raw = message("one", "Mon, 09 Nov 2026 08:00:00 +0000", body="Text\nFrom me to you.\n")
    write_mbox(mbox, raw)
    messages = list(scan_paths([mbox]))
    assert len(messages) == 1
    assert messages[0].raw.endswith(b"From me to you.\n")


def test_mbox_with_crlf_line_endings(tmp_path: Path) -> None:
    mbox = tmp_path / "crlf.mbox"
    first = message("a", "Mon, 09 Nov 2026 08:00:00 +0000", nl="\r\n")
    second = message("b", "Mon, 09 Nov 2026 07:00:00 +0000", nl="\r\n")
    mbox.write_bytes(
        b"From x Mon Nov  9 08:00:00 2026\r\n" + first + b"\r\n"
        b"From x Mon Nov  9 07:00:00 2026\r\n" + second + b"\r\n"
    )
    messages = list(scan_paths([mbox]))
    assert [m.raw for m in messages] == [second, first]


def test_maildir_with_maildirpp_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    for folder in (root, root / ".Sent", root / ".Archive.2025"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    (root / "cur" / "1794096000.M1P1.host:2,S").write_bytes(
        message("inbox", "Sun, 08 Nov 2026 11:00:00 +0000")
    )
    (root / "new" / "1794182400.M2P1.host").write_bytes(message("new mail", None))
    (root / ".Sent" / "cur" / "1794099600.M3P1.host:2,S").write_bytes(
        message("reply", "Sun, 08 Nov 2026 12:00:00 +0000")
    )
    (root / ".Archive.2025" / "cur" / "a").write_bytes(
        message("old", "Wed, 01 Jan 2025 12:00:00 +0000")
    )
    # tmp/ holds deliveries in progress and must not be read.
    (root / "tmp" / "1794096001.M9P1.host").write_bytes(message("partial", None))
    messages = list(scan_paths([root]))
    assert [(m.folder, m.date) for m in messages] == [
        ("Archive.2025", datetime(2025, 1, 1, 12, tzinfo=UTC)),
        ("INBOX", datetime(2026, 11, 8, 11, tzinfo=UTC)),
        ("Sent", datetime(2026, 11, 8, 12, tzinfo=UTC)),
        # No Date header: the delivery time in the Maildir file name places it.
        ("INBOX", datetime.fromtimestamp(1794182400, UTC)),
    ]


def test_eml_directory_is_read_recursively_with_folder_hints(tmp_path: Path) -> None:
    (tmp_path / "export" / "Sent").mkdir(parents=True)
    (tmp_path / "export" / "Inbox" / "2026").mkdir(parents=True)
    (tmp_path / "export" / "Inbox" / "2026" / "b.eml").write_bytes(
        message("question", "Mon, 09 Nov 2026 08:00:00 +0000")
    )
    (tmp_path / "export" / "Sent" / "c.EML").write_bytes(
        message("answer", "Mon, 09 Nov 2026 09:00:00 +0000")
    )
    # A headers-only file without the .eml suffix still counts as a message.
    (tmp_path / "export" / "Inbox" / "msg-17").write_bytes(
        message("no suffix", "Mon, 09 Nov 2026 08:30:00 +0000")
    )
    (tmp_path / "export" / "notes.txt").write_text("Just some notes, not mail.\n")
    index = scan_paths([tmp_path / "export"])
    messages = list(index)
    assert [m.folder for m in messages] == ["2026", "Inbox", "Sent"]
    # Not mail is ignored (reported), which is different from a damaged entry.
    assert [s.name for s in index.ignored] == [str(tmp_path / "export" / "notes.txt")]
    assert index.skipped_count == 0


def test_single_eml_file_and_several_paths_are_merged_by_date(tmp_path: Path) -> None:
    eml = tmp_path / "one.eml"
    eml.write_bytes(message("single", "Mon, 09 Nov 2026 09:00:00 +0000"))
    mbox = tmp_path / "box.mbox"
    write_mbox(mbox, message("boxed", "Mon, 09 Nov 2026 08:00:00 +0000"))
    assert subjects([eml, mbox]) == ["boxed", "single"]


def test_broken_input_is_reported_and_skipped_never_raised(tmp_path: Path) -> None:
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "good.eml").write_bytes(message("good", "Mon, 09 Nov 2026 09:00:00 +0000"))
    (folder / "empty.eml").write_bytes(b"")
    (folder / "dangling.eml").symlink_to(tmp_path / "gone.eml")
    (folder / "garbage.bin").write_bytes(os.urandom(64).replace(b"\n", b"x") + b"\x00")
    index = scan_paths([folder, tmp_path / "missing.mbox"])
    reasons = {Path(s.name).name: s.reason for s in index.skipped}
    assert set(reasons) == {"empty.eml", "dangling.eml", "missing.mbox"}
    assert [Path(s.name).name for s in index.ignored] == ["garbage.bin"]
    assert reasons["empty.eml"] == "empty file"
    assert "unreadable" in reasons["dangling.eml"]
    assert reasons["missing.mbox"] == "no such file or directory"
    assert subjects([folder]) == ["good"]


def test_entry_that_disappears_before_the_second_pass_is_skipped(tmp_path: Path) -> None:
    a, b = tmp_path / "a.eml", tmp_path / "b.eml"
    a.write_bytes(message("a", "Mon, 09 Nov 2026 09:00:00 +0000"))
    b.write_bytes(message("b", "Mon, 09 Nov 2026 10:00:00 +0000"))
    index = scan_paths([tmp_path])
    a.unlink()
    assert [m.origin for m in index] == [str(b)]
    assert index.skipped_count == 1
    assert index.skipped[0].name == str(a)


def test_skipped_names_are_bounded_but_counted(tmp_path: Path) -> None:
    for i in range(MAX_SKIPPED_NAMES + 5):
        (tmp_path / f"{i}.eml").write_bytes(b"")
    index = scan_paths([tmp_path])
    assert index.skipped_count == MAX_SKIPPED_NAMES + 5
    assert len(index.skipped) == MAX_SKIPPED_NAMES


def test_iteration_is_lazy(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.eml").write_bytes(message(str(i), f"Mon, 09 Nov 2026 0{i}:00:00 +0000"))
    iterator = iter(scan_paths([tmp_path]))
    first = next(iterator)
    # Files not yet reached may change or vanish without affecting what was read.
    (tmp_path / "2.eml").unlink()
    assert first.origin.endswith("0.eml")
    assert [m.origin[-5:] for m in iterator] == ["1.eml"]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (b"Date: Mon, 09 Nov 2026 08:00:00 +0100\n", datetime(2026, 11, 9, 7, tzinfo=UTC)),
        (
            b"X: y\nDATE:\n Mon, 09 Nov 2026\n 08:00:00 -0000\n",
            datetime(2026, 11, 9, 8, tzinfo=UTC),
        ),
        (b"Date: yesterday, after lunch\n", None),
        (b"Subject: no date here\n", None),
    ],
)
def test_header_date(block: bytes, expected: datetime | None) -> None:
    assert header_date(block) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"no quoting\n", b"no quoting\n"),
        (b">From a\n>>From b\n> From c\n>Fromage\n", b"From a\n>From b\n> From c\n>Fromage\n"),
    ],
)
def test_unescape_mboxrd(raw: bytes, expected: bytes) -> None:
    assert unescape_mboxrd(raw) == expected


@pytest.mark.parametrize(
    ("folder", "sent"),
    [
        ("Sent", True),
        ("INBOX.Sent", True),
        ("[Gmail]/Sent Mail", True),
        ("Gesendete Objekte", True),
        ("Gesendet", True),
        ("INBOX", False),
        ("Sentinel", False),
        (None, False),
    ],
)
def test_looks_like_sent_folder(folder: str | None, sent: bool) -> None:
    assert looks_like_sent_folder(folder) is sent
