"""Storage errors: the shared :class:`mailguard.errors.StorageError`, re-exported.

The store raises only this class for an unusable database (bad URL, unreachable
server, failed migration), so the CLI maps it to one exit code and message.
"""

from __future__ import annotations

from mailguard.errors import StorageError

StoreError = StorageError

__all__ = ["StorageError", "StoreError"]
