"""Handlers for the outbox actions that act in a mailbox over IMAP.

``escalate``: file the customer's messages of the thread into the escalation folder with
the keyword and \\Flagged, and the note beside them. ``file_follow_up``: file one more message
of an escalated customer there (no second note). ``hold_outbound``: a copy of the held
reply into the held folder. ``resolve``: nothing to change in the mailbox (the agent already
acted there, or replied); the robot replies still held for the customer are discarded.
``remove_held_copy``: retention dropped a held reply unsent, its copy leaves the held
folder. A mailbox without IMAP skips them.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import TypeVar

import structlog

from mailguard.config.model import Config, MailboxConfig
from mailguard.domain.model import Direction
from mailguard.domain.retention import REMOVE_HELD_COPY
from mailguard.executor.executor import Handler, MailboxUnavailable, action_mailbox
from mailguard.executor.note import build_note
from mailguard.executor.ports import ActionRow, OutboxStore
from mailguard.imap.actions import ImapMailboxActions
from mailguard.imap.connection import ImapCommandError, ImapError

_T = TypeVar("_T")

log = structlog.get_logger("mailguard.executor.mailbox")

NO_IMAP = "skipped: the mailbox has no IMAP configured"


class MailboxHandlers:
    """The IMAP-side handlers, over one :class:`ImapMailboxActions` per IMAP mailbox."""

    def __init__(
        self,
        config: Config,
        store: OutboxStore,
        actions: Mapping[str, ImapMailboxActions],
    ) -> None:
        self._config = config
        self._store = store
        self._actions = dict(actions)
        self._mailboxes: dict[str, MailboxConfig] = {m.name: m for m in config.mailboxes}

    def handlers(self) -> dict[str, Handler]:
        """Kind -> handler; ``notify`` and ``circuit_break`` are not the mailbox's to do."""
        return {
            "escalate": self.escalate,
            "file_follow_up": self.file_follow_up,
            "hold_outbound": self.hold_outbound,
            "resolve": self.resolve,
            REMOVE_HELD_COPY: self.remove_held_copy,
        }

    async def close(self) -> None:
        for actions in self._actions.values():
            await actions.close()

    async def escalate(self, action: ActionRow, now: datetime) -> str:
        payload = action.payload
        mailbox = action_mailbox(action)
        actions = self._actions.get(mailbox)
        config = self._mailboxes.get(mailbox)
        if actions is None or config is None:
            return NO_IMAP
        customer = str(payload.get("customer") or action.target)
        thread = payload.get("thread")
        root = str(thread) if thread else None
        messages = await self._store.thread_messages(mailbox, customer, root) if root else []
        ids = [m.message_id for m in messages if m.direction is Direction.INBOUND]
        note = None
        if self._config.note.enabled:
            language = payload.get("language")
            note = build_note(
                config=self._config.note,
                mailbox=config,
                sender=self._config.notify.sender,
                customer=customer,
                language=str(language) if language else None,
                escalation=await self._store.escalation(mailbox, customer, root),
                rule=str(payload.get("rule") or ""),
                messages=messages,
                idempotency_key=action.idempotency_key,
                now=now,
            )
        outcome = await _guard(actions.escalate(ids, note))
        if config.imap is not None and config.imap.escalate_mode == "flag":
            return f"flagged {outcome.flagged} message(s) in {config.folders.inbox}"
        return (
            f"filed {outcome.filed} message(s), {outcome.already_filed} already there; "
            f"note {'existed' if outcome.note_existed else outcome.note_uid}"
        )

    async def file_follow_up(self, action: ActionRow, now: datetime) -> str:
        mailbox = action_mailbox(action)
        actions = self._actions.get(mailbox)
        if actions is None:
            return NO_IMAP
        message_id = str(action.payload.get("message_id") or "")
        if not message_id:
            return "skipped: the action names no message"
        outcome = await _guard(actions.escalate([message_id], None))
        if outcome.flagged:
            return "follow-up flagged in the inbox"
        if outcome.filed:
            return "follow-up filed beside the escalation"
        if outcome.already_filed:
            return "follow-up was filed before"
        return "skipped: the message is not in the watched folders"

    async def hold_outbound(self, action: ActionRow, now: datetime) -> str:
        mailbox = action_mailbox(action)
        actions = self._actions.get(mailbox)
        if actions is None:
            return NO_IMAP
        held = await self._store.held_copy(mailbox, action.target)
        if held is None:
            return "skipped: the held message is no longer stored"
        if held.state != "held":
            return f"skipped: the held message was {held.state} already"
        uid = await _guard(actions.file_held_copy(held.id, action.target, held.raw))
        return f"copy filed (uid {uid})" if uid else "copy was filed before"

    async def resolve(self, action: ActionRow, now: datetime) -> str:
        """A person took the customer over: robot replies still held for them are obsolete.

        They are discarded (kept in the store and the held folder, never sent), so the held
        list shows what still waits for a decision. Mailboxes without IMAP do this too.
        """
        mailbox = action_mailbox(action)
        customer = str(action.payload.get("customer") or action.target)
        by = str(action.payload.get("by") or "a person")
        if by.startswith("stale:"):
            why = f"dropped: the escalation was closed as stale ({by})"
        else:
            why = f"superseded: a person took over ({by})"
        superseded = await self._store.supersede_held(
            mailbox, customer, action.created_at, why, now
        )
        if superseded:
            log.info("held_superseded", mailbox=mailbox, customer=customer, message_ids=superseded)
            return f"resolved; {len(superseded)} held robot reply(s) superseded"
        return "resolved; nothing to change in the mailbox"

    async def remove_held_copy(self, action: ActionRow, now: datetime) -> str:
        """Retention dropped a held reply unsent: its copy leaves the held folder too."""
        mailbox = action_mailbox(action)
        actions = self._actions.get(mailbox)
        if actions is None:
            return NO_IMAP
        removed = await _guard(actions.remove_held_copy(action.target))
        return "copy removed from the held folder" if removed else "no copy in the held folder"


async def _guard(awaitable: Awaitable[_T]) -> _T:
    """Await an IMAP action; a connection failure makes the whole mailbox wait this round."""
    try:
        return await awaitable
    except ImapCommandError:
        raise
    except (ImapError, OSError, ssl.SSLError, TimeoutError) as exc:
        raise MailboxUnavailable(f"{type(exc).__name__}: {exc}") from exc
