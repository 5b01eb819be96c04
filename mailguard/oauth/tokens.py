"""Access tokens behind one interface: cached, renewed before they expire, reported when failing.

A :class:`TokenSource` wraps one provider's fetch (``mailguard.oauth.providers``). Every
user of a mailbox's token (the watcher's two connections, the executor's) asks the same
source: it fetches once, hands the cached token out until its renewal time, and fetches a
new one after that or after a server refused it (:meth:`TokenSource.refused`). The renewal
time is ``refresh_before`` ahead of the expiry, and never later than half the token's
lifetime, so a short-lived token is not fetched in a loop. A session authenticated with a
token ends before that time (the watcher reconnects), so no session outlives its token.

A token whose lifetime the provider does not say, but which is a JWT, is timed by its
``exp`` claim (read, not verified: the server verifies it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from prometheus_client import Gauge

from mailguard.errors import MailguardError, short_reason

log = structlog.get_logger("mailguard.oauth")

TOKEN_FAILING = Gauge(
    "mailguard_oauth2_token_failing",
    "1 while no token can be had from the provider or the server refuses the tokens, by source",
    ["source"],
)


class OAuth2Error(MailguardError):
    """No token could be had: the provider, its endpoint or its command failed."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A token as a provider hands it out; ``lifetime`` in seconds from now, if known."""

    value: str
    lifetime: float | None = None


@dataclass(frozen=True, slots=True)
class Token:
    """A cached token and when (``time.monotonic()``) it is to be replaced; None: not known."""

    value: str
    renew_at: float | None

    def seconds_left(self, now: float) -> float | None:
        """Seconds until the token should be replaced (None: no known end)."""
        return None if self.renew_at is None else self.renew_at - now


Fetch = Callable[[], Awaitable[AccessToken]]


def jwt_lifetime(value: str, now: float) -> float | None:
    """Seconds until a JWT's ``exp`` (``now`` in Unix seconds), or None if it is no JWT."""
    parts = value.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return None
    return float(exp) - now


def renew_after(lifetime: float, refresh_before: float) -> float:
    """Seconds after fetching when a token of ``lifetime`` is renewed."""
    return max(lifetime - refresh_before, lifetime / 2)


class TokenSource:
    """One provider's token for one user, shared by every connection that needs it."""

    def __init__(
        self,
        name: str,
        fetch: Fetch,
        *,
        refresh_before: float,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._refresh_before = refresh_before
        self._monotonic = monotonic
        self._wall = wall
        self._cached: Token | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0
        self.problem: str | None = None
        # Refusals by the server since it last accepted a token. A provider that hands out
        # tokens the server will not take (a revoked grant, a wrong scope or audience) is
        # as broken as one that hands out none, and must not read "ok".
        self.refusals = 0
        TOKEN_FAILING.labels(name).set_function(lambda: float(self.status != "ok"))

    @property
    def status(self) -> str:
        """``ok``, or ``failing: <why>`` while the last fetch failed or the server refused
        the last token offered (for /status and /readyz)."""
        if self.problem is not None:
            return f"failing: {self.problem}"
        if self.refusals:
            times = "once" if self.refusals == 1 else f"{self.refusals} times in a row"
            return f"failing: the server refused the token {times}"
        return "ok"

    async def token(self) -> Token:
        """The cached token, or a new one when it is due for renewal; raises OAuth2Error."""
        async with self._lock:
            cached = self._cached
            if cached is not None:
                left = cached.seconds_left(self._monotonic())
                if left is None or left > 0:
                    return cached
            try:
                fetched = await self._fetch()
            except OAuth2Error as exc:
                self.problem = short_reason(exc)
                log.warning("oauth2_token_failed", source=self.name, error=self.problem)
                raise
            if not fetched.value or any(ch in fetched.value for ch in "\r\n\x01 "):
                self.problem = "OAuth2Error: the provider handed out an empty or malformed token"
                raise OAuth2Error(
                    f"{self.name}: the provider handed out an empty or malformed token"
                )
            lifetime = fetched.lifetime
            if lifetime is None:
                lifetime = jwt_lifetime(fetched.value, self._wall())
            now = self._monotonic()
            renew_at = (
                None if lifetime is None else now + renew_after(lifetime, self._refresh_before)
            )
            self._cached = Token(fetched.value, renew_at)
            self.fetched += 1
            self.problem = None
            log.info(
                "oauth2_token_fetched",
                source=self.name,
                lifetime_s=None if lifetime is None else round(lifetime),
            )
            return self._cached

    def refused(self, value: str) -> None:
        """A server refused ``value``: fetch anew next time, and report it until one is taken."""
        self.refusals += 1
        self.expired(value)

    def expired(self, value: str) -> None:
        """A server ended a session on the expiry of ``value``: fetch anew next time."""
        if self._cached is not None and self._cached.value == value:
            self._cached = None

    def accepted(self, value: str) -> None:
        """A server accepted ``value``: the refusals are over."""
        if self.refusals:
            log.info("oauth2_token_accepted", source=self.name, after_refusals=self.refusals)
        self.refusals = 0
