"""The ``notify`` handler: mail the agents when an escalation opens and on each SLA breach.

The engine writes ``notify`` outbox actions (level ``primary`` or ``secondary``); this
handler turns one into a short mail to ``notify.agents`` (``notify.secondary`` for the
secondary level, the agents when none is set) and hands it to the upstream relay, the same
top-level ``relay:`` the proxy uses, so an IMAP-only deployment can notify too. It goes to
the configured agents only, never to the customer.

Content, in the language of the customer's message (templates in ``notify.templates``, DE
and EN built in): the customer, the rule and its evidence, the thread's timeline (the
note's :func:`~mailguard.executor.note.timeline`) and where the thread is (its folder).

Idempotency: the Message-ID is derived from the action's idempotency key, so every attempt
at one action sends the same message. SMTP has no "did you get this already?", though: a
crash after the relay took the mail and before the executor marked the action done sends it
once more on restart, with the same Message-ID (a mail client shows it as a duplicate).
A relay failure raises, and the executor retries with backoff; ``mailguard status`` shows
the attempts and the last error. Without ``notify.agents`` the action is marked done as
skipped, with a log line; nothing pretends to send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import quote

import structlog
from prometheus_client import Counter

from mailguard.config.model import Config, MailboxConfig
from mailguard.domain.model import Direction
from mailguard.domain.policy_model import RULES
from mailguard.executor.executor import Handler, action_mailbox
from mailguard.executor.note import evidence_lines, timeline
from mailguard.executor.ports import ActionRow, EscalationRow, ThreadMessageRow
from mailguard.smtp.relay import RelayError, RelayResult

log = structlog.get_logger("mailguard.executor.notify")

NOTIFICATIONS = Counter(
    "mailguard_notifications",
    "Agent notifications, by level and outcome (sent, failed, skipped)",
    ["level", "outcome"],
)

_SUBJECT = {
    "de": "[mailguard] {what}: {customer} - {subject}",
    "en": "[mailguard] {what}: {customer} - {subject}",
}
_HEADLINE = {
    "de": {
        "open": "Eskaliert",
        "sla": "Unbeantwortet",
        "open_line": "mailguard hat ein Gespr\u00e4ch an einen Menschen eskaliert.",
        "sla_line": "Ein eskaliertes Gespr\u00e4ch wartet noch auf eine Antwort ({level}).",
    },
    "en": {
        "open": "Escalated",
        "sla": "Unanswered",
        "open_line": "mailguard escalated a conversation to a person.",
        "sla_line": "An escalated conversation is still waiting for an answer ({level}).",
    },
}
NOTIFY_HEADER = "X-Mailguard-Notification"
NO_AGENTS = "skipped: no notify.agents configured"


class Sender(Protocol):
    """What sends a notification: :class:`mailguard.smtp.relay.Relay`."""

    async def send(
        self,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> RelayResult: ...


class NotifyStore(Protocol):
    """The reads a notification is made of."""

    async def thread_messages(
        self, mailbox: str, customer: str, thread_root: str
    ) -> Sequence[ThreadMessageRow]: ...

    async def escalation(
        self, mailbox: str, customer: str, thread_root: str | None
    ) -> EscalationRow | None: ...

    async def escalation_context(
        self, mailbox: str, customer: str
    ) -> tuple[str | None, str | None]: ...


def notification_message_id(idempotency_key: str) -> str:
    """The notification's Message-ID: the same for every attempt at one action."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"notify-{digest}@mailguard.invalid"


def build_notification(
    *,
    config: Config,
    recipient: str,
    action: ActionRow,
    escalation: EscalationRow | None,
    messages: Sequence[ThreadMessageRow],
    language: str | None,
    folder: str,
    now: datetime,
    where: str | None = None,
) -> bytes:
    """The notification as RFC 5322 bytes with CRLF line ends, ready for the relay."""
    notify = config.notify
    payload: dict[str, Any] = action.payload
    lang = language if language in notify.templates else notify.default_language
    words = _HEADLINE.get(lang, _HEADLINE["en"])
    customer = str(payload.get("customer") or action.target)
    level = str(payload.get("level") or "primary")
    sla = payload.get("rule") == "sla"
    rule = escalation.rule if escalation else str(payload.get("rule") or "")
    info = RULES.get(rule)
    subject = next((m.subject for m in messages if m.direction is Direction.INBOUND), "")
    body = notify.templates[lang].format(
        headline=words["sla_line" if sla else "open_line"].format(level=level),
        customer=customer,
        subject=subject or "-",
        mailbox=action_mailbox(action),
        folder=folder,
        where=where or f"the folder {folder}",
        rule=rule or "-",
        rule_description=info.description if info else (escalation.reason if escalation else ""),
        reason=str(payload.get("reason") or "-"),
        evidence=evidence_lines(escalation.evidence if escalation else []),
        timeline=timeline(messages, lang),
        level=level,
    )
    msg = EmailMessage()
    msg["From"] = notify.sender
    msg["To"] = recipient
    msg["Subject"] = _SUBJECT.get(lang, _SUBJECT["en"]).format(
        what=words["sla" if sla else "open"], customer=customer, subject=subject or "-"
    )
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg["Message-ID"] = f"<{notification_message_id(action.idempotency_key)}>"
    # RFC 3834: an automatic message; no auto-responder should answer it.
    msg["Auto-Submitted"] = "auto-generated"
    msg[NOTIFY_HEADER] = level
    msg.set_content(body)
    # After set_content, which replaces every Content-* header.
    msg["Content-Language"] = lang
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def helpdesk_location(
    config: MailboxConfig, customer: str, messages: Sequence[ThreadMessageRow]
) -> str:
    """The helpdesk's thread (its link, filled in), and what mailguard left in the mailbox."""
    helpdesk = config.helpdesk
    inbound = [m for m in messages if m.direction is Direction.INBOUND]
    latest = inbound[-1] if inbound else None
    place = helpdesk.name or "the helpdesk"
    if helpdesk.link:
        link = helpdesk.link.format(
            message_id=quote(latest.message_id if latest else "", safe="@"),
            customer=quote(customer, safe="@"),
            subject=quote(latest.subject if latest else "", safe=""),
        )
        place = f"{place}: {link}"
    elif latest is not None:
        place = f"{place}, the ticket of the message <{latest.message_id}>"
    mode = config.imap.escalate_mode if config.imap is not None else None
    if mode == "copy":
        return f'{place} (a copy is in the folder "{config.folders.escalation}")'
    if mode == "flag":
        return f'{place} (flagged in "{config.folders.inbox}" until the helpdesk fetches it)'
    return place


class Notifier:
    """Performs ``notify`` actions through the relay."""

    def __init__(self, config: Config, store: NotifyStore, sender: Sender) -> None:
        self._config = config
        self._store = store
        self._sender = sender
        self._mailboxes: dict[str, MailboxConfig] = {m.name: m for m in config.mailboxes}

    def handlers(self) -> dict[str, Handler]:
        """The executor's ``notify`` handler."""
        return {"notify": self.notify}

    def recipients(self, level: str) -> list[str]:
        """Who gets a notification of this level (empty: nobody is configured).

        The secondary level (the second SLA period) goes to ``notify.secondary`` and, as
        the example configuration says, to the agents too: they still own the thread.
        """
        notify = self._config.notify
        if notify.agents is None:
            return []
        if level == "secondary" and notify.secondary is not None:
            return [notify.secondary, notify.agents]
        return [notify.agents]

    async def notify(self, action: ActionRow, now: datetime) -> str:
        """Send one notification; raises on a relay failure (the executor retries)."""
        level = str(action.payload.get("level") or "primary")
        mailbox = action_mailbox(action)
        customer = str(action.payload.get("customer") or action.target)
        recipients = [r for r in self.recipients(level) if r.lower() != customer.lower()]
        if not recipients:
            # Without agents nothing is sent; a recipient equal to the customer is dropped
            # above, so a misconfiguration never turns an internal alarm into customer mail.
            NOTIFICATIONS.labels(level, "skipped").inc()
            log.warning(
                "notification_skipped",
                reason="no notify.agents configured",
                mailbox=mailbox,
                customer=customer,
                level=level,
            )
            return NO_AGENTS
        raw = await self._message(action, mailbox, customer, ", ".join(recipients), now)
        try:
            result = await self._sender.send(raw, self._config.notify.sender, recipients)
        except RelayError:
            NOTIFICATIONS.labels(level, "failed").inc()
            raise
        message_id = notification_message_id(action.idempotency_key)
        if result.refused:
            # The relay took it for some recipients; resending would duplicate it for them,
            # so the refusal is logged and counted, and the action is done.
            NOTIFICATIONS.labels(level, "failed").inc()
            log.error("notification_refused", refused=sorted(result.refused), message_id=message_id)
        NOTIFICATIONS.labels(level, "sent").inc()
        log.info(
            "notification_sent",
            mailbox=mailbox,
            customer=customer,
            level=level,
            to=recipients,
            message_id=message_id,
        )
        return f"sent to {', '.join(recipients)} ({level}) as <{message_id}>"

    async def _message(
        self, action: ActionRow, mailbox: str, customer: str, recipient: str, now: datetime
    ) -> bytes:
        root, language = await self._store.escalation_context(mailbox, customer)
        escalation = await self._store.escalation(mailbox, customer, root)
        messages = await self._store.thread_messages(mailbox, customer, root) if root else []
        payload_language = action.payload.get("language")
        return build_notification(
            config=self._config,
            recipient=recipient,
            action=action,
            escalation=escalation,
            messages=messages,
            language=str(payload_language) if payload_language else language,
            folder=self._folder(mailbox),
            now=now,
            where=self._where(mailbox, customer, messages),
        )

    def _where(
        self, mailbox: str, customer: str, messages: Sequence[ThreadMessageRow]
    ) -> str | None:
        """Where agents find the thread when a helpdesk fetches the mailbox (else None)."""
        config = self._mailboxes.get(mailbox)
        if config is None or not (config.helpdesk.fetches_inbox or config.helpdesk.name):
            return None
        return helpdesk_location(config, customer, messages)

    def _folder(self, mailbox: str) -> str:
        config = self._mailboxes.get(mailbox)
        if config is None or config.imap is None:
            return "- (no IMAP for this mailbox: see the helpdesk)"
        return f'"{config.folders.escalation}" ({config.imap.user}@{config.imap.host})'
