"""Pure parts of the IMAP adapter and the executor: response parsing, names, backoff, notes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailguard.config.model import Config, MailboxConfig, parse_config
from mailguard.domain.model import Direction
from mailguard.errors import ConfigError
from mailguard.executor.executor import action_mailbox
from mailguard.executor.note import build_note, note_message_id
from mailguard.imap import parse
from mailguard.imap.connection import encode_folder
from mailguard.imap.feedback import senders
from mailguard.imap.sync import imap_date
from mailguard.imap.watcher import backoff

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


def test_folder_state_from_a_select_response() -> None:
    lines = [
        b"FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags",
        b"17 EXISTS",
        b"0 RECENT",
        b"OK [UIDVALIDITY 1764480000] UIDs valid",
        b"OK [UIDNEXT 42] Predicted next UID",
        b"OK [HIGHESTMODSEQ 90] Highest",
        b"[READ-WRITE] Select completed (0.001 + 0.000 secs).",
    ]
    flags = frozenset({"\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\*"})
    assert parse.folder_state(lines) == parse.FolderState(1764480000, 42, 17, 90, flags)
    with pytest.raises(ValueError, match="UIDVALIDITY"):
        parse.folder_state([b"3 EXISTS", b"Select completed"])


@pytest.mark.parametrize(
    ("lines", "uids"),
    [
        ([b"1 2 3", b"Search completed"], [1, 2, 3]),
        ([b"", b"Search completed"], []),
        ([b"SEARCH 4 9", b"done"], [4, 9]),
        ([b"7 5 (MODSEQ 917)", b"done"], [5, 7]),
    ],
)
def test_search_uids(lines: list[bytes], uids: list[int]) -> None:
    assert parse.search_uids(lines) == uids


def test_fetched_literals_skip_unsolicited_flag_updates() -> None:
    lines: list[bytes | bytearray] = [
        b"2 FETCH (UID 12 BODY[] {5}",
        bytearray(b"hello"),
        b")",
        b"3 FETCH (FLAGS (\\Seen) UID 13)",
        b"1 FETCH (UID 11 BODY[] {3}",
        bytearray(b"abc"),
        b")",
        b"Fetch completed",
    ]
    assert parse.fetched_literals(lines) == [(11, b"abc"), (12, b"hello")]


def test_append_uid_and_uid_sets() -> None:
    assert parse.append_uid([b"[APPENDUID 38505 3955] Append completed"]) == (38505, 3955)
    assert parse.append_uid([b"Append completed"]) is None
    assert parse.uid_set([9, 1, 2, 3, 7, 10]) == "1:3,7,9:10"
    assert parse.batches(list(range(450)))[-1] == list(range(400, 450))
    with pytest.raises(ValueError):
        parse.uid_set([])


def test_folder_names_are_quoted_in_modified_utf7() -> None:
    assert encode_folder("Escalated") == '"Escalated"'
    assert encode_folder("Eskaliert & Erledigt") == '"Eskaliert &- Erledigt"'
    assert encode_folder("Entwürfe") == '"Entw&APw-rfe"'
    with pytest.raises(ValueError):
        parse.quote("a\r\nb")


def test_imap_dates_ignore_the_locale() -> None:
    assert imap_date(NOW) == "5-Mar-2026"


def test_backoff_grows_with_jitter_and_stays_under_the_cap() -> None:
    rng = random.Random(1)
    delays = [backoff(n, 30.0, rng) for n in range(12)]
    assert all(0 < d <= 30.0 for d in delays)
    assert delays[0] <= 0.5 and delays[-1] >= 15.0


def test_senders_skip_mailguard_notes() -> None:
    headers = [
        b"From: Carl <Carl@Customer.example>\r\n\r\n",
        b"From: mailguard@localhost\r\nX-Mailguard-Note: escalation\r\n\r\n",
        b"From: carl@customer.example\r\n\r\n",
    ]
    assert senders(headers) == ["carl@customer.example"]


@dataclass(frozen=True)
class Row:
    id: int = 1
    kind: str = "hold_outbound"
    target: str = "m@x"
    idempotency_key: str = "support:out:m@x:0:hold_outbound"
    payload: dict[str, Any] | None = None
    attempts: int = 0
    created_at: datetime = NOW


def test_action_mailbox_from_payload_or_key() -> None:
    assert action_mailbox(Row(payload={})) == "support"  # type: ignore[arg-type]
    assert action_mailbox(Row(payload={"mailbox": "sales"})) == "sales"  # type: ignore[arg-type]


@dataclass(frozen=True)
class Msg:
    message_id: str
    direction: Direction
    kind: str
    automated: bool
    sender: str | None
    subject: str
    at: datetime


@dataclass(frozen=True)
class Esc:
    rule: str = "automated_streak"
    reason: str = "2 messages"
    evidence: tuple[dict[str, Any], ...] = ({"rule": "automated_streak", "matched": "m1"},)
    opened_at: datetime = NOW


@pytest.mark.parametrize(
    ("language", "heading"), [("de", "Verlauf:"), ("en", "Timeline:"), ("fr", "Timeline:")]
)
def test_the_note_is_in_the_customers_language(language: str, heading: str) -> None:
    config = Config()
    mailbox = MailboxConfig(name="support", addresses=["support@example.com"])
    messages = [
        Msg("a@c", Direction.INBOUND, "human", False, "carl@c.example", "Gutschein", NOW),
        Msg(
            "b@s",
            Direction.OUTBOUND,
            "ticket_ack",
            True,
            "support@example.com",
            "Re",
            NOW + timedelta(minutes=1),
        ),
    ]
    note = build_note(
        config=config.note,
        mailbox=mailbox,
        sender="mailguard@example.com",
        customer="carl@c.example",
        language=language,
        escalation=Esc(),  # type: ignore[arg-type]
        rule="automated_streak",
        messages=messages,
        idempotency_key="k1",
        now=NOW,
    )
    text = note.raw.decode()
    assert note.message_id == note_message_id("k1") != note_message_id("k2")
    assert f"<{note.message_id}>" in text and "Auto-Submitted: auto-generated" in text
    assert heading in text and "ticket_ack" in text and "carl@c.example" in text
    assert "2026-03-05 09:30 UTC" in text
    expected = "en" if language == "fr" else language  # fr has no template: the default
    assert f"Content-Language: {expected}\r\n" in text


def test_config_checks_note_templates_and_idle_renewal() -> None:
    base = "mailboxes:\n  - name: s\n    addresses: [s@example.com]\n"
    imap = "    imap: {host: h.example.com, user: u, password: p, idle_renew: 30m}\n"
    with pytest.raises(ConfigError, match="below 29m"):
        parse_config(base + imap, "f.yaml", env={})
    with pytest.raises(ConfigError, match="placeholders"):
        parse_config("note: {templates: {en: 'hi {nobody}'}}\n", "f.yaml", env={})
    config = parse_config("note: {templates: {en: 'for {customer}'}}\n", "f.yaml", env={})
    assert config.note.templates["en"] == "for {customer}"
    assert "Verlauf" in config.note.templates["de"]


def test_byte_batches_cut_by_count_and_bytes() -> None:
    sizes = {1: 10, 2: 10, 3: 30, 4: 5, 5: 5, 6: 5}
    assert parse.byte_batches([1, 2, 3, 4, 5, 6], sizes, 25) == [
        ([1, 2], 20),
        ([3], 30),
        ([4, 5, 6], 15),
    ]
    assert parse.byte_batches([1, 2, 3, 4, 5, 6], sizes, 1000, size=4) == [
        ([1, 2, 3, 4], 55),
        ([5, 6], 10),
    ]
    assert parse.fetched_sizes(
        [b"1 FETCH (UID 7 RFC822.SIZE 1234)", b"2 FETCH (RFC822.SIZE 99 UID 8)", b"OK done"]
    ) == {7: 1234, 8: 99}
