"""The relay journal: one locked file per process, what a dead process left is recovered."""

from __future__ import annotations

from pathlib import Path

from mailguard.smtp.journal import JournalEntry, RelayJournal


def entry(n: int, refused: bool = False) -> JournalEntry:
    return JournalEntry(
        "support",
        f"m{n}@example.com",
        "out",
        "e" * 64,
        "2.0.0 Ok",
        {"dora@x.example": (550, "5.1.1 no")} if refused else {},
        "support@example.com" if refused else "",
        b"Subject: \xe9\r\n\r\n" if refused else b"",
        "relay.example" if refused else "",
        "2026-12-07T08:00:00+00:00",
    )


def test_a_line_round_trips() -> None:
    for item in (entry(1), entry(2, refused=True)):
        assert JournalEntry.parse(item.line()) == item


def test_each_process_has_its_own_file_and_a_dead_ones_is_recovered(tmp_path: Path) -> None:
    first, second = RelayJournal(tmp_path), RelayJournal(tmp_path)
    assert first.open() == [] and second.open() == []
    first.append(entry(1))
    assert first.pending(entry(1).key) == entry(1)
    # While the first lives, nobody else reads its file.
    third = RelayJournal(tmp_path)
    second.close()
    assert third.open() == []
    third.close()
    first.close()  # the process dies: its lock goes with it
    heir = RelayJournal(tmp_path)
    assert heir.open() == [entry(1)]
    heir.recovered()
    heir.close()
    assert RelayJournal(tmp_path).open() == []


def test_a_committed_entry_is_no_longer_pending(tmp_path: Path) -> None:
    journal = RelayJournal(tmp_path)
    journal.open()
    journal.append(entry(1))
    journal.committed(entry(1))
    assert journal.pending(entry(1).key) is None
    journal.close()


def test_a_torn_line_is_skipped(tmp_path: Path) -> None:
    journal = RelayJournal(tmp_path)
    journal.open()
    journal.append(entry(1))
    journal.close()
    with (tmp_path / "relay-journal.0").open("ab") as file:
        file.write(entry(2).line()[:20])
    assert RelayJournal(tmp_path).open() == [entry(1)]
