"""The relay's SMTP AUTH XOAUTH2 against an aiosmtpd upstream that validates the tokens.

The upstream keeps RFC 4954's limits: a command line of at most 512 octets (aiosmtpd
answers 500 to a longer one), an AUTH response line up to 12288. A token longer than a
command line (Google's delegated tokens exceed 1 KB) must therefore go in the two-step
form; a refused token gets the server's reason back, as a 451 to the relay's caller.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from mailguard.config.model import RelayConfig
from mailguard.smtp.relay import Relay, RelayTemporaryError
from tests.oauth.tokens import ISSUER, mint
from tests.real_servers import exercised, require_marker

pytestmark = pytest.mark.smtp

KEY = b"relay-test-key-of-32-bytes-long!"
USER = "support@example.test"


class _LongAuthLines(SMTP):  # type: ignore[misc]
    # RFC 4954 section 4: an AUTH response line may be up to 12288 octets.
    line_length_limit = 12288


@dataclass
class XOAuth2Upstream:
    """aiosmtpd handler: XOAUTH2 with JWT validation, keeps envelopes and how AUTH came."""

    envelopes: list[Envelope] = field(default_factory=list)
    forms: list[str] = field(default_factory=list)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        if len(args) == 2:
            self.forms.append("inline")
            blob: Any = base64.b64decode(args[1])
        else:
            self.forms.append("two-step")
            blob = await server.challenge_auth("")
        fields = dict(
            part.split("=", 1) for part in bytes(blob).decode().split("\x01") if "=" in part
        )
        token = fields.get("auth", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(token, KEY, algorithms=["HS256"], issuer=ISSUER)
            if claims.get("sub") != fields.get("user"):
                raise jwt.InvalidTokenError("subject")
        except jwt.PyJWTError as exc:
            error = json.dumps({"status": "401", "schemes": "bearer", "error": str(exc)})
            await server.challenge_auth(error)  # the client answers with an empty line
            return AuthResult(success=False, handled=False, message="535 5.7.8 token refused")
        return AuthResult(success=True, handled=False, auth_data=fields["user"])

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
async def upstream(request: pytest.FixtureRequest) -> AsyncIterator[tuple[XOAuth2Upstream, int]]:
    import asyncio

    require_marker(request.node, "smtp")
    handler = XOAuth2Upstream()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _LongAuthLines(handler, auth_require_tls=False, hostname="upstream"),
        "127.0.0.1",
        0,
    )
    exercised(request.node, "smtp")
    try:
        yield handler, int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def _relay(port: int, tmp_path: Path, token: str) -> Relay:
    script = tmp_path / "print_token.py"
    script.write_text(f"print({token!r})\nprint(3600)\n")
    config = RelayConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "auth": "oauth2",
            "user": USER,
            "oauth2": {"provider": "command", "command": [sys.executable, str(script)]},
        }
    )
    return Relay(config, local_hostname="mailguard.test")


MESSAGE = b"From: support@example.test\r\nTo: c@customer.example\r\nSubject: hi\r\n\r\nhello\r\n"


@pytest.mark.parametrize(("padding", "form"), [(0, "inline"), (1500, "two-step")])
async def test_xoauth2_inline_or_in_two_steps(
    upstream: tuple[XOAuth2Upstream, int], tmp_path: Path, padding: int, form: str
) -> None:
    handler, port = upstream
    token = mint(KEY, USER, padding=padding)
    assert (len(token) > 1024) is (form == "two-step")
    relay = _relay(port, tmp_path, token)
    try:
        await relay.send(MESSAGE, USER, ["c@customer.example"])
        await relay.send(MESSAGE, USER, ["c@customer.example"])  # pooled: one AUTH
    finally:
        await relay.close()
    assert handler.forms == [form]
    assert len(handler.envelopes) == 2


async def test_a_refused_token_is_a_451_naming_the_reason(
    upstream: tuple[XOAuth2Upstream, int], tmp_path: Path
) -> None:
    handler, port = upstream
    relay = _relay(port, tmp_path, mint(KEY, USER, lifetime=-60, padding=1500))
    try:
        with pytest.raises(RelayTemporaryError) as refused:
            await relay.send(MESSAGE, USER, ["c@customer.example"])
    finally:
        await relay.close()
    assert refused.value.code == 451
    assert "XOAUTH2 as support@example.test refused" in refused.value.text
    assert "Signature has expired" in refused.value.text and "535" in refused.value.text
    assert handler.envelopes == []
    assert relay.token is not None and relay.token.fetched == 1
    # The provider answered; the relay refused what it handed out: not "ok" (/readyz and
    # /status show this as oauth2:relay).
    assert relay.token.status == "failing: the server refused the token once"
