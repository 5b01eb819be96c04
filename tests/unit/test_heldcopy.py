"""The held copy's stamp and what an agent's command on a copy may do (pure)."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email.policy import default

import pytest

from mailguard.domain.heldcopy import (
    Command,
    HeldFacts,
    Outcome,
    Stamp,
    digest,
    how,
    judge,
    parse_stamp,
    stamp,
)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
RAW = b"From: support@example.com\r\nTo: carl@customer.example\r\nSubject: x\r\n\r\nhi\r\n"
BUSY = timedelta(minutes=4)


def _copy(held_id: int = 7, message_id: str = "r1@example.com", raw: bytes = RAW) -> bytes:
    text = how("Release", "Drop", "$MailguardRelease", "$MailguardDrop", keywords=True)
    return stamp(held_id, message_id, raw, text) + raw


def _row(state: str = "held", **changes: object) -> HeldFacts:
    values: dict[str, object] = {
        "id": 7,
        "mailbox": "support",
        "message_id": "r1@example.com",
        "raw": RAW,
        "state": state,
        "claimed_at": None,
        "relayed": False,
    }
    values.update(changes)
    return HeldFacts(**values)  # type: ignore[arg-type]


def test_a_stamped_copy_is_a_message_whose_headers_say_how() -> None:
    copy = _copy()
    assert parse_stamp(copy) == Stamp("r1@example.com", 7, digest(RAW))
    msg = email.message_from_bytes(copy, policy=default)
    assert msg["Subject"] == "x" and msg["X-Mailguard-Held-Id"] == f"7; sha256={digest(RAW)}"
    assert 'move it to the folder "Release"' in str(msg["X-Mailguard-How"])
    assert "$MailguardDrop" in str(msg["X-Mailguard-How"])
    # Every header line of the stamp is short enough for any server (folded).
    assert all(len(line) <= 78 for line in copy.split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_without_keywords_the_copy_names_the_folders_only() -> None:
    text = how("Freigeben", "Verwerfen", "$R", "$D", keywords=False)
    assert "$R" not in text and '"Freigeben"' in text and '"Verwerfen"' in text


def test_a_non_ascii_folder_name_is_encoded() -> None:
    text = how("Senden ✓", "Löschen", "$R", "$D", keywords=False)
    copy = stamp(1, "m@x", RAW, text) + RAW
    assert copy.isascii()
    msg = email.message_from_bytes(copy, policy=default)
    assert "Löschen" in str(msg["X-Mailguard-How"])


@pytest.mark.parametrize(
    "raw",
    [
        RAW,  # no stamp at all
        b"Received: from x\r\nX-Mailguard-Held: r1@example.com\r\n\r\nbody",  # not first
    ],
)
def test_mail_without_a_leading_stamp_is_not_a_copy(raw: bytes) -> None:
    assert parse_stamp(raw) is None
    assert judge(None, Command.RELEASE, "support", _row(), NOW, BUSY).outcome is Outcome.REFUSED


def test_an_id_line_further_down_does_not_count() -> None:
    raw = b"X-Mailguard-Held: r1@example.com\r\nFrom: a@b\r\nX-Mailguard-Held-Id: 7; sha256="
    raw += digest(RAW).encode() + b"\r\n\r\nbody"
    assert parse_stamp(raw) == Stamp("r1@example.com", None, None)
    verdict = judge(parse_stamp(raw), Command.RELEASE, "support", _row(), NOW, BUSY)
    assert verdict.outcome is Outcome.REFUSED and "older version" in verdict.why


def test_a_waiting_row_is_released_or_dropped_as_asked() -> None:
    found = parse_stamp(_copy())
    assert judge(found, Command.RELEASE, "support", _row(), NOW, BUSY).outcome is Outcome.RELEASE
    assert judge(found, Command.DROP, "support", _row(), NOW, BUSY).outcome is Outcome.DROP


@pytest.mark.parametrize(
    ("row", "why"),
    [
        (None, "no held message 7"),
        (_row(mailbox="sales"), "another mailbox"),
        (_row(message_id="other@example.com"), "is not <r1@example.com>"),
        (_row(raw=RAW + b"changed"), "digest does not match"),
        (_row("deferred"), "deferred, not held"),
    ],
)
def test_a_copy_that_does_not_match_a_waiting_row_is_refused(
    row: HeldFacts | None, why: str
) -> None:
    verdict = judge(parse_stamp(_copy()), Command.RELEASE, "support", row, NOW, BUSY)
    assert verdict.outcome is Outcome.REFUSED and why in verdict.why


def test_a_forged_digest_is_refused() -> None:
    forged = Stamp("r1@example.com", 7, "0" * 32)
    verdict = judge(forged, Command.RELEASE, "support", _row(), NOW, BUSY)
    assert verdict.outcome is Outcome.REFUSED


def test_a_settled_row_tells_what_became_of_it_whatever_was_asked() -> None:
    found = parse_stamp(_copy())
    released = _row("released", relayed=True, claimed_at=NOW - timedelta(hours=1))
    for command in Command:
        assert judge(found, command, "support", released, NOW, BUSY).outcome is Outcome.RELEASED
        dropped = judge(found, command, "support", _row("discarded"), NOW, BUSY)
        assert dropped.outcome is Outcome.DROPPED


def test_a_claim_without_receipt_is_busy_at_first_then_uncertain() -> None:
    found = parse_stamp(_copy())
    fresh = _row("released", claimed_at=NOW - timedelta(seconds=5))
    assert judge(found, Command.RELEASE, "support", fresh, NOW, BUSY).outcome is Outcome.BUSY
    stale = _row("released", claimed_at=NOW - BUSY - timedelta(seconds=1))
    verdict = judge(found, Command.RELEASE, "support", stale, NOW, BUSY)
    assert verdict.outcome is Outcome.UNCERTAIN
    assert "mailguard held release --force 7" in verdict.why
