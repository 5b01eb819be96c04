"""SASL mechanisms for OAuth2 bearer tokens: XOAUTH2 and OAUTHBEARER (RFC 7628).

Pure functions, shared by IMAP (``AUTHENTICATE``) and SMTP (``AUTH``): the client's
message for each mechanism, the choice between them by the server's capabilities, and the
server's error challenge (a base64 JSON object naming why the token was refused).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

XOAUTH2 = "XOAUTH2"
OAUTHBEARER = "OAUTHBEARER"


def xoauth2(user: str, token: str) -> bytes:
    """The XOAUTH2 client message: ``user=U^Aauth=Bearer T^A^A``."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _saslname(user: str) -> str:
    # RFC 5801 section 4 (the GS2 header RFC 7628 uses): "," and "=" are escaped.
    return user.replace("=", "=3D").replace(",", "=2C")


def oauthbearer(user: str, token: str, host: str, port: int) -> bytes:
    """The OAUTHBEARER client message (RFC 7628 section 3.1), with the GS2 header."""
    return (
        f"n,a={_saslname(user)},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    ).encode()


def abort_response(mechanism: str) -> bytes:
    """What answers the server's error challenge, before its final refusal.

    XOAUTH2 expects an empty response; RFC 7628 section 3.2.3 has OAUTHBEARER send a
    single %x01 to let the server finish the exchange.
    """
    return b"\x01" if mechanism == OAUTHBEARER else b""


def choose(capabilities: Iterable[str]) -> str | None:
    """OAUTHBEARER (the standard) where offered, else XOAUTH2; None when neither is."""
    offered = {c.upper() for c in capabilities}
    for mechanism in (OAUTHBEARER, XOAUTH2):
        if f"AUTH={mechanism}" in offered:
            return mechanism
    return None


def error_reason(challenge: bytes | str) -> str:
    """The server's error challenge as a short text (``status 401, scope ...``).

    Servers send base64 of a JSON object (RFC 7628 section 3.2.2; Google and Microsoft do
    the same for XOAUTH2); anything else is shown as it came.
    """
    text = challenge.decode(errors="replace") if isinstance(challenge, bytes) else challenge
    text = text.strip()
    try:
        decoded = base64.b64decode(text, validate=True).decode()
        data = json.loads(decoded)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return text[:200]
    if not isinstance(data, dict):
        return decoded[:200]
    return ", ".join(f"{key} {value}" for key, value in data.items())[:200]
