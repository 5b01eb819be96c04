"""The operators' and agents' commands: ``mailguard status``, ``threads`` and ``resolve``.

``status`` and ``threads`` read the database (``status`` also the oldest item of each kind
of stored data beside its retention bound, and asks a running daemon on its HTTP endpoint
how its mailboxes are doing); ``resolve`` resolves an escalation
through the engine, exactly as an agent's "handled" signal would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from mailguard.config import Config
from mailguard.config.settings import engine_settings_of, retention_of
from mailguard.domain.model import Direction
from mailguard.domain.policy_rules import span
from mailguard.domain.retention import RetentionPolicy
from mailguard.engine.factory import build_engine
from mailguard.store.ages import KindAge, oldest_items
from mailguard.store.overview import CustomerView, EscalationView, Overview, StatusView
from mailguard.store.repository import SqlStore

LIVE_TIMEOUT = 2.0


def _when(at: datetime | None) -> str:
    if at is None:
        return "-"
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _escalation_line(e: EscalationView) -> str:
    state = (
        "open" if e.resolved_at is None else f"resolved {_when(e.resolved_at)} ({e.resolved_by})"
    )
    line = f"#{e.id} {e.mailbox} {e.customer}  rule {e.rule}  opened {_when(e.opened_at)}  {state}"
    if e.linked_escalation_id is not None:
        line += f"  linked #{e.linked_escalation_id}"
    return line


def live_status(config: Config) -> dict[str, Any] | None:
    """The running daemon's own view (``/healthz``), or None when none answers."""
    if not config.http.enabled:
        return None
    url = f"http://{config.http.listen_host}:{config.http.listen_port}/healthz"
    try:
        # Only ever the configured loopback-or-admin address of our own daemon.
        with urllib.request.urlopen(url, timeout=LIVE_TIMEOUT) as response:  # noqa: S310
            body: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: unhealthy, still a JSON status
        try:
            body = json.loads(exc.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None
    return body


def print_status(view: StatusView, live: dict[str, Any] | None, out: TextIO) -> None:
    """``mailguard status`` as text."""
    print(f"open escalations: {len(view.open_escalations)}", file=out)
    for e in view.open_escalations:
        print(f"  {_escalation_line(e)}", file=out)
        print(f"      why: {e.reason}", file=out)
    print(f"held messages: {view.held}  (mailguard held list)", file=out)
    print(
        f"deferred replies: {view.deferred}  (robot replies waiting for the message they "
        "answer; mailguard held list)",
        file=out,
    )
    outbox = ", ".join(f"{n} {state}" for state, n in sorted(view.outbox.items())) or "empty"
    print(f"outbox: {outbox}", file=out)
    for kind, target, attempts, error in view.failed_actions:
        print(f"  {kind} {target}: {attempts} attempt(s), last error: {error or '-'}", file=out)
    print("folders (last sync):", file=out)
    if not view.checkpoints:
        print("  none synced yet", file=out)
    for cp in view.checkpoints:
        if cp.folder.startswith("keyword:"):
            # The agents' "handled" keyword is looked for by its own scan of a folder
            # (imap/feedback.py keeps that checkpoint as keyword:<keyword>:<folder>).
            keyword, _, folder = cp.folder.removeprefix("keyword:").partition(":")
            print(
                f"  {cp.mailbox}/{folder}: scanned for keyword {keyword}, {_when(cp.updated_at)}",
                file=out,
            )
            continue
        print(
            f"  {cp.mailbox}/{cp.folder}: UID {cp.last_uid} (UIDVALIDITY {cp.uidvalidity}), "
            f"{_when(cp.updated_at)}",
            file=out,
        )
    if view.server_limits:
        print("mail servers (what they lack, where Sent is):", file=out)
        for mailbox, feature, detail in view.server_limits:
            print(f"  {mailbox} {feature}: {detail}", file=out)
    if live is None:
        print(
            "daemon: not answering on its HTTP endpoint (not running, or http disabled)", file=out
        )
        return
    print(f"daemon: {live.get('status', '?')}", file=out)
    for name, value in sorted(live.items()):
        if name != "status":
            print(f"  {name}: {json.dumps(value, sort_keys=True)}", file=out)


# Per kind of stored data: which retention bound applies (retention:) and what happens then.
_BOUNDS: dict[str, tuple[str, str]] = {
    "held": ("held", "dropped unsent after"),
    "deferred": ("deferred", "purged after"),
    "settled_held": ("held", "removed after"),
    "open_escalations": ("escalations", "closed as stale after"),
    "failed_messages": ("failed", "removed after"),
    "failed_actions": ("failed", "removed after"),
    "pending_actions": ("history", "given up after"),
    "messages": ("history", "removed after"),
    "decisions": ("history", "removed after"),
    "resolved_escalations": ("history", "removed after"),
    "done_actions": ("history", "removed after"),
    "threads": ("history", "removed when idle for"),
    "customers": ("history", "removed when idle for"),
}


def _age(delta: timedelta) -> str:
    """How long ago, as people say it: "12 min", "5 h 3 min", "3 d 2 h"."""
    minutes = int(max(delta, timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def print_ages(
    ages: dict[str, KindAge], bounds: RetentionPolicy, now: datetime, out: TextIO
) -> None:
    """The oldest item of each kind of stored data, beside the bound that removes it."""
    print("stored data (count, oldest, retention):", file=out)
    for kind, age in ages.items():
        name, then = _BOUNDS.get(kind, ("history", "removed after"))
        bound = f"{then} {span(getattr(bounds, name))} (retention.{name})"
        if age.oldest is None:
            print(f"  {age.what}: none; {bound}", file=out)
            continue
        old = _age(now - age.oldest)
        print(
            f"  {age.what}: {age.count}, oldest {_when(age.oldest)} ({old} ago); {bound}",
            file=out,
        )


def print_threads(views: list[CustomerView], out: TextIO) -> None:
    """``mailguard threads`` as text: each customer's timeline with the decisions."""
    if not views:
        print("no such customer", file=out)
    for view in views:
        print(f"{view.address} in {view.mailbox} (state {view.state})", file=out)
        for msg in view.messages:
            who = "robot" if msg.automated else "human"
            arrow = "<-" if msg.direction is Direction.INBOUND else "->"
            print(
                f"  {_when(msg.at)} {arrow} {who:5} {msg.kind:18} {msg.sender or '-'}: "
                f"{msg.subject[:60]}",
                file=out,
            )
        for dec in view.decisions:
            print(f"  {_when(dec.at)} decision on {dec.message_id or 'a timer'}:", file=out)
            for hit in dec.rule_hits:
                print(f"      {hit.get('rule')}: {hit.get('detail', '')}", file=out)
                evidence = hit.get("evidence") or []
                for item in evidence if isinstance(evidence, list) else ():
                    print(f"        - {item.get('matched', '')}", file=out)
        for esc in view.escalations:
            print(f"  {_escalation_line(esc)}", file=out)
        print(file=out)


async def status(config: Config, out: TextIO) -> int:
    store = SqlStore.from_url(config.storage_url)
    try:
        view = await Overview(store.engine).status()
        ages = await oldest_items(store.engine)
    finally:
        await store.close()
    print_status(view, live_status(config), out)
    print_ages(ages, retention_of(config), datetime.now(UTC), out)
    return 0


async def threads(config: Config, customer: str | None, out: TextIO) -> int:
    store = SqlStore.from_url(config.storage_url)
    try:
        views = await Overview(store.engine).customers(customer)
    finally:
        await store.close()
    print_threads(views, out)
    return 0 if views or customer is None else 1


async def resolve(config: Config, escalation_id: int, by: str, out: TextIO) -> int:
    """Resolve escalation ``escalation_id`` (and the customer's other open ones) as handled."""
    store = SqlStore.from_url(config.storage_url)
    try:
        found = await Overview(store.engine).escalation(escalation_id)
        if found is None:
            print(f"no escalation #{escalation_id}", file=out)
            return 1
        if found.resolved_at is not None:
            print(f"#{escalation_id} was already resolved: {_escalation_line(found)}", file=out)
            return 0
        engine = build_engine(store, engine_settings_of(config), lazy_classifier=True)
        await engine.handled(found.mailbox, found.customer, by, datetime.now(UTC))
        after = await Overview(store.engine).escalation(escalation_id)
    finally:
        await store.close()
    print(_escalation_line(after) if after else f"#{escalation_id} resolved", file=out)
    return 0
