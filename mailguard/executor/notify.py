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

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import structlog
from prometheus_client import Counter

from mailguard.config.model import Config, MailboxConfig
from mailguard.domain.model import Direction
from mailguard.domain.policy_model import RULES
from mailguard.domain.retention import STALE_RULE
from mailguard.executor.executor import Handler, action_mailbox
from mailguard.executor.held_how import held_how
from mailguard.executor.mail import compose, notification_message_id
from mailguard.executor.note import evidence_lines, timeline
from mailguard.executor.notices import build_notice
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
        "stale": "Als veraltet geschlossen",
        "open_line": "mailguard hat ein Gespr\u00e4ch an einen Menschen eskaliert.",
        "sla_line": "Ein eskaliertes Gespr\u00e4ch wartet noch auf eine Antwort ({level}).",
        "stale_line": "Ein eskaliertes Gespr\u00e4ch blieb so lange unbeantwortet, dass mailguard "
        "die Eskalation geschlossen hat (retention.escalations). Der Kunde wartet "
        "vielleicht noch.",
    },
    "en": {
        "open": "Escalated",
        "sla": "Unanswered",
        "stale": "Closed as stale",
        "open_line": "mailguard escalated a conversation to a person.",
        "sla_line": "An escalated conversation is still waiting for an answer ({level}).",
        "stale_line": "An escalated conversation went unanswered for so long that mailguard "
        "closed the escalation (retention.escalations). The customer may still be waiting.",
    },
}
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
    what = {"sla": "sla", STALE_RULE: "stale"}.get(str(payload.get("rule")), "open")
    rule = escalation.rule if escalation else str(payload.get("rule") or "")
    info = RULES.get(rule)
    subject = next((m.subject for m in messages if m.direction is Direction.INBOUND), "")
    body = notify.templates[lang].format(
        headline=words[f"{what}_line"].format(level=level),
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
        held_how=held_how(_mailbox_of(config, action_mailbox(action)), lang),
    )
    subject_line = _SUBJECT.get(lang, _SUBJECT["en"]).format(
        what=words[what], customer=customer, subject=subject or "-"
    )
    return compose(
        sender=notify.sender,
        recipient=recipient,
        subject=subject_line,
        body=body,
        idempotency_key=action.idempotency_key,
        marker=level,
        language=lang,
        now=now,
    )


def _mailbox_of(config: Config, name: str) -> MailboxConfig | None:
    return next((m for m in config.mailboxes if m.name == name), None)


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
        to = ", ".join(recipients)
        if action.payload.get("notice"):
            raw = build_notice(self._config, to, action, self._folder(mailbox, held=True), now)
        else:
            raw = await self._message(action, mailbox, customer, to, now)
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

    def _folder(self, mailbox: str, *, held: bool = False) -> str:
        config = self._mailboxes.get(mailbox)
        if config is None or config.imap is None:
            return "- (no IMAP for this mailbox: see the helpdesk)"
        folder = config.folders.held if held else config.folders.escalation
        return f'"{folder}" ({config.imap.user}@{config.imap.host})'
