"""SMTP AUTH XOAUTH2 for the relay, in the two-step form when the token is long.

aiosmtplib sends ``AUTH XOAUTH2 <initial response>`` on one line only. RFC 4954 section 4
limits that command line to 512 octets; Google's delegated tokens alone exceed 1 KB, so a
longer initial response goes as the answer to an empty challenge (``AUTH XOAUTH2``, ``334``,
then the response on its own line). A refusal comes as a 334 challenge with the reason
(base64 JSON): it is answered with an empty line, and the final 535 names that reason.
"""

from __future__ import annotations

import base64

import aiosmtplib

from mailguard.oauth import sasl
from mailguard.oauth.tokens import TokenSource

COMMAND_LINE_MAX = 512
"""RFC 4954 section 4: an AUTH command line, CRLF included, stays within 512 octets."""


async def authenticate(smtp: aiosmtplib.SMTP, user: str, source: TokenSource) -> None:
    """``AUTH XOAUTH2`` as ``user`` with the source's token; raises on refusal.

    Raises :class:`aiosmtplib.SMTPAuthenticationError` naming the server's reason, and
    :class:`mailguard.oauth.tokens.OAuth2Error` when no token can be had.
    """
    token = await source.token()
    encoded = base64.b64encode(sasl.xoauth2(user, token.value))
    inline = b"AUTH XOAUTH2 " + encoded + b"\r\n"
    if len(inline) <= COMMAND_LINE_MAX:
        response = await smtp.execute_command(b"AUTH", b"XOAUTH2", encoded)
    else:
        response = await smtp.execute_command(b"AUTH", b"XOAUTH2")
        if response.code == 334:
            response = await smtp.execute_command(encoded)
    challenge = ""
    if response.code == 334:
        challenge = sasl.error_reason(response.message)
        response = await smtp.execute_command(b"")
    if response.code != 235:
        source.refused(token.value)
        reason = f"{challenge}; " if challenge else ""
        raise aiosmtplib.SMTPAuthenticationError(
            response.code, f"XOAUTH2 as {user} refused: {reason}{response.message}"
        )
    source.accepted(token.value)
