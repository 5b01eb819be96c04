"""What a watcher session learns from the server and when it must end: Sent, limits, renewal.

- **Sent by its attribute (RFC 6154).** Where ``folders.sent`` is left at its default, the
  folder marked ``\\Sent`` is read (``Sent Items`` on Exchange, which has no SPECIAL-USE
  capability but marks it in LIST; ``[Gmail]/Sent Mail`` on Google). The configured name is
  used when no folder carries the attribute.
- **Limits.** No IDLE (INBOX polled), no MOVE (copy and expunge): noted once per mailbox
  for ``mailguard status`` (:mod:`mailguard.imap.capabilities`).
- **Renewal.** A session logged in with an OAuth2 token ends before the token is due for
  renewal (:class:`SessionRenewal`); the watcher opens a new one at once, which resumes
  from the checkpoints (by UID), so nothing is missed or read twice. Every wait of a
  session is bounded by :func:`wait_bound`, so the renewal is never slept through.
"""

from __future__ import annotations

import structlog

from mailguard.config.model import ImapConfig
from mailguard.imap.capabilities import MailboxCapabilities
from mailguard.imap.connection import ImapConnection

log = structlog.get_logger("mailguard.imap.session")

SENT = "\\Sent"


class SessionRenewal(Exception):  # noqa: N818 - a signal, not an error
    """The session's OAuth2 token is due: end it and open a new one (not a failure)."""


async def find_sent(conn: ImapConnection, configured: str) -> str:
    """The folder marked ``\\Sent`` (RFC 6154), else ``configured``."""
    marked = [name for attributes, name in await conn.list_folders() if SENT in attributes]
    if not marked:
        return configured
    # Several (a shared namespace may carry its own): the configured name if it is one of
    # them, else the first the server lists.
    return configured if configured in marked else marked[0]


def note_server(conn: ImapConnection, caps: MailboxCapabilities, imap: ImapConfig) -> None:
    """Record what this server lacks that changes how mailguard works with it."""
    caps.note(
        "idle",
        None
        if conn.has("IDLE") or not imap.idle
        else f"no IDLE: INBOX is read every poll_interval ({imap.poll_interval})",
    )
    caps.note(
        "move",
        None
        if conn.has("MOVE")
        else "no MOVE: escalated mail is copied, flagged \\Deleted and expunged by UID",
    )


def check_renewal(conn: ImapConnection) -> None:
    """Raise :class:`SessionRenewal` once the session's token is due."""
    left = conn.renew_in()
    if left is not None and left <= 0:
        raise SessionRenewal


def wait_bound(conn: ImapConnection, seconds: float) -> float:
    """``seconds``, or less when the session's token is due sooner (at least 0.05)."""
    left = conn.renew_in()
    return seconds if left is None else max(0.05, min(seconds, left))
