"""OAuth2 logins against a real Dovecot validating JWTs: XOAUTH2, OAUTHBEARER, refusals."""

from __future__ import annotations

import time

import pytest

from mailguard.imap.connection import ImapAuthError, ImapConnection
from mailguard.oauth.tokens import AccessToken, TokenSource
from tests.dovecot.fixture import SUPPORT, DovecotFactory
from tests.integration.oauth_support import TIMEOUT, oauth_params
from tests.oauth.tokens import mint

pytestmark = pytest.mark.dovecot


def source_of(tokens: list[str]) -> TokenSource:
    """A source handing out ``tokens`` one by one (the last one again when used up)."""
    handed: list[str] = []

    async def fetch() -> AccessToken:
        handed.append(tokens[min(len(handed), len(tokens) - 1)])
        return AccessToken(handed[-1], 3600)

    return TokenSource("test", fetch, refresh_before=60)


@pytest.mark.parametrize("mechanisms", ["xoauth2 oauthbearer", "xoauth2", "oauthbearer"])
async def test_logs_in_with_a_token_over_the_offered_mechanism(
    dovecot_factory: DovecotFactory, mechanisms: str
) -> None:
    dovecot = dovecot_factory(oauth2=mechanisms)
    source = source_of([mint(dovecot.oauth_key, SUPPORT)])
    conn = await ImapConnection.open(oauth_params(dovecot, source))
    try:
        # The capabilities were read again after authentication: MOVE is post-login only.
        assert conn.has("MOVE") and not conn.has("AUTH=XOAUTH2")
        state = await conn.select("INBOX")
        assert state.uidvalidity > 0
        assert conn.renew_in() is not None and 0 < conn.renew_in() <= 3600  # type: ignore[operator]
    finally:
        await conn.close()
    chosen = "oauthbearer" if "oauthbearer" in mechanisms else "xoauth2"
    log = dovecot.log_file.read_text()
    assert f"method={chosen.upper()}" in log or f"mech={chosen.upper()}" in log, log[-2000:]


@pytest.mark.parametrize("mechanisms", ["xoauth2", "oauthbearer"])
@pytest.mark.parametrize(
    ("case", "claims"),
    [
        ("expired", {"lifetime": -120}),
        ("wrong issuer", {"issuer": "https://elsewhere.test"}),
        ("wrong signature", {"key": b"not the key the server knows!!!!"}),
    ],
)
async def test_a_refused_token_is_a_clear_error_without_a_hang(
    dovecot_factory: DovecotFactory, mechanisms: str, case: str, claims: dict[str, object]
) -> None:
    dovecot = dovecot_factory(oauth2=mechanisms)
    claims = dict(claims)  # parametrize shares the dict between the cases
    key = claims.pop("key", dovecot.oauth_key)
    assert isinstance(key, bytes)
    token = mint(key, SUPPORT, **claims)  # type: ignore[arg-type]
    source = source_of([token])
    started = time.monotonic()
    with pytest.raises(ImapAuthError) as refused:
        await ImapConnection.open(oauth_params(dovecot, source))
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT, f"{case}: took {elapsed:.1f}s (command_timeout {TIMEOUT}s)"
    message = str(refused.value)
    assert "refused the OAuth2 token" in message and mechanisms.upper() in message
    # The server's reason from its error challenge, and its final answer.
    assert "status" in message and "NO" in message, message
    # The refused token is not cached: the next login asks the provider again.
    assert source.fetched == 1
    await source.token()
    assert source.fetched == 2
    # A new token is no accepted token: /status keeps the refusal until a login succeeds.
    assert source.status == "failing: the server refused the token once"


async def test_a_token_for_another_user_is_refused(dovecot_factory: DovecotFactory) -> None:
    dovecot = dovecot_factory(oauth2="xoauth2")
    source = source_of([mint(dovecot.oauth_key, "agent@example.test")])
    with pytest.raises(ImapAuthError, match="refused the OAuth2 token"):
        await ImapConnection.open(oauth_params(dovecot, source))
