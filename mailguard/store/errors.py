"""Storage errors that carry what an operator needs to act on them."""

from __future__ import annotations

from mailguard.errors import MailguardError


class StoreError(MailguardError):
    """The database is unusable as configured (bad URL, unreachable, wrong schema)."""
