"""The note, the notification and the retention notice tell agents how to release held mail:
by moving its copy where the mailbox is watched over IMAP, with the CLI where it is not."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default

from mailguard.config import parse_config
from mailguard.config.notes import NoteConfig
from mailguard.executor.held_how import held_how
from mailguard.executor.note import build_note
from mailguard.executor.notices import build_notice
from mailguard.executor.notify import build_notification
from mailguard.store.records import PendingAction

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
CONFIG = """
notify: {agents: a@example.com, sender: mg@example.com, default_language: LANG}
mailboxes:
  - name: support
    addresses: [support@example.com]
    imap: {host: 127.0.0.1, user: support@example.com, password: pw, tls: plain}
    folders: {held: Zurückgehalten, release: Senden, drop: Verwerfen}
  - name: sales
    addresses: [sales@example.com]
"""


def _config(language: str = "en"):  # type: ignore[no-untyped-def]
    return parse_config(CONFIG.replace("LANG", language), "f.yaml", {})


def _body(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=default).get_content())


def test_the_sentence_names_the_mailboxs_folders_or_the_cli() -> None:
    support, sales = _config().mailboxes
    assert held_how(support, "de") == (
        'Zurückgehaltene Robot-Antworten liegen als Kopie im Ordner "Zurückgehalten": in den '
        'Ordner "Senden" verschieben, um eine zu senden, oder nach "Verwerfen", um sie zu '
        "verwerfen."
    )
    assert '"Senden" to send it' in held_how(support, "fr")  # other languages: English
    assert "mailguard held release ID" in held_how(sales, "en")
    assert "mailguard held release ID" in held_how(None, "en")


def test_the_note_beside_an_escalation_says_it() -> None:
    [support, _] = _config().mailboxes
    note = build_note(
        config=NoteConfig(),
        mailbox=support,
        sender="mg@example.com",
        customer="carl@customer.example",
        language="en",
        escalation=None,
        rule="frustration",
        messages=[],
        idempotency_key="k",
        now=NOW,
    )
    assert held_how(support, "en") in _body(note.raw)


def test_the_notification_says_it_for_its_mailbox() -> None:
    config = _config()
    action = PendingAction(
        1, "notify", "carl@customer.example", "n:1", {"mailbox": "sales"}, 0, None, NOW
    )
    raw = build_notification(
        config=config,
        recipient="a@example.com",
        action=action,
        escalation=None,
        messages=[],
        language="en",
        folder="-",
        now=NOW,
    )
    assert "mailguard held list, then mailguard held release ID" in _body(raw)


def test_the_retention_notice_names_the_copy_and_the_row() -> None:
    payload = {
        "notice": "held_expiring",
        "mailbox": "support",
        "held_id": 42,
        "message_id": "r1@example.com",
        "expires_at": "2026-12-31T08:00:00+00:00",
    }
    action = PendingAction(7, "notify", "r1@example.com", "retention:x:1:t", payload, 0, None, NOW)
    body = _body(build_notice(_config("de"), "a@example.com", action, '"Zurückgehalten"', NOW))
    assert (
        'Doch senden: seine Kopie aus dem Ordner "Zurückgehalten" nach "Senden" verschieben '
        "(oder auf dem Server: mailguard held release 42)."
    ) in body
