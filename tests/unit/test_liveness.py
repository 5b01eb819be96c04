"""The supervisor's restarts and give-up, the watchdog's verdict, and what a reload compares."""

from __future__ import annotations

import asyncio
import time

import pytest

from mailguard.app.reload import changed
from mailguard.ops import liveness
from mailguard.ops.liveness import LoopWatchdog, Supervisor


async def test_a_failing_task_is_restarted_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "RESTART_BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(liveness, "MAX_RESTARTS", 2)
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    runs = 0

    async def broken() -> None:
        nonlocal runs
        runs += 1
        raise KeyError("gone")

    await asyncio.wait_for(supervisor.spawn("broken", broken), 5)
    assert runs == 3  # the first run and two restarts
    assert supervisor.check() == "failing: died and not restarted: broken: KeyError: 'gone'"


async def test_a_task_that_ends_on_stop_is_not_a_failure() -> None:
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    task = supervisor.spawn("quiet", stop.wait)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert supervisor.check() == "ok"


async def test_a_task_that_ends_by_itself_is_restarted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(liveness, "RESTART_BACKOFF_FIRST", 0.01)
    stop = asyncio.Event()
    supervisor = Supervisor(stop)
    runs = 0

    async def returns() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()

    await asyncio.wait_for(supervisor.spawn("returns", returns), 5)
    assert runs == 3 and supervisor.check() == "ok"


async def test_the_watchdog_sees_a_blocked_loop_and_its_end() -> None:
    watchdog = LoopWatchdog(asyncio.get_running_loop(), stall_after=0.3, interval=0.05)
    watchdog.start()
    try:
        await asyncio.sleep(0.2)
        assert watchdog.check() == "ok"
        time.sleep(0.6)  # noqa: ASYNC251 - the fault under test: a blocking call on the loop
        assert watchdog.check().startswith("failing: the event loop has not run for")
        assert watchdog.lag() >= 0.3
        await asyncio.sleep(0.2)
        assert watchdog.check() == "ok"
    finally:
        watchdog.stop()


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        ({"a": 1}, {"a": 1}, []),
        (
            {"proxy": {"tls_cert": "x", "port": 1}},
            {"proxy": {"tls_cert": "y", "port": 1}},
            ["proxy.tls_cert"],
        ),
        ({"mailboxes": [{"n": 1}]}, {"mailboxes": [{"n": 2}]}, ["mailboxes"]),
        (
            {"logging": {"level": "info"}},
            {"logging": {"level": "debug"}, "dry_run": True},
            ["dry_run", "logging.level"],
        ),
    ],
)
def test_a_reload_names_the_settings_that_changed(
    old: dict[str, object], new: dict[str, object], names: list[str]
) -> None:
    assert changed(old, new) == names
