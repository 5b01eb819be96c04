"""``/status``: everything the daemon knows about its own state, as one JSON document.

Neither a liveness nor a readiness probe (those are ``/healthz`` and ``/readyz``): it always
answers 200, and its ``status`` field says ``ok`` or ``degraded``. It holds what an operator
needs when something is off: per watched mailbox whether it is watched here or by another
replica, its connections, whether its login is refused and when each folder was last read
to its end; the executor; the storage; the token providers; the relay; the proxy's TLS
certificate; the last reload. The metrics carry the same (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from mailguard import __version__
from mailguard.app.mailwatch import MailWatch
from mailguard.app.reload import Reloader
from mailguard.smtp.relay import Relay


class StatusReport:
    """Builds the /status document from the daemon's parts (on the daemon's loop)."""

    def __init__(
        self,
        *,
        liveness: Callable[[], dict[str, str]],
        storage: Callable[[], str],
        ready: Callable[[], Awaitable[dict[str, str]]],
        mail: MailWatch,
        relay: Relay | None,
        certificate: Callable[[], dict[str, str] | None],
        reloader: Reloader,
        clock: Callable[[], datetime],
    ) -> None:
        self._liveness = liveness
        self._storage = storage
        self._ready = ready
        self._mail = mail
        self._relay = relay
        self._certificate = certificate
        self._reloader = reloader
        self._clock = clock

    async def __call__(self) -> dict[str, Any]:
        """The document (``status`` first)."""
        liveness = self._liveness()
        readiness = await self._ready()
        mailboxes = self._mail.report()
        checks = self._mail.health()
        storage = self._storage()
        executor = checks.get("executor", self._mail.executor.status)
        oauth2 = {name[len("oauth2:") :]: v for name, v in checks.items() if name[:7] == "oauth2:"}
        relay: dict[str, Any] | None = None
        if self._relay is not None:
            relay = {"upstream": self._relay.target}
            if self._relay.token is not None:
                relay["oauth2"] = self._relay.token.status
        troubles = [
            *liveness.values(),
            *readiness.values(),
            storage,
            executor,
            *(m["status"] for m in mailboxes.values()),
            *oauth2.values(),
        ]
        return {
            "status": "ok" if all(t == "ok" for t in troubles) else "degraded",
            "version": __version__,
            "time": self._clock().isoformat(),
            "liveness": liveness,
            "readiness": readiness,
            "storage": storage,
            "mailboxes": mailboxes,
            "executor": executor,
            "oauth2": oauth2,
            "relay": relay,
            "tls": self._certificate(),
            "last_reload": self._reloader.last,
        }
