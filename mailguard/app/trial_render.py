"""The text of ``mailguard try``: the decision with its rules and evidence, and what the proxy
(or the milter) and the IMAP side would do. The classification above it is ``mailguard
explain``'s own text (:func:`mailguard.app.explain.render_explanation`)."""

from __future__ import annotations

from dataclasses import dataclass

from mailguard.config import Config, redact_url
from mailguard.config.dryrun import DryRun
from mailguard.config.model import MailboxConfig
from mailguard.domain.model import Direction, Source
from mailguard.domain.policy import RULES, Decision
from mailguard.engine.ports import EventWrite, OutboxAction
from mailguard.engine.result import ProcessResult, Status
from mailguard.engine.writes import PreparedMessage
from mailguard.smtp.dispatch import Outcome, outcome_of


@dataclass(frozen=True, slots=True)
class Trial:
    """What the engine decided for the message, and what it would have written."""

    prepared: PreparedMessage
    result: ProcessResult
    writes: tuple[EventWrite, ...] = ()
    database: str = ""
    notes: tuple[str, ...] = ()


NOTHING_CHANGED = "(mailguard try changed nothing: no database row, no mail, no IMAP command)"


def render_trial(config: Config, trial: Trial, dry_run: DryRun) -> str:
    """Everything after the classification, as lines of text."""
    result, prepared = trial.result, trial.prepared
    key = prepared.key
    side = "proxy" if prepared.source is Source.SMTP else "IMAP watcher"
    lines = [
        "",
        f"mailbox:     {key.mailbox} ({key.direction.value}bound, as the {side} sees it)",
        f"customer:    {prepared.customer or '(none: no customer address)'}",
        f"database:    {redact_url(trial.database)}",
        *(f"note:        {note}" for note in trial.notes),
        f"decision:    {_status(trial)}",
    ]
    for decision in result.decisions:
        lines += _decision_lines(decision)
    mailbox = next((m for m in config.mailboxes if m.name == key.mailbox), None)
    actions = [a for write in trial.writes for a in write.actions]
    if prepared.source is Source.SMTP:
        lines += _proxy_lines(config, trial)
    lines += _imap_lines(config, mailbox, trial, actions)
    if dry_run(key.mailbox):
        lines.append(
            f"dry run:     on for {key.mailbox}: the daemon would log all this (action_dry_run) "
            "and relay, move, hold and notify nothing"
        )
    lines.append(NOTHING_CHANGED)
    return "\n".join(lines)


def _status(trial: Trial) -> str:
    result = trial.result
    status = result.status
    if status is Status.DUPLICATE:
        return (
            "already recorded: the daemon decided this message before and would not decide it "
            f"again (mailguard threads --customer {result.customer or 'ADDR'} shows how)"
        )
    if status is Status.NO_CUSTOMER:
        return "no customer in it (company mail to company addresses): recorded only"
    if status is Status.DEFERRED:
        return f"deferred until the watcher records <{result.awaits}>"
    hits = [hit.rule for d in result.decisions for hit in d.hits]
    return ", ".join(dict.fromkeys(hits)) if hits else "no rule hit"


def _decision_lines(decision: Decision) -> list[str]:
    lines: list[str] = []
    for hit in decision.hits:
        info = RULES.get(hit.rule)
        lines.append(f"  rule {hit.rule}: {hit.detail}")
        if info is not None:
            lines.append(f"    ({info.description})")
        for evidence in hit.evidence:
            lines.append(f"    evidence {evidence.rule}: {evidence.matched}")
    for action in decision.actions:
        lines.append(f"  action {action.kind}: {getattr(action, 'reason', '')}")
    return lines


def _proxy_lines(config: Config, trial: Trial) -> list[str]:
    result = trial.result
    relay = f"{config.relay.host}:{config.relay.port}"
    if result.status is Status.DUPLICATE:
        return [
            "proxy:       replays the earlier decision (a client's retry is never relayed twice)"
        ]
    outcome = outcome_of(result)
    mailbox = trial.prepared.key.mailbox
    held = next((m.folders.held for m in config.mailboxes if m.name == mailbox), "Held")
    prefix = config.proxy.rewrite.subject_prefix
    text = {
        Outcome.PASS: f"pass: relayed unchanged to {relay}",
        Outcome.HOLD: f"hold: stored, answered 250, not relayed; a copy goes to {held} "
        "(mailguard held list)",
        Outcome.REWRITE: f"rewrite: relayed to {relay} with the handover sentence"
        + (f" and the subject prefix {prefix!r}" if prefix else ""),
        Outcome.DIVERT: f"divert: sent to {config.notify.agents} instead of the customer",
        Outcome.DEFER: f"defer: stored and answered 250; decided once <{result.awaits}> is "
        f"recorded, at the latest after {config.proxy.defer_unseen}",
    }[outcome]
    return [f"proxy:       {text}"]


def _imap_lines(
    config: Config, mailbox: MailboxConfig | None, trial: Trial, actions: list[OutboxAction]
) -> list[str]:
    classification = trial.prepared.classification
    inbound = trial.prepared.key.direction is Direction.INBOUND
    todo: list[str] = []
    imap = mailbox.imap if mailbox is not None else None
    if inbound and imap is not None and imap.mark_automated and classification.automated:
        if trial.result.status is not Status.FAILED:
            todo.append(f"set {mailbox.keywords.automated if mailbox else ''} on the message")
    todo += [_action_text(config, mailbox, action) for action in actions]
    if not todo:
        return ["IMAP:        nothing to do"]
    if imap is None:
        todo = [f"{t} (skipped: {trial.prepared.key.mailbox} has no imap: section)" for t in todo]
    return ["IMAP and notifications:", *(f"  {t}" for t in todo)]


def _action_text(config: Config, mailbox: MailboxConfig | None, action: OutboxAction) -> str:
    folders = mailbox.folders if mailbox is not None else None
    escalation = folders.escalation if folders else "Escalated"
    keyword = mailbox.keywords.escalated if mailbox else "$MailguardEscalated"
    mode = mailbox.imap.escalate_mode if mailbox and mailbox.imap else "move"
    kind, payload = action.kind, action.payload
    if kind == "escalate":
        how = {"move": "move", "copy": "copy"}.get(mode)
        where = f"{how} the thread's messages to {escalation}" if how else "flag them in the inbox"
        note = f", and file a note for the agents in {escalation}" if config.note.enabled else ""
        return f"escalate ({payload.get('rule')}): {where} with \\Flagged and {keyword}{note}"
    if kind == "file_follow_up":
        return f"file_follow_up: the message joins the escalation in {escalation} (no second note)"
    if kind == "hold_outbound":
        held = folders.held if folders else "Held"
        return f"hold_outbound: a copy of the held reply is appended to {held}"
    if kind == "notify":
        secondary = payload.get("level") == "secondary"
        to = config.notify.secondary if secondary else config.notify.agents
        where = f"mail {to}" if to else "no notify.agents configured: logged as skipped"
        return f"notify ({payload.get('rule') or payload.get('reason')}): {where}"
    if kind == "resolve":
        return (
            "resolve: the customer's escalations close; robot replies held for them are discarded"
        )
    if kind == "circuit_break":
        return (
            f"circuit_break: robot mail to {payload.get('counterpart')} is held until "
            f"{payload.get('until')}"
        )
    return f"{kind}: {payload.get('reason', '')}"
