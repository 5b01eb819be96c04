"""``mailguard`` with injectable faults that make the process stuck, for the liveness tests.

Run as ``python -m tests.integration.stuck_mailguard run -c FILE``: the real command, except

- SIGUSR2 makes the event loop run ``time.sleep(MG_BLOCK_SECONDS)``, as a blocking call in a
  handler would (the watchdog counts the loop as blocked after ``MG_STALL_AFTER`` seconds);
- ``MG_BROKEN_TASK=gauges`` makes the gauges task raise at once, every time it is started,
  as a bug would (the supervisor restarts it twice, quickly, then gives up).

Mocks only to inject faults (docs/testing.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

from mailguard.app import daemon
from mailguard.app.cli import main
from mailguard.ops import liveness

liveness.STALL_AFTER = float(os.environ.get("MG_STALL_AFTER", "1.5"))
liveness.MAX_RESTARTS = 2
liveness.RESTART_BACKOFF_FIRST = 0.1

_run_daemon = daemon.run_daemon


async def _with_faults(config: Any, stop: Any = None, *, config_path: Any = None) -> int:
    seconds = float(os.environ.get("MG_BLOCK_SECONDS", "5"))
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, time.sleep, seconds)
    return await _run_daemon(config, stop, config_path=config_path)


async def _broken_gauges(*args: Any) -> None:
    raise RuntimeError("injected fault in the gauges task")


daemon.run_daemon = _with_faults  # type: ignore[assignment]
if os.environ.get("MG_BROKEN_TASK") == "gauges":
    daemon.gauge_loop = _broken_gauges  # type: ignore[assignment]

if __name__ == "__main__":
    sys.exit(main())
