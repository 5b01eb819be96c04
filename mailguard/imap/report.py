"""What one watched mailbox reports about itself: connections, a refused login, folder syncs.

The watcher keeps it up to date; ``/status`` (:mod:`mailguard.app.status`) and the metrics
read it. None of it decides whether the process is alive or ready: a refused password or an
IMAP server that is down is a remote fault, which a restart of mailguard would not mend.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailguard.imap import metrics
from mailguard.imap.params import ImapAuthError


class MailboxReport:
    """The state of one mailbox's watcher, as /status and the metrics show it."""

    def __init__(self, mailbox: str) -> None:
        self.mailbox = mailbox
        self.roles: dict[str, str] = {"inbox": "starting", "folders": "starting"}
        self.login_refused: str | None = None
        self.synced: dict[str, datetime] = {}
        metrics.LOGIN_REFUSED.labels(mailbox).set(0)

    @property
    def standby(self) -> bool:
        """True while another replica watches this mailbox (this one holds no lease)."""
        return self.roles == {"lease": "ok"}

    @property
    def status(self) -> str:
        """``ok`` when every connection is up (or standing by), else what is wrong."""
        problems = [f"{role}: {s}" for role, s in self.roles.items() if s != "ok"]
        return "; ".join(problems) if problems else "ok"

    def connected(self, role: str) -> None:
        """A connection of ``role`` logged in: the login is not refused (any more)."""
        self.roles[role] = "ok"
        self._refused(None)

    def failed(self, role: str, exc: BaseException, why: str) -> None:
        """A connection of ``role`` failed with ``exc`` (``why``: its short reason)."""
        self.roles[role] = f"failing: {why}"
        if isinstance(exc, ImapAuthError) and exc.refused:
            self._refused(why)

    def folder_synced(self, folder: str, when: datetime) -> None:
        """Every new message of ``folder`` up to now was read and decided (its checkpoint)."""
        self.synced[folder] = when
        metrics.LAST_SYNC.labels(self.mailbox, folder).set(when.timestamp())

    def _refused(self, why: str | None) -> None:
        self.login_refused = why
        metrics.LOGIN_REFUSED.labels(self.mailbox).set(0 if why is None else 1)

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """The mailbox's entry in /status."""
        return {
            "status": self.status,
            "watching": not self.standby,
            "connections": dict(self.roles),
            "login_refused": self.login_refused,
            "folders": {
                folder: {
                    "last_sync": when.isoformat(),
                    "seconds_ago": round((now - when).total_seconds(), 1),
                }
                for folder, when in sorted(self.synced.items())
            },
        }
