"""Retention notices: the agents are told before mailguard removes held or failed mail.

A held robot reply is dropped unsent after ``retention.held``; a failed message or a
given-up action is removed after ``retention.failed``; the store writes a ``notify`` action
with the payload's ``notice`` naming which (:mod:`mailguard.store.retention`) ``notice``
before, and the notifier mails it with the text here, in ``notify.default_language`` (DE and
EN built in; other languages get English). It goes to the agents only, like every
notification.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailguard.config.model import Config, MailboxConfig
from mailguard.domain.retention import (
    FAILED_ACTION_EXPIRING,
    FAILED_MESSAGE_EXPIRING,
    HELD_EXPIRING,
)
from mailguard.executor.executor import action_mailbox
from mailguard.executor.mail import compose
from mailguard.executor.ports import ActionRow

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        HELD_EXPIRING: (
            "Held robot reply to {customer} is dropped on {expires_at}",
            "mailguard holds a robot's reply that nobody released or dropped. On {expires_at} "
            "it is dropped and never sent (retention.held).\n\n"
            "To: {recipients}\nMessage-ID: <{message_id}>\nMailbox: {mailbox}, copy in the "
            "folder {folder}\nHeld since: {held_at}\nWhy: {reason}\n\n"
            "To send it after all: {how}\n",
        ),
        FAILED_MESSAGE_EXPIRING: (
            "Failed message <{message_id}> is removed on {expires_at}",
            "mailguard could not process a message; its copy is removed from mailguard's "
            "store on {expires_at} (retention.failed). The message itself stays in the "
            "mailbox or with the sender.\n\n"
            "Message-ID: <{message_id}>\nMailbox: {mailbox} ({direction})\nFailed: "
            "{attempts} time(s), first {first_failed_at}, last {last_failed_at}\n"
            "Error: {error}\n",
        ),
        FAILED_ACTION_EXPIRING: (
            "Failed {action_kind} action is removed on {expires_at}",
            "mailguard gave up an action after repeated failures; its record is removed on "
            "{expires_at} (retention.failed). Whatever it should have done was not done.\n\n"
            "Action: {action_kind} for {action_target}\nMailbox: {mailbox}\nAttempts: "
            "{attempts}, given up {failed_at}\nLast error: {error}\n",
        ),
    },
    "de": {
        HELD_EXPIRING: (
            "Zurückgehaltene Robot-Antwort an {customer} wird am {expires_at} verworfen",
            "mailguard hält eine Antwort eines Robots zurück, die niemand freigegeben oder "
            "verworfen hat. Am {expires_at} wird sie verworfen und nie gesendet "
            "(retention.held).\n\n"
            "An: {recipients}\nMessage-ID: <{message_id}>\nPostfach: {mailbox}, Kopie im "
            "Ordner {folder}\nZurückgehalten seit: {held_at}\nGrund: {reason}\n\n"
            "Doch senden: {how}\n",
        ),
        FAILED_MESSAGE_EXPIRING: (
            "Fehlgeschlagene Nachricht <{message_id}> wird am {expires_at} entfernt",
            "mailguard konnte eine Nachricht nicht verarbeiten; ihre Kopie wird am "
            "{expires_at} aus mailguards Speicher entfernt (retention.failed). Die Nachricht "
            "selbst bleibt im Postfach oder beim Absender.\n\n"
            "Message-ID: <{message_id}>\nPostfach: {mailbox} ({direction})\nFehlgeschlagen: "
            "{attempts} Mal, zuerst {first_failed_at}, zuletzt {last_failed_at}\n"
            "Fehler: {error}\n",
        ),
        FAILED_ACTION_EXPIRING: (
            "Fehlgeschlagene Aktion {action_kind} wird am {expires_at} entfernt",
            "mailguard hat eine Aktion nach wiederholten Fehlern aufgegeben; ihr Eintrag wird "
            "am {expires_at} entfernt (retention.failed). Was sie tun sollte, ist nicht "
            "geschehen.\n\n"
            "Aktion: {action_kind} für {action_target}\nPostfach: {mailbox}\nVersuche: "
            "{attempts}, aufgegeben {failed_at}\nLetzter Fehler: {error}\n",
        ),
    },
}


_HOW = {
    "en": (
        'move its copy from the folder "{held}" to "{release}" (or on the server: mailguard '
        "held release {held_id})."
    ),
    "de": (
        'seine Kopie aus dem Ordner "{held}" nach "{release}" verschieben (oder auf dem '
        "Server: mailguard held release {held_id})."
    ),
}
_HOW_SHELL = {
    "en": "mailguard held release {held_id} on the server.",
    "de": "mailguard held release {held_id} auf dem Server.",
}


def _how(mailbox: MailboxConfig | None, language: str, held_id: Any) -> str:
    """How to send the held reply after all: by its copy where there is IMAP."""
    number = str(held_id) if held_id is not None else "ID"
    if mailbox is None or mailbox.imap is None:
        return _HOW_SHELL[language].format(held_id=number)
    folders = mailbox.folders
    return _HOW[language].format(held=folders.held, release=folders.release, held_id=number)


class _Blank(dict[str, Any]):
    """Format fields: a value missing from an older payload reads as "-"."""

    def __missing__(self, key: str) -> str:
        return "-"


def _when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return str(value or "-")


def build_notice(
    config: Config, recipient: str, action: ActionRow, folder: str, now: datetime
) -> bytes:
    """The notice of one ``notify`` action with a ``notice`` payload, as RFC 5322 bytes."""
    payload = action.payload
    notice = str(payload.get("notice"))
    lang = config.notify.default_language if config.notify.default_language in _TEXTS else "en"
    texts = _TEXTS[lang]
    if notice not in texts:
        raise ValueError(f"unknown retention notice {notice!r}")
    subject, body = texts[notice]
    fields = _Blank({k: v for k, v in payload.items() if v is not None})
    mailbox = next((m for m in config.mailboxes if m.name == action_mailbox(action)), None)
    fields |= {
        "how": _how(mailbox, lang, payload.get("held_id")),
        "mailbox": action_mailbox(action),
        "folder": folder,
        "recipients": ", ".join(payload.get("recipients") or ()) or "-",
        "customer": payload.get("customer") or "-",
    }
    for name in ("expires_at", "held_at", "first_failed_at", "last_failed_at", "failed_at"):
        if name in fields:
            fields[name] = _when(fields[name])
    return compose(
        sender=config.notify.sender,
        recipient=recipient,
        subject="[mailguard] " + subject.format_map(fields),
        body=body.format_map(fields),
        idempotency_key=action.idempotency_key,
        marker=notice,
        language=lang,
        now=now,
    )
