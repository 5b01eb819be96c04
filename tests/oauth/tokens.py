"""JWT access tokens as the Dovecot fixture validates them (HS256, issuer, sub = mailbox)."""

from __future__ import annotations

import time

import jwt

ISSUER = "https://issuer.test"


def mint(
    key: bytes,
    user: str,
    *,
    lifetime: float = 3600,
    issuer: str = ISSUER,
    now: float | None = None,
    padding: int = 0,
) -> str:
    """A token for ``user`` valid ``lifetime`` seconds (negative: already expired).

    ``padding`` adds a claim of that many characters, for tokens as long as Google's
    delegated ones (over 1 KB).
    """
    issued = time.time() if now is None else now
    claims: dict[str, object] = {
        "sub": user,
        "iss": issuer,
        "iat": int(issued),
        "exp": int(issued + lifetime),
    }
    if padding:
        claims["pad"] = "x" * padding
    return jwt.encode(claims, key, algorithm="HS256")
