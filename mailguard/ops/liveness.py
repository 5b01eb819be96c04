"""Liveness: is the process stuck? A watchdog of the event loop, and supervised tasks.

``/healthz`` asks exactly this and nothing else (a wrong IMAP password or a database outage
is no reason to restart the process; ``/readyz`` and ``/status`` report those):

* :class:`LoopWatchdog` measures the event loop's lag from a thread of its own: every
  ``interval`` it schedules a heartbeat on the loop and times how long the loop takes to run
  it. A loop that has not run a heartbeat for :data:`STALL_AFTER` seconds is blocked (a
  blocking call, a runaway computation): the process is stuck, and only a restart helps.
* :class:`Supervisor` runs the daemon's long-lived tasks. One that raises or ends without
  being told to stop is logged and restarted with backoff; one that fails more than
  :data:`MAX_RESTARTS` times within :data:`RESTART_WINDOW` is given up, and from then on the
  process is stuck in part (e.g. no SLA re-evaluation), which ``/healthz`` reports.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from collections.abc import Awaitable, Callable

import structlog
from prometheus_client import Counter, Gauge

from mailguard.errors import short_reason

log = structlog.get_logger("mailguard.ops.liveness")

STALL_AFTER = 10.0
"""Seconds without a heartbeat after which the event loop counts as blocked."""
HEARTBEAT_INTERVAL = 0.5
LAG_LOGGED = 1.0
"""A heartbeat later than this is logged (``event_loop_lagged``), with how late it was."""
MAX_RESTARTS = 5
RESTART_WINDOW = 600.0
RESTART_BACKOFF_MAX = 30.0
RESTART_BACKOFF_FIRST = 1.0

LOOP_LAG = Gauge(
    "mailguard_event_loop_lag_seconds",
    "How late the event loop ran the watchdog's last heartbeat (or how long one is overdue)",
)
TASK_RESTARTS = Counter(
    "mailguard_task_restarts", "Internal tasks restarted after they failed, by task", ["task"]
)
TASK_DEAD = Gauge(
    "mailguard_task_dead",
    "1 for an internal task that failed too often and was not restarted (/healthz fails)",
    ["task"],
)


class LoopWatchdog:
    """Times the event loop's heartbeats from its own thread; :meth:`check` for /healthz."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        stall_after: float | None = None,
        interval: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self._loop = loop
        self._stall_after = STALL_AFTER if stall_after is None else stall_after
        self._interval = interval
        self._pending_since: float | None = None
        self._last_lag = 0.0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailguard-watchdog", daemon=True)
        LOOP_LAG.set_function(self.lag)

    def start(self) -> None:
        """Start the watchdog's thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (it ends within one interval)."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2 * self._interval + 1)

    def blocked_for(self) -> float:
        """Seconds the pending heartbeat has waited for the loop (0 when none is pending)."""
        pending = self._pending_since
        return 0.0 if pending is None else max(0.0, time.monotonic() - pending)

    def lag(self) -> float:
        """The last heartbeat's lateness, or the pending one's wait if that is longer."""
        return max(self._last_lag, self.blocked_for())

    def check(self) -> str:
        """``ok``, or ``failing: ...`` while the loop has not run for :data:`STALL_AFTER` s."""
        blocked = self.blocked_for()
        if blocked < self._stall_after:
            return "ok"
        return f"failing: the event loop has not run for {blocked:.1f} s (blocked)"

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            if self._pending_since is not None:
                continue  # the last heartbeat has not run yet: the loop is late or blocked
            sent = time.monotonic()
            self._pending_since = sent
            try:
                self._loop.call_soon_threadsafe(self._beat, sent)
            except RuntimeError:
                return  # the loop was closed: the process is ending

    def _beat(self, sent: float) -> None:
        lag = time.monotonic() - sent
        self._last_lag = lag
        self._pending_since = None
        if lag >= LAG_LOGGED:
            log.warning("event_loop_lagged", seconds=round(lag, 3))


class Supervisor:
    """Runs named long-lived tasks until ``stop``; restarts one that fails, within limits."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self.dead: dict[str, str] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def spawn(self, name: str, work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``work()`` as the task ``name``, again after each failure, until ``stop``."""
        TASK_DEAD.labels(name).set(0)
        task = asyncio.create_task(self._keep(name, work), name=f"mailguard:{name}")
        self.tasks[name] = task
        return task

    def check(self) -> str:
        """``ok``, or ``failing: ...`` naming every task that was given up (for /healthz)."""
        dead = dict(self.dead)  # read from the HTTP thread: one atomic copy
        if not dead:
            return "ok"
        named = "; ".join(f"{name}: {why}" for name, why in sorted(dead.items()))
        return f"failing: died and not restarted: {named}"

    async def _keep(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        failures: collections.deque[float] = collections.deque()
        while True:
            try:
                await work()
            except Exception as exc:
                # Cancellation (a BaseException) passes: that is shutdown, not a failure.
                problem = short_reason(exc)
                log.error("task_failed", task=name, error=problem, exc_info=True)
            else:
                if self._stop.is_set():
                    return
                problem = "it ended without being told to stop"
                log.error("task_failed", task=name, error=problem)
            if self._stop.is_set():
                return
            now = time.monotonic()
            failures.append(now)
            while failures and now - failures[0] > RESTART_WINDOW:
                failures.popleft()
            if len(failures) > MAX_RESTARTS:
                self.dead[name] = problem
                TASK_DEAD.labels(name).set(1)
                log.critical("task_given_up", task=name, error=problem, failures=len(failures))
                return
            delay = min(RESTART_BACKOFF_MAX, RESTART_BACKOFF_FIRST * 2 ** (len(failures) - 1))
            TASK_RESTARTS.labels(name).inc()
            try:
                async with asyncio.timeout(delay):
                    await self._stop.wait()
                return
            except TimeoutError:
                log.info("task_restarted", task=name, after_failures=len(failures))
