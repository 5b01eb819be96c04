"""What the IMAP watcher needs from storage: per-folder checkpoints and leases.

The store implements these (``mailguard.store``); the daemon's wiring adapts it, so the
adapters never import each other.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol


class CheckpointLike(Protocol):
    """How far one folder has been read (valid only under its UIDVALIDITY)."""

    @property
    def uidvalidity(self) -> int: ...
    @property
    def last_uid(self) -> int: ...
    @property
    def highestmodseq(self) -> int | None: ...


class LeaseLike(Protocol):
    """A named lease: which replica watches which mailbox."""

    held: bool

    async def check(self) -> bool: ...


class SyncStore(Protocol):
    """Checkpoints per (mailbox, folder) and leases."""

    async def load_checkpoint(self, mailbox: str, folder: str) -> CheckpointLike | None: ...

    async def save_checkpoint(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        last_uid: int,
        highestmodseq: int | None,
        now: datetime,
    ) -> None: ...

    def lease(self, name: str) -> AbstractAsyncContextManager[LeaseLike]: ...

    async def save_limits(self, mailbox: str, limits: dict[str, str], now: datetime) -> None:
        """What the mailbox's server lacks (feature -> meaning), for ``mailguard status``."""
