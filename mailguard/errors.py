"""The root of mailguard's exceptions: catch :class:`MailguardError` to catch them all."""

from __future__ import annotations


class MailguardError(Exception):
    """Base class of every error mailguard raises on purpose."""
