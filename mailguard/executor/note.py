"""The note for the agent, filed beside an escalated customer's mail.

Short, in the customer's language (the configured templates; DE and EN built in): who the
customer is, which rule hit and its evidence, the thread's timeline (who wrote what when,
which answers were automated), how to resolve, and how to send or discard a robot reply
held meanwhile. Its Message-ID is derived from the
outbox action's idempotency key, so the executor recognises a note it filed before a crash.
It carries ``Auto-Submitted: auto-generated`` (RFC 3834) so no robot answers it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from mailguard.config.model import MailboxConfig
from mailguard.config.notes import NoteConfig
from mailguard.domain.model import Direction
from mailguard.domain.policy_model import RULES
from mailguard.executor.held_how import held_how
from mailguard.executor.ports import EscalationRow, ThreadMessageRow
from mailguard.imap.actions import Note
from mailguard.imap.feedback import NOTE_HEADER

_SUBJECT = {"de": "[mailguard] Eskaliert: {subject}", "en": "[mailguard] Escalated: {subject}"}
_LABELS = {
    "de": {"customer": "Kunde", "us": "wir", "automated": "automatisch", "human": "Mensch"},
    "en": {"customer": "customer", "us": "us", "automated": "automated", "human": "human"},
}


def note_message_id(idempotency_key: str) -> str:
    """The note's Message-ID: the same for every attempt at one escalation action."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"note-{digest}@mailguard.invalid"


def timeline(messages: Sequence[ThreadMessageRow], language: str) -> str:
    """One line per message: when, who, human or automated (and which kind), subject."""
    labels = _LABELS.get(language, _LABELS["en"])
    lines = []
    for msg in messages:
        who = labels["customer"] if msg.direction is Direction.INBOUND else labels["us"]
        how = f"{labels['automated']}: {msg.kind}" if msg.automated else labels["human"]
        when = msg.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"- {when}  {who} ({msg.sender or '?'}, {how}): {msg.subject}")
    return "\n".join(lines) or "-"


def evidence_lines(evidence: Sequence[dict[str, Any]]) -> str:
    """The evidence objects as lines: ``- rule: "matched"``."""
    lines = [f"- {e.get('rule', '?')}: {str(e.get('matched', ''))[:200]!r}" for e in evidence]
    return "\n".join(lines) or "-"


def build_note(
    *,
    config: NoteConfig,
    mailbox: MailboxConfig,
    sender: str,
    customer: str,
    language: str | None,
    escalation: EscalationRow | None,
    rule: str,
    messages: Sequence[ThreadMessageRow],
    idempotency_key: str,
    now: datetime,
) -> Note:
    """The note as an RFC 5322 message for APPEND."""
    lang = language if language in config.templates else config.default_language
    subject = next((m.subject for m in messages if m.direction is Direction.INBOUND), "")
    rule_name = escalation.rule if escalation else rule
    info = RULES.get(rule_name)
    body = config.templates[lang].format(
        customer=customer,
        subject=subject,
        rule=rule_name,
        rule_description=info.description if info else (escalation.reason if escalation else ""),
        evidence=evidence_lines(escalation.evidence if escalation else []),
        timeline=timeline(messages, lang),
        handled_folder=mailbox.folders.handled,
        handled_keyword=mailbox.keywords.handled,
        held_how=held_how(mailbox, lang),
    )
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mailbox.addresses[0]
    msg["Subject"] = _SUBJECT.get(lang, _SUBJECT["en"]).format(subject=subject or customer)
    msg["Date"] = format_datetime(now.astimezone(UTC))
    message_id = note_message_id(idempotency_key)
    msg["Message-ID"] = f"<{message_id}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg[NOTE_HEADER] = "escalation"
    msg.set_content(body)
    # After set_content, which replaces every Content-* header (it dropped this one before).
    msg["Content-Language"] = lang
    return Note(message_id, msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
