"""The token providers against a local HTTPS token endpoint behind a test CA, and Dovecot.

Each HTTP provider runs its real library (msal with instance discovery off, google-auth,
urllib) against ``tests/oauth/endpoint.py``, which checks the credentials for real; the
tokens it mints are the ones the Dovecot fixture validates, so a login proves the chain.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from mailguard.config.oauth import OAuth2Config
from mailguard.imap.connection import ImapConnection
from mailguard.oauth.providers import check, token_source
from mailguard.oauth.tokens import OAuth2Error, TokenSource
from tests.dovecot.fixture import SUPPORT, DovecotFactory
from tests.integration.oauth_support import oauth_params
from tests.oauth.endpoint import Client, LocalCA, TokenEndpoint, client_certificate
from tests.oauth.endpoint import service_account_file as make_service_account
from tests.oauth.fixtures import test_ca, token_endpoint

__all__ = ["test_ca", "token_endpoint"]

CLIENT = "11111111-2222-3333-4444-555555555555"


def config(**keys: object) -> OAuth2Config:
    return OAuth2Config.model_validate(keys)


def generic(endpoint: TokenEndpoint, ca: LocalCA, **keys: object) -> OAuth2Config:
    """provider: oauth2 at the endpoint's /token, as client "app" with secret "pw"."""
    endpoint.clients.setdefault("app", Client(SUPPORT, secret="pw"))
    return config(
        **{
            "provider": "oauth2",
            "token_url": f"{endpoint.base}/token",
            "client_id": "app",
            "client_secret": "pw",
            "ca_file": str(ca.ca_file),
            **keys,
        }
    )


def microsoft(endpoint: TokenEndpoint, ca: LocalCA, **keys: object) -> OAuth2Config:
    return config(
        provider="microsoft",
        tenant="contoso.test",
        client_id=CLIENT,
        authority=endpoint.base,
        ca_file=str(ca.ca_file),
        **keys,
    )


async def test_microsoft_client_secret(token_endpoint: TokenEndpoint, test_ca: LocalCA) -> None:
    token_endpoint.clients[CLIENT] = Client(SUPPORT, secret="s3cret")
    source = token_source("m", microsoft(token_endpoint, test_ca, client_secret="s3cret"), SUPPORT)
    token = await source.token()
    assert token.value.count(".") == 2 and token_endpoint.issued("microsoft") == 1
    # Cached: a second caller gets the same token without asking again.
    assert (await source.token()).value == token.value
    assert token_endpoint.issued("microsoft") == 1
    assert 1700 < (token.seconds_left(time.monotonic()) or 0) <= 3600 - 300


async def test_microsoft_certificate(
    token_endpoint: TokenEndpoint, test_ca: LocalCA, tmp_path: Path
) -> None:
    pem = tmp_path / "app.pem"
    cert = client_certificate(pem, CLIENT)
    token_endpoint.clients[CLIENT] = Client(SUPPORT, certificate=cert)
    oauth = microsoft(token_endpoint, test_ca, certificate=str(pem))
    assert check(oauth) == []
    await token_source("m", oauth, SUPPORT).token()
    assert token_endpoint.issued("microsoft") == 1
    # A certificate the app registration does not know is refused by the endpoint.
    other = tmp_path / "other.pem"
    client_certificate(other, CLIENT)
    with pytest.raises(OAuth2Error, match="invalid_client"):
        await token_source(
            "m", microsoft(token_endpoint, test_ca, certificate=str(other)), SUPPORT
        ).token()


async def test_microsoft_wrong_secret_names_the_reason(
    token_endpoint: TokenEndpoint, test_ca: LocalCA
) -> None:
    token_endpoint.clients[CLIENT] = Client(SUPPORT, secret="s3cret")
    source = token_source("m", microsoft(token_endpoint, test_ca, client_secret="wrong"), SUPPORT)
    with pytest.raises(OAuth2Error, match="AADSTS7000215"):
        await source.token()
    assert source.status.startswith("failing: OAuth2Error: microsoft token for")


async def test_google_service_account_delegation(
    token_endpoint: TokenEndpoint, test_ca: LocalCA, tmp_path: Path
) -> None:
    key_file = tmp_path / "sa.json"
    email = "mailguard@project.iam.gserviceaccount.test"
    token_endpoint.service_accounts[email] = make_service_account(
        key_file, f"{token_endpoint.base}/google/token", email
    )
    oauth = config(
        provider="google", service_account_file=str(key_file), ca_file=str(test_ca.ca_file)
    )
    assert check(oauth) == []
    await token_source("g", oauth, SUPPORT).token()
    # The subject defaults to the login user: the delegated mailbox.
    assert token_endpoint.requests[-1] == {"kind": "google", "issued": "yes", "mailbox": SUPPORT}


async def test_token_endpoint_client_credentials_and_refresh_token(
    token_endpoint: TokenEndpoint, test_ca: LocalCA
) -> None:
    token_endpoint.clients["app"] = Client(SUPPORT, secret="pw", refresh_token="rt-1")
    await token_source("c", generic(token_endpoint, test_ca), SUPPORT).token()
    refresh = generic(token_endpoint, test_ca, refresh_token="rt-1")
    await token_source("r", refresh, SUPPORT).token()
    assert token_endpoint.issued("token") == 2
    bad = generic(token_endpoint, test_ca, refresh_token="rt-old")
    with pytest.raises(OAuth2Error, match="answered 400: invalid_grant: bad refresh token"):
        await token_source("r", bad, SUPPORT).token()


async def test_an_untrusted_endpoint_is_refused(
    token_endpoint: TokenEndpoint, test_ca: LocalCA
) -> None:
    # Without the test CA the endpoint's certificate cannot be verified: no token.
    oauth = generic(token_endpoint, test_ca, ca_file=None)
    with pytest.raises(OAuth2Error, match="CERTIFICATE_VERIFY_FAILED"):
        await token_source("c", oauth, SUPPORT).token()
    assert token_endpoint.requests == []


async def test_endpoint_down_then_back(token_endpoint: TokenEndpoint, test_ca: LocalCA) -> None:
    oauth = generic(token_endpoint, test_ca, timeout="3s")
    source = token_source("c", oauth, SUPPORT)
    token_endpoint.down()
    with pytest.raises(OAuth2Error, match="token endpoint"):
        await source.token()
    assert "Connection refused" in source.status
    token_endpoint.up()
    await source.token()
    assert source.status == "ok"


def _command(tmp_path: Path, output: str, code: int = 0) -> list[str]:
    script = tmp_path / "token.py"
    script.write_text(
        "import sys\n"
        f"sys.stdout.write({output!r})\n"
        "sys.stderr.write('helper says hello\\n')\n"
        f"sys.exit({code})\n"
    )
    return [sys.executable, str(script)]


@pytest.mark.parametrize(
    ("output", "lifetime"),
    [
        ("tok-1\n", None),
        ("tok-1\n120\n", 120.0),
        ('{"access_token": "tok-1", "expires_in": 90}', 90.0),
    ],
)
async def test_command_prints_the_token(
    tmp_path: Path, output: str, lifetime: float | None
) -> None:
    oauth = config(provider="command", command=_command(tmp_path, output))
    assert check(oauth) == []
    token = await token_source("x", oauth, SUPPORT).token()
    assert token.value == "tok-1"
    left = token.seconds_left(time.monotonic())
    if lifetime is None:
        assert left is None
    else:
        assert left is not None and lifetime / 2 - 2 < left <= lifetime / 2


async def test_a_failing_command_is_reported(tmp_path: Path) -> None:
    source = token_source(
        "x", config(provider="command", command=_command(tmp_path, "", 3)), SUPPORT
    )
    with pytest.raises(OAuth2Error, match="exited with 3: helper says hello"):
        await source.token()
    missing = config(provider="command", command=[str(tmp_path / "nope")])
    assert check(missing) == [f"command: {tmp_path / 'nope'} is not an executable program"]


async def test_a_command_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(30)\n")
    oauth = config(provider="command", command=[sys.executable, str(script)], timeout="1s")
    started = time.monotonic()
    with pytest.raises(OAuth2Error, match="no token within 1s"):
        await token_source("x", oauth, SUPPORT).token()
    assert time.monotonic() - started < 10


async def test_refresh_happens_before_expiry(
    token_endpoint: TokenEndpoint, test_ca: LocalCA
) -> None:
    """A token of 4 s with refresh_before 1 s is replaced after 3 s, before it expires."""
    token_endpoint.lifetime = 4
    oauth = generic(token_endpoint, test_ca, refresh_before="1s")
    source = token_source("c", oauth, SUPPORT)
    first = await source.token()
    fetched_at = time.monotonic()
    for _ in range(100):
        if (await source.token()).value != first.value:
            break
        await asyncio.sleep(0.1)
    renewed_after = time.monotonic() - fetched_at
    assert renewed_after < 4, f"renewed only after {renewed_after:.1f}s: the token had expired"
    assert token_endpoint.issued() == 2


@pytest.mark.dovecot
async def test_a_provider_token_logs_in_to_dovecot(
    dovecot_factory: DovecotFactory, test_ca: LocalCA
) -> None:
    dovecot = dovecot_factory(oauth2="xoauth2")
    endpoint = TokenEndpoint(test_ca, key=dovecot.oauth_key).start()
    try:
        endpoint.clients[CLIENT] = Client(SUPPORT, secret="s3cret")
        source: TokenSource = token_source(
            "imap:support", microsoft(endpoint, test_ca, client_secret="s3cret"), SUPPORT
        )
        conn = await ImapConnection.open(oauth_params(dovecot, source))
        try:
            assert (await conn.select("INBOX")).uidvalidity > 0
        finally:
            await conn.close()
    finally:
        endpoint.stop()
