"""mailguard against a server that behaves as Exchange Online does, and OAuth2 sessions over time.

The server is a real Dovecot validating the OAuth2 tokens; in front of it a thin proxy
(``tests/oauth/exchange.py``) injects what Exchange does differently: no keywords in
PERMANENTFLAGS and a refusal of every keyword STORE, no SPECIAL-USE (LIST still marks
``Sent Items`` as ``\\Sent``), XOAUTH2 without SASL-IR, ``BYE ... AccessTokenExpired`` when the
token expires, and (where asked) IDLE that misses new mail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mailguard.store.overview import Overview
from tests.dovecot.fixture import SUPPORT, Dovecot, DovecotFactory
from tests.integration.imap_support import (
    ANGRY,
    Harness,
    customer_mail,
    folder_messages,
    mid,
    running_mailguard,
    wait_until,
)
from tests.integration.oauth_support import command_runs, oauth_config, token_command
from tests.oauth.exchange import ExchangeProxy

pytestmark = pytest.mark.dovecot

CARL = "carl@customer.example"


@pytest.fixture
async def exchange(dovecot_factory: DovecotFactory) -> AsyncIterator[tuple[Dovecot, ExchangeProxy]]:
    dovecot = dovecot_factory(oauth2="xoauth2", sent="Sent Items")
    proxy = await ExchangeProxy(dovecot.imap_port, sasl_ir=False).start()
    try:
        yield dovecot, proxy
    finally:
        await proxy.stop()


async def _limits(mg: Harness) -> dict[str, str]:
    view = await Overview(mg.store.engine).status()
    return {feature: detail for _mailbox, feature, detail in view.server_limits}


async def test_escalation_works_without_keywords(
    exchange: tuple[Dovecot, ExchangeProxy], tmp_path: Path
) -> None:
    dovecot, proxy = exchange
    command = token_command(tmp_path / "helper", dovecot.oauth_key)
    config = oauth_config(dovecot, tmp_path / "data", port=proxy.port, command=command)
    async with running_mailguard(config) as mg:
        angry = customer_mail(CARL, "Charged twice", ANGRY)
        robot = customer_mail(
            "noreply@shop.example",
            "Your order",
            "This is an automated message.\n",
            headers=[("Auto-Submitted", "auto-generated")],
        )
        await dovecot.deliver_async(robot, mail_from="noreply@shop.example", rcpt=SUPPORT)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        await mg.processed(mid(angry))

        async def filed() -> bool:
            found = await folder_messages(dovecot, "Escalated")
            return any(
                m["message_id"] == mid(angry) and "\\Flagged" in str(m["flags"]) for m in found
            ) and any(m["note"] for m in found)

        await wait_until(filed, 20, "the angry message escalated by folder and \\Flagged")
        await wait_until(lambda: _no_pending_imap(mg), 10, "actions done")
        limits = await _limits(mg)
        # Where Sent is, found by its attribute without SPECIAL-USE; what the server lacks.
        await wait_until(lambda: _has_limits(mg, {"keywords", "sent"}), 10, "limits kept")
        limits = await _limits(mg)
    # The keyword was never sent: neither the escalated one nor the automated one.
    assert proxy.keyword_stores == 0 and proxy.refused_stores == 0
    found = {m["message_id"]: m for m in await folder_messages(dovecot, "Escalated")}
    assert "$Mailguard" not in str(found[mid(angry)]["flags"])
    assert "keywords" in limits and "without \\*" in limits["keywords"]
    assert "escalation is shown by the folder and \\Flagged" in limits["keywords"]
    assert limits["sent"] == "Sent Items (marked \\Sent)"
    assert proxy.logins >= 3  # inbox, folders, executor: XOAUTH2 without SASL-IR
    assert (tmp_path / "helper" / "runs").exists() and command_runs(tmp_path / "helper") == 1


async def _no_pending_imap(mg: Harness) -> bool:
    return not [k for k in await mg.pending_actions() if k != "notify"]


async def _has_limits(mg: Harness, features: set[str]) -> bool:
    return features <= set(await _limits(mg))


async def test_a_server_that_claims_keywords_and_refuses_them_is_believed_once(
    dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    dovecot = dovecot_factory(oauth2="xoauth2")
    proxy = await ExchangeProxy(dovecot.imap_port, strip_keywords=False).start()
    try:
        command = token_command(tmp_path / "helper", dovecot.oauth_key)
        config = oauth_config(dovecot, tmp_path / "data", port=proxy.port, command=command)
        async with running_mailguard(config) as mg:
            for n in range(3):
                robot = customer_mail(
                    f"noreply{n}@shop.example",
                    f"Order {n}",
                    "This is an automated message.\n",
                    headers=[("Auto-Submitted", "auto-generated")],
                )
                await dovecot.deliver_async(robot, mail_from=robot["From"], rcpt=SUPPORT)
                await mg.processed(mid(robot))
            angry = customer_mail(CARL, "Charged twice", ANGRY)
            await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)

            async def flagged() -> bool:
                found = await folder_messages(dovecot, "Escalated")
                return any(
                    m["message_id"] == mid(angry) and "\\Flagged" in str(m["flags"]) for m in found
                )

            await wait_until(flagged, 20, "escalated with \\Flagged after a refused keyword")
            await wait_until(lambda: _no_pending_imap(mg), 10, "actions done")
            await asyncio.sleep(1.5)  # a few more polls: nothing is retried
    finally:
        await proxy.stop()
    # One refusal per folder at most (INBOX for the automated keyword, Escalated for the
    # escalated one), never a loop of retries.
    assert 1 <= proxy.refused_stores <= 2, proxy.refused_stores


async def test_idle_that_misses_mail_is_caught_by_the_search_beside_it(
    dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    dovecot = dovecot_factory(oauth2="xoauth2")
    proxy = await ExchangeProxy(dovecot.imap_port, drop_idle_pushes=True).start()
    try:
        command = token_command(tmp_path / "helper", dovecot.oauth_key)
        config = oauth_config(
            dovecot,
            tmp_path / "data",
            port=proxy.port,
            command=command,
            poll_interval="1s",
            extra_imap="      idle_renew: 28m",
        )
        async with running_mailguard(config) as mg:
            await wait_until(lambda: _connected(mg), 10, "watching")
            await asyncio.sleep(1)  # the inbox connection is in IDLE now
            for n in range(3):
                message = customer_mail(CARL, f"Question {n}", "Hello,\n\nwhere is my order?\n")
                sent = time.monotonic()
                await dovecot.deliver_async(message, mail_from=CARL, rcpt=SUPPORT)
                await mg.processed(mid(message), within=10)
                took = time.monotonic() - sent
                # IDLE announced nothing: the UID SEARCH after poll_interval (1 s) found it.
                assert took < 6, f"seen after {took:.1f}s"
    finally:
        await proxy.stop()


async def _deliver_and_count_once(
    dovecot: Dovecot, mg: Harness, *, seconds: float, every: float
) -> None:
    """Deliver a message every ``every`` s for ``seconds``; each is decided exactly once."""
    messages = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = "Hello,\n\nwhere is my order?\n"
        message = customer_mail(CARL, f"Question {len(messages)}", body)
        await dovecot.deliver_async(message, mail_from=CARL, rcpt=SUPPORT)
        messages.append(message)
        await asyncio.sleep(every)
    for message in messages:
        await mg.processed(mid(message), within=20)
    for message in messages:
        assert await mg.decisions(mid(message)) == 1, mid(message)


async def _connected(mg: Harness) -> bool:
    return all(w.status == "ok" for w in mg.mail.watchers)


async def test_bye_on_token_expiry_reconnects_with_a_new_token_and_misses_nothing(
    exchange: tuple[Dovecot, ExchangeProxy], tmp_path: Path
) -> None:
    """The provider says an hour, the token lasts 3 s: Exchange ends the session with BYE."""
    dovecot, proxy = exchange
    helper = tmp_path / "helper"
    command = token_command(helper, dovecot.oauth_key, lifetime=3, claimed=3600)
    config = oauth_config(dovecot, tmp_path / "data", port=proxy.port, command=command)
    async with running_mailguard(config) as mg:
        await _deliver_and_count_once(dovecot, mg, seconds=8, every=0.4)
    assert proxy.byes >= 2
    assert command_runs(helper) >= 3  # a new token after each BYE


async def test_a_token_expiring_during_idle_is_renewed_without_losing_mail(
    dovecot_factory: DovecotFactory, tmp_path: Path
) -> None:
    """Straight to Dovecot: tokens of 4 s, renewed (new session) before they expire."""
    dovecot = dovecot_factory(oauth2="xoauth2 oauthbearer")
    helper = tmp_path / "helper"
    command = token_command(helper, dovecot.oauth_key, lifetime=4)
    config = oauth_config(
        dovecot,
        tmp_path / "data",
        tls="implicit",
        command=command,
        poll_interval="30s",
    )
    async with running_mailguard(config) as mg:
        await _deliver_and_count_once(dovecot, mg, seconds=10, every=0.3)
    assert command_runs(helper) >= 3
    log = dovecot.log_file.read_text()
    assert log.count("method=OAUTHBEARER") >= 6  # two connections, renewed every ~3 s
    assert "Error" not in "\n".join(dovecot.log_problems())
