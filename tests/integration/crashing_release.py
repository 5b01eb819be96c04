"""``mailguard`` that dies right after relaying a held reply an agent released, for the
end-to-end test of a crash between the relay and the filing of the copy.

Run as ``python -m tests.integration.crashing_release run -c FILE``: the real command, except
that the process ends at once (``os._exit``, as SIGKILL would) when a copy's release is done
and the copy is about to be moved into the released folder (mocks only to inject faults:
docs/testing.md).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from mailguard.app.cli import main
from mailguard.domain.heldcopy import Outcome
from mailguard.imap.held_folders import HeldCommands

_file = HeldCommands._file


async def _dies_after_release(
    self: HeldCommands, conn: Any, folder: str, uid: int, outcome: Outcome, keyword: str | None
) -> Any:
    if outcome is Outcome.RELEASED:
        os._exit(9)
    return await _file(self, conn, folder, uid, outcome, keyword)


HeldCommands._file = _dies_after_release  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
