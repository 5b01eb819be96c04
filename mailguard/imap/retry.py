"""Reconnecting with backoff, and waits that end when the watcher is told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable
from typing import TypeVar

from mailguard.errors import short_reason

_T = TypeVar("_T")

INITIAL_BACKOFF = 0.5


def reason(exc: BaseException) -> str:
    """A short reason for /healthz and logs: the type and the first line of the message."""
    return short_reason(exc)


def backoff(attempt: int, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, at most ``cap``."""
    delay = min(cap, INITIAL_BACKOFF * 2.0 ** min(attempt, 30))
    return delay / 2 + rng.uniform(0, delay / 2)


async def sleep_until(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def unless_stopped(opening: Awaitable[_T], stop: asyncio.Event) -> _T | None:
    """The connection, or None when ``stop`` came first (a server may delay a failed login
    by many seconds: Dovecot's auth penalty grows with each failure)."""
    task = asyncio.ensure_future(opening)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
