"""``systemctl reload`` (SIGHUP): re-read the TLS certificate and key and the log level.

What a reload applies is what can change under running sessions without deciding one message
by two configurations: the proxy's certificate and key (open sessions keep the one they
negotiated, new ones get the new one; nothing is dropped, no IMAP connection is touched) and
``logging.level``. Everything else is held by something long-lived (listeners, pools, IMAP
connections and their leases, compiled rules) and takes a restart; a reload names what it
left for one (``needs_restart``).

The file is checked as ``mailguard check-config`` checks it. A file that does not pass, or a
certificate that does not load, leaves the running configuration as it is; the log line
``config_reload_failed`` says why.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import structlog

from mailguard.config import Config, load_config
from mailguard.errors import ConfigError, ConfigProblem
from mailguard.ops.metrics import CONFIG_RELOADS
from mailguard.smtp.server import ProxyServer

log = structlog.get_logger("mailguard.app.reload")

RELOADED = ("logging.level", "proxy.tls_cert", "proxy.tls_key")
"""The settings a reload applies; any other change is reported as needing a restart."""


def load_checked(path: str) -> Config:
    """The configuration at ``path`` as ``check-config`` accepts it, else :class:`ConfigError`."""
    from mailguard.oauth.providers import check_config

    config = load_config(path)
    problems = check_config(config)
    if problems:
        raise ConfigError(path, problems)
    return config


def changed(old: Any, new: Any, prefix: str = "", depth: int = 2) -> list[str]:
    """Dotted names of the settings that differ, down to ``depth`` levels (``proxy.tls_cert``)."""
    if isinstance(old, dict) and isinstance(new, dict) and depth > 0:
        found: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}{key}"
            found += changed(old.get(key), new.get(key), f"{name}.", depth - 1) or []
        return found
    return [] if old == new else [prefix.rstrip(".")]


class Reloader:
    """Applies a reload to the running parts; one at a time."""

    def __init__(
        self,
        path: str | None,
        running: Config,
        proxy: ProxyServer | None,
        set_level: Callable[[str], None],
        *,
        load: Callable[[str], Config] = load_checked,
    ) -> None:
        self._path = path
        self._running = running.model_dump()
        self._proxy = proxy
        self._set_level = set_level
        self._load = load
        self._lock = asyncio.Lock()
        self.last: dict[str, Any] | None = None

    async def reload(self) -> bool:
        """Re-read the file and apply what can be applied; False when nothing was."""
        async with self._lock:
            try:
                applied, restart = await self._reload()
            except (ConfigError, ssl.SSLError, OSError, ValueError) as exc:
                error = str(exc)
                self._record("failed", error=error)
                log.error("config_reload_failed", path=self._path, error=error, kept="running")
                return False
            self._record("applied", applied=applied, needs_restart=restart)
            log.info("config_reloaded", path=self._path, applied=applied, needs_restart=restart)
            return True

    async def _reload(self) -> tuple[list[str], list[str]]:
        if self._path is None:
            problem = ConfigProblem("", "mailguard was started without a configuration file")
            raise ConfigError("(none)", [problem])
        # Reading the file (and the providers' key files) is blocking I/O: off the loop.
        new = await asyncio.to_thread(self._load, self._path)
        differs = changed(self._running, new.model_dump())
        restart = [name for name in differs if name not in RELOADED]
        applied = []
        cert, key = new.proxy.tls_cert, new.proxy.tls_key
        expiry = None
        if self._proxy is not None and cert is not None and key is not None:
            # Before anything else: a certificate that does not load fails the whole reload.
            expiry = self._proxy.reload_tls(str(cert), str(key))
        if expiry is not None:
            applied.append(f"tls (expires {expiry.isoformat()})")
        else:
            # No TLS to swap (none at start, or the proxy is off): turning it on or off
            # changes the listener, which takes a restart.
            restart += [name for name in differs if name.startswith("proxy.tls_")]
        self._set_level(new.logging.level)
        applied.append(f"logging.level={new.logging.level}")
        return applied, restart

    def _record(self, outcome: str, **fields: Any) -> None:
        CONFIG_RELOADS.labels(outcome).inc()
        self.last = {"outcome": outcome, "at": datetime.now(UTC).isoformat(), **fields}
