"""Retention notices as the agents read them, in DE and EN."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default

import pytest

from mailguard.config import parse_config
from mailguard.executor.notices import build_notice
from mailguard.store.records import PendingAction

NOW = datetime(2026, 3, 30, 8, 1, tzinfo=UTC)


def _action(payload: dict[str, object]) -> PendingAction:
    return PendingAction(7, "notify", "r1@example.com", "retention:x:1:t", payload, 0, None, NOW)


def test_a_held_notice_in_german_says_when_and_how_to_release() -> None:
    config = parse_config(
        "notify: {agents: a@example.com, sender: mg@example.com, default_language: de}\n",
        "f.yaml",
        {},
    )
    payload = {
        "notice": "held_expiring",
        "mailbox": "support",
        "customer": "kunde@example.org",
        "recipients": ["kunde@example.org"],
        "message_id": "r1@example.com",
        "held_at": "2026-03-01T08:00:00+00:00",
        "expires_at": "2026-03-31T08:00:00+00:00",
        "reason": "customer escalated (frustration)",
    }
    raw = build_notice(config, "a@example.com", _action(payload), '"Held" (x)', NOW)
    msg = email.message_from_bytes(raw, policy=default)
    assert msg["Subject"] == (
        "[mailguard] Zurückgehaltene Robot-Antwort an kunde@example.org wird am "
        "2026-03-31 08:00 UTC verworfen"
    )
    assert msg["X-Mailguard-Notification"] == "held_expiring"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Content-Language"] == "de"
    body = msg.get_content()
    assert "Message-ID: <r1@example.com>" in body and "mailguard held release ID" in body
    assert 'Kopie im Ordner "Held" (x)' in body


def test_a_field_missing_from_the_payload_reads_as_a_dash() -> None:
    config = parse_config("notify: {agents: a@example.com}\n", "f.yaml", {})
    payload = {"notice": "failed_action_expiring", "action_kind": "escalate"}
    msg = email.message_from_bytes(
        build_notice(config, "a@example.com", _action(payload), "-", NOW), policy=default
    )
    assert msg["Subject"] == "[mailguard] Failed escalate action is removed on -"
    assert "Last error: -" in msg.get_content()


def test_an_unknown_notice_is_an_error() -> None:
    config = parse_config("notify: {agents: a@example.com}\n", "f.yaml", {})
    with pytest.raises(ValueError, match="unknown retention notice"):
        build_notice(config, "a@example.com", _action({"notice": "what"}), "-", NOW)
