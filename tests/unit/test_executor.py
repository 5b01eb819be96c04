"""The outbox executor's bookkeeping on an in-memory outbox: dispatch, retries, isolation."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mailguard.config.dryrun import DryRun
from mailguard.executor.executor import Executor, MailboxUnavailable, record_circuit_break

NOW = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    target: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int = 0
    created_at: datetime = NOW
    state: str = "pending"
    last_error: str | None = None


@dataclass
class Outbox:
    rows: dict[int, Row] = field(default_factory=dict)

    def add(self, kind: str, mailbox: str) -> int:
        n = len(self.rows) + 1
        self.rows[n] = Row(
            n, kind, "c@x.example", f"{mailbox}:in:m{n}:0:{kind}", {"mailbox": mailbox}
        )
        return n

    async def pending_of_kinds(self, kinds: Sequence[str], limit: int) -> list[Row]:
        rows = [r for r in self.rows.values() if r.state == "pending" and r.kind in kinds]
        return rows[:limit]

    async def count_pending(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.rows.values():
            if r.state == "pending":
                counts[r.kind] = counts.get(r.kind, 0) + 1
        return counts

    async def finish_action(
        self, action_id: int, now: datetime, *, error: str | None = None, give_up: bool = False
    ) -> None:
        row = self.rows[action_id]
        state = "done" if error is None else ("failed" if give_up else "pending")
        self.rows[action_id] = replace(
            row, state=state, attempts=row.attempts + 1, last_error=error
        )

    async def thread_messages(self, mailbox: str, customer: str, thread_root: str) -> list[Any]:
        return []

    async def escalation(self, mailbox: str, customer: str, thread_root: str | None) -> None:
        return None

    async def held_copy(self, mailbox: str, message_id: str) -> None:
        return None


def test_dispatch_by_kind_leaves_kinds_without_handler_pending() -> None:
    outbox = Outbox()
    done: list[int] = []

    async def escalate(action: Any, now: datetime) -> str:
        done.append(action.id)
        return "ok"

    first = outbox.add("escalate", "support")
    notify = outbox.add("notify", "support")
    executor = Executor(outbox, {"escalate": escalate}, clock=lambda: NOW)
    assert asyncio.run(executor.run_once()) == 1
    assert done == [first]
    assert outbox.rows[first].state == "done"
    assert outbox.rows[notify].state == "pending" and outbox.rows[notify].attempts == 0


def test_failures_are_retried_with_backoff_then_given_up() -> None:
    outbox = Outbox()
    calls = 0

    async def broken(action: Any, now: datetime) -> str:
        nonlocal calls
        calls += 1
        raise RuntimeError("server said NO")

    action = outbox.add("escalate", "support")
    executor = Executor(outbox, {"escalate": broken}, clock=lambda: NOW, max_attempts=3)

    async def rounds() -> None:
        assert await executor.run_once() == 0
        assert await executor.run_once() == 0  # in backoff: not tried again at once
        assert calls == 1
        executor._not_before.clear()  # the backoff has passed
        assert await executor.run_once() == 0
        executor._not_before.clear()
        assert await executor.run_once() == 1  # third attempt: given up

    asyncio.run(rounds())
    row = outbox.rows[action]
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        3,
        "RuntimeError: server said NO",
    )


def test_an_unreachable_mailbox_does_not_hold_up_the_others() -> None:
    outbox = Outbox()
    tried: list[str] = []

    async def handler(action: Any, now: datetime) -> str:
        tried.append(action.payload["mailbox"])
        if action.payload["mailbox"] == "down":
            raise MailboxUnavailable("connection refused")
        return "ok"

    outbox.add("escalate", "down")
    outbox.add("escalate", "down")
    ok = outbox.add("escalate", "sales")
    executor = Executor(outbox, {"escalate": handler}, clock=lambda: NOW)
    assert asyncio.run(executor.run_once()) == 1
    assert tried == ["down", "sales"]  # the second "down" action waits for the next round
    assert outbox.rows[ok].state == "done"


def test_dry_run_marks_done_without_acting() -> None:
    outbox = Outbox()

    async def never(action: Any, now: datetime) -> str:
        raise AssertionError("dry run must not act")

    action = outbox.add("escalate", "support")
    executor = Executor(outbox, {"escalate": never}, clock=lambda: NOW, dry_run=True)
    assert asyncio.run(executor.run_once()) == 1
    assert outbox.rows[action].state == "done"


def test_a_circuit_break_is_recorded_as_done_with_what_holds_the_mail() -> None:
    outbox = Outbox()
    n = outbox.add("circuit_break", "support")
    outbox.rows[n] = replace(
        outbox.rows[n], payload={"counterpart": "bot@x.example", "until": "2026-03-06T09:30"}
    )
    executor = Executor(outbox, {"circuit_break": record_circuit_break}, clock=lambda: NOW)
    assert asyncio.run(executor.run_once()) == 1
    assert outbox.rows[n].state == "done"
    outcome = asyncio.run(record_circuit_break(outbox.rows[n], NOW))
    assert "bot@x.example" in outcome and "2026-03-06T09:30" in outcome and "held" in outcome


def test_a_mailbox_s_own_dry_run_overrides_the_default() -> None:
    outbox = Outbox()
    acted: list[str] = []

    async def act(action: Any, now: datetime) -> str:
        acted.append(action.payload["mailbox"])
        return "ok"

    for mailbox in ("support", "sales", "other"):
        outbox.add("escalate", mailbox)
    dry_run = DryRun(default=True, overrides=(("sales", False), ("support", True)))
    executor = Executor(outbox, {"escalate": act}, clock=lambda: NOW, dry_run=dry_run)
    assert asyncio.run(executor.run_once()) == 3
    assert acted == ["sales"]  # support and the unconfigured "other" only logged
    assert {row.state for row in outbox.rows.values()} == {"done"}
