"""How long mailguard keeps each kind of thing, and closing escalations nobody answered.

GDPR Art. 5(1)(e): personal data is kept no longer than its purpose needs. Every table and
every kind of stored mail has a bound here (docs/privacy.md lists them):

* ``history``: messages seen, the decision log, resolved escalations, performed actions, idle
  threads and customers (the loop rules look back 14 days at most; the rest is for
  explaining decisions and for agents' questions);
* ``held``: a robot reply held for a person. After this it is dropped, never sent late; the
  agents are told ``notice`` before. A reply released or dropped is kept this long after;
* ``deferred``: a robot reply stored until the message it answers is seen is decided within
  ``proxy.defer_unseen`` (plus an hour of relay retries); one still undecided after this was
  never decided and is purged;
* ``failed``: a message whose processing failed, or an action given up, is removed this long
  after it last failed; the agents are told ``notice`` before;
* ``escalations``: an escalation open this long is closed as stale, and the agents are told.

Pure: the clock comes in as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mailguard.domain.model import Evidence
from mailguard.domain.policy_model import Decision, Notify, NotifyLevel, Resolve, RuleHit
from mailguard.domain.policy_rules import span
from mailguard.domain.state import CustomerState

STALE_RULE = "stale_escalation"
# The notices the agents get ``notice`` before an item goes (a ``notify`` action's payload
# names one as ``notice``), and the action that takes a dropped reply's copy out of the
# mailbox's held folder.
HELD_EXPIRING = "held_expiring"
FAILED_MESSAGE_EXPIRING = "failed_message_expiring"
FAILED_ACTION_EXPIRING = "failed_action_expiring"
REMOVE_HELD_COPY = "remove_held_copy"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The bounds; see the module docstring. ``notice`` must be shorter than ``held`` and
    ``failed`` (the configuration checks it)."""

    history: timedelta = timedelta(days=90)
    held: timedelta = timedelta(days=30)
    deferred: timedelta = timedelta(days=1)
    failed: timedelta = timedelta(days=30)
    escalations: timedelta = timedelta(days=30)
    notice: timedelta = timedelta(days=1)

    def cutoffs(self, now: datetime) -> RetentionCutoffs:
        """The instants before which each kind is due at ``now``."""
        return RetentionCutoffs(
            now=now,
            history=now - self.history,
            held=now - self.held,
            held_notice=now - self.held + self.notice,
            deferred=now - self.deferred,
            failed=now - self.failed,
            failed_notice=now - self.failed + self.notice,
            escalations=now - self.escalations,
            noticed=now - self.notice,
        )


@dataclass(frozen=True, slots=True)
class RetentionCutoffs:
    """What is due at ``now``: a thing whose age is measured from before the cutoff.

    Held mail waiting since before ``held_notice`` gets its notice; since before ``held`` it
    expires, but only once its notice was given before ``noticed`` (so the agents always
    have ``notice`` of warning, even after the bound was shortened). Failed messages and
    actions likewise with ``failed_notice`` and ``failed``.
    """

    now: datetime
    history: datetime
    held: datetime
    held_notice: datetime
    deferred: datetime
    failed: datetime
    failed_notice: datetime
    escalations: datetime
    noticed: datetime


def decide_stale(
    state: CustomerState,
    now: datetime,
    mailbox: str,
    max_age: timedelta,
    stored_since: datetime | None = None,
) -> Decision | None:
    """Close the customer's escalations when one has been open for ``max_age`` or longer.

    ``stored_since`` is when the oldest escalation the store has open for the customer was
    opened: a row the policy state no longer knows (a state started afresh) is closed too.
    Returns None when none is that old. Otherwise every open escalation is resolved (a
    customer has at most one open at a time) by ``stale:<age>``, and the agents are notified
    (rule :data:`STALE_RULE`). Unlike a person's answer the history is kept: the customer's
    next message is judged with whatever of it is still inside the rules' windows.
    """
    opened = [(e.rule, e.opened_at) for e in state.escalations if now - e.opened_at >= max_age]
    if stored_since is not None and now - stored_since >= max_age and not opened:
        opened = [("an", stored_since)]
    if not opened:
        return None
    rule, since = min(opened, key=lambda e: e[1])
    waited = span(now - since)
    reason = f"{rule} escalation open for {waited} without an answer: closed as stale"
    evidence = tuple(
        Evidence(STALE_RULE, f"{name} escalation opened {at.isoformat()}") for name, at in opened
    )
    hit = RuleHit(STALE_RULE, evidence, f"open for {waited}, longer than {span(max_age)}")
    actions = (
        Resolve(f"stale:{span(max_age)}", mailbox, "closed as stale"),
        Notify(NotifyLevel.PRIMARY, reason, mailbox, STALE_RULE),
    )
    explain = "\n".join(
        [f"retention at {now.isoformat()}", f"hit {STALE_RULE}: {hit.detail}"]
        + [f"action {a.kind}: {a.reason}" for a in actions]
    )
    return Decision(replace(state, escalations=()), actions, (hit,), explain)
