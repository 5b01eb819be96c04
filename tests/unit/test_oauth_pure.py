"""The pure parts of OAuth2 and server capabilities: SASL messages, token timing, parsing."""

from __future__ import annotations

import asyncio
import base64
import json

import jwt
import pytest
from structlog.testing import capture_logs

from mailguard.imap import parse
from mailguard.imap.capabilities import MailboxCapabilities
from mailguard.imap.params import encode_folder
from mailguard.oauth import sasl
from mailguard.oauth.providers import parse_command_output
from mailguard.oauth.tokens import AccessToken, OAuth2Error, TokenSource, jwt_lifetime, renew_after


def test_sasl_messages() -> None:
    assert sasl.xoauth2("a@b.c", "T") == b"user=a@b.c\x01auth=Bearer T\x01\x01"
    assert (
        sasl.oauthbearer("x,y=z@b.c", "T", "imap.b.c", 993)
        == b"n,a=x=2Cy=3Dz@b.c,\x01host=imap.b.c\x01port=993\x01auth=Bearer T\x01\x01"
    )
    assert sasl.abort_response(sasl.OAUTHBEARER) == b"\x01"
    assert sasl.abort_response(sasl.XOAUTH2) == b""


@pytest.mark.parametrize(
    ("capabilities", "chosen"),
    [
        (["IMAP4rev1", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"], "OAUTHBEARER"),
        (["IMAP4rev1", "auth=xoauth2"], "XOAUTH2"),
        (["IMAP4rev1", "AUTH=PLAIN"], None),
    ],
)
def test_mechanism_by_capabilities(capabilities: list[str], chosen: str | None) -> None:
    assert sasl.choose(capabilities) == chosen


def test_error_challenge_is_shown_as_text() -> None:
    challenge = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode())
    assert sasl.error_reason(challenge) == "status 401, schemes bearer"
    assert sasl.error_reason(b"not base64 !") == "not base64 !"


def test_renewal_is_before_expiry_and_never_after_half_the_lifetime() -> None:
    assert renew_after(3600, 300) == 3300
    assert renew_after(6, 300) == 3
    assert renew_after(4, 1) == 3


def test_jwt_lifetime() -> None:
    token = jwt.encode({"exp": 1000}, "k" * 32, algorithm="HS256")
    assert jwt_lifetime(token, 400) == 600
    assert jwt_lifetime("opaque-token", 400) is None
    assert jwt_lifetime("a.!!!.c", 400) is None


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_source_caches_renews_and_forgets_a_refused_token() -> None:
    clock = Clock()
    values = iter(["t1", "t2", "t3"])

    async def fetch() -> AccessToken:
        return AccessToken(next(values), 60)

    source = TokenSource("s", fetch, refresh_before=10, monotonic=clock, wall=clock)

    async def run() -> None:
        assert (await source.token()).value == "t1"
        clock.now += 49
        assert (await source.token()).value == "t1"
        clock.now += 2  # past 50 s: 10 s before the expiry at 60 s
        token = await source.token()
        assert token.value == "t2" and token.seconds_left(clock.now) == 50
        source.refused("t2")
        assert (await source.token()).value == "t3"
        # A new token fetched is no token taken: the refusal shows until a server takes one
        # (a provider whose every token is refused must not read "ok").
        assert source.fetched == 3
        assert source.status == "failing: the server refused the token once"
        source.refused("t3")
        assert source.status == "failing: the server refused the token 2 times in a row"
        source.accepted("t4")
        assert source.status == "ok"
        # A session ended on the token's expiry is no refusal: only the cache is dropped.
        source.expired("t4")
        assert source.status == "ok"

    asyncio.run(run())


def test_token_source_reports_failures_and_malformed_tokens() -> None:
    answers: list[object] = [
        OAuth2Error("endpoint down"),
        AccessToken("bad\ntoken"),
        AccessToken("ok"),
    ]

    async def fetch() -> AccessToken:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, AccessToken)
        return answer

    source = TokenSource("s", fetch, refresh_before=10)

    async def run() -> None:
        with pytest.raises(OAuth2Error, match="endpoint down"):
            await source.token()
        assert source.status == "failing: OAuth2Error: endpoint down"
        with pytest.raises(OAuth2Error, match="malformed"):
            await source.token()
        assert (await source.token()).value == "ok"
        assert source.status == "ok"
        assert (await source.token()).renew_at is None  # no lifetime, no JWT: kept

    asyncio.run(run())


@pytest.mark.parametrize(
    ("output", "value", "lifetime"),
    [
        ("tok\n", "tok", None),
        ("tok\n300\n", "tok", 300.0),
        ('{"access_token": "tok", "expires_in": 60}', "tok", 60.0),
    ],
)
def test_command_output(output: str, value: str, lifetime: float | None) -> None:
    assert parse_command_output(output) == AccessToken(value, lifetime)


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ("", "no token"),
        ("tok\nsoon\n", "not a lifetime"),
        ("a\nb\nc\n", "more than a token"),
        ('{"token": "x"}', "no access_token"),
        ("{oops", "invalid JSON"),
    ],
)
def test_bad_command_output(output: str, problem: str) -> None:
    with pytest.raises(OAuth2Error, match=problem):
        parse_command_output(output)


def test_permanentflags_tell_whether_keywords_are_stored() -> None:
    exchange = parse.folder_state(
        [
            b"OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $MDNSent)] ok",
            b"OK [UIDVALIDITY 14] ok",
        ]
    )
    dovecot = parse.folder_state([b"OK [PERMANENTFLAGS (\\Seen \\*)] ok", b"OK [UIDVALIDITY 1] x"])
    silent = parse.folder_state([b"OK [UIDVALIDITY 1] x"])
    assert not exchange.keywords and dovecot.keywords and silent.keywords
    assert exchange.permanent_flags is not None and "$MDNSent" in exchange.permanent_flags


def test_list_entries_in_every_form() -> None:
    lines: list[bytes | bytearray] = [
        b'(\\HasNoChildren \\Sent) "/" "Sent Items"',
        b'LIST (\\HasNoChildren) "." INBOX',
        b'(\\Sent) "/" {17}',
        bytearray(b"[Gmail]/Sent Mail"),
        b'(\\Sent) NIL "Gesendete &AMQ-"',
        b"List completed",
    ]
    assert parse.list_entries(lines) == [
        (frozenset({"\\HasNoChildren", "\\Sent"}), "Sent Items"),
        (frozenset({"\\HasNoChildren"}), "INBOX"),
        (frozenset({"\\Sent"}), "[Gmail]/Sent Mail"),
        (frozenset({"\\Sent"}), "Gesendete Ä"),
    ]
    for name in ("Entwürfe & Co", "日本", "plain"):
        assert parse.decode_folder(encode_folder(name).strip('"')) == name


def test_capabilities_learn_per_folder_and_log_once() -> None:
    caps = MailboxCapabilities("support")
    assert caps.keywords_available is None
    no = parse.folder_state([b"OK [PERMANENTFLAGS (\\Seen \\Flagged)] x", b"OK [UIDVALIDITY 1] x"])
    yes = parse.folder_state([b"OK [PERMANENTFLAGS (\\Seen \\*)] x", b"OK [UIDVALIDITY 1] x"])
    with capture_logs() as logs:
        caps.selected("INBOX", no)
        caps.selected("Escalated", no)
        caps.selected("INBOX", no)
        caps.selected("Held", yes)
    assert [e["event"] for e in logs] == ["imap_server_limits"]
    assert caps.keywords("INBOX") is False and caps.keywords("Held") is True
    assert caps.keywords("Other") is None and caps.keywords_available is False
    assert "INBOX: PERMANENTFLAGS (\\Flagged \\Seen) without \\*" in caps.limits()["keywords"]
    # A refusal outweighs what a later SELECT claims.
    caps.refused("Held", "BAD Command Argument Error. 11")
    caps.selected("Held", yes)
    assert caps.keywords("Held") is False
    assert "Held: refused a keyword STORE" in caps.limits()["keywords"]
