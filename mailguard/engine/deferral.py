"""Deferring an automated reply until the watcher has recorded the message it answers.

The engine's half of the deferral (the domain says which message a reply waits for,
:mod:`mailguard.domain.deferral`; the proxy's worker decides stored replies later,
:mod:`mailguard.smtp.deferred`). :func:`defer_if_unseen` runs inside the unit of work that
would otherwise decide the message, so "not seen yet" and "stored as deferred" are one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from mailguard.domain.deferral import awaited_message
from mailguard.engine.ports import DeferredMessage, UnitOfWork
from mailguard.engine.writes import PreparedMessage


@dataclass(frozen=True, slots=True)
class Deferral:
    """How long a reply may wait, and in which mailboxes a watcher records inbound mail.

    A mailbox without an IMAP watcher never records the message a reply answers: a reply
    from it is decided at once, as waiting could only end by the timeout.
    """

    within: timedelta
    mailboxes: frozenset[str]


async def defer_if_unseen(
    uow: UnitOfWork, prepared: PreparedMessage, deferral: Deferral, now: datetime
) -> str | None:
    """Store ``prepared`` as deferred when it must wait; the Message-ID it waits for, or None.

    A message stored as deferred before (a client retrying after a lost 250) stays deferred
    and is not stored twice; a message decided before is left to the normal path (it replays
    as a duplicate).
    """
    key = prepared.key
    if key.mailbox not in deferral.mailboxes or deferral.within <= timedelta(0):
        return None
    facts = prepared.facts
    awaits = awaited_message(
        key.direction, prepared.classification.automated, facts.in_reply_to, facts.references
    )
    if awaits is None:
        return None
    if await uow.is_deferred(key):
        return awaits
    if await uow.is_recorded(key) or await uow.is_seen(key.mailbox, awaits):
        return None
    env = prepared.envelope
    await uow.defer(
        DeferredMessage(
            key=key,
            raw=prepared.raw,
            awaits=awaits,
            decide_by=now + deferral.within,
            at=now,
            mail_from=env.mail_from if env else None,
            rcpt_tos=env.rcpt_tos if env else (),
            mail_options=env.mail_options if env else (),
            rcpt_options=env.rcpt_options if env else (),
        )
    )
    return awaits
