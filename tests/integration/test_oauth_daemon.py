"""`mailguard run` logging in to IMAP with tokens from a local HTTPS token endpoint.

The endpoint is down when the daemon starts: /status names it (``oauth2`` ``imap:support``)
and the mailbox, the daemon retries, and once the endpoint is back the mailbox is
watched and mail is processed. /healthz stays 200 throughout (a remote fault).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dovecot.fixture import SUPPORT, DovecotFactory
from tests.integration.daemon_support import Daemon, daemon_config, wait_for
from tests.integration.imap_support import customer_mail, mid
from tests.oauth.endpoint import Client, LocalCA, TokenEndpoint
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]


async def test_token_endpoint_down_is_reported_and_retried(
    dovecot_factory: DovecotFactory, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    dovecot = dovecot_factory(oauth2="xoauth2 oauthbearer")
    ca = LocalCA(tmp_path / "ca")
    endpoint = TokenEndpoint(ca, key=dovecot.oauth_key).start()
    endpoint.clients["mailguard"] = Client(SUPPORT, secret="app-secret")
    endpoint.down()
    config = daemon_config(
        tmp_path,
        dovecot,
        (smtp_sink.host, smtp_sink.port),
        imap={
            "password": None,
            "auth": "oauth2",
            "oauth2": {
                "provider": "oauth2",
                "token_url": f"{endpoint.base}/token",
                "client_id": "mailguard",
                "client_secret": "${MG_OAUTH_SECRET}",
                "ca_file": str(ca.ca_file),
                "timeout": "3s",
            },
        },
    )
    daemon = Daemon(config, tmp_path / "daemon.log", env={"MG_OAUTH_SECRET": "app-secret"})
    try:
        seen = await daemon.wait_status(
            "the token endpoint named",
            lambda s: "Connection refused" in s["oauth2"].get("imap:support", ""),
        )
        support = seen["mailboxes"]["support"]
        assert support["status"].startswith("inbox: failing: ImapAuthError: no OAuth2 token")
        assert support["login_refused"] is None  # no token to offer is not a refusal
        assert (await daemon.aget("/healthz") or (0,))[0] == 200
        endpoint.up()
        seen = await daemon.wait_status("the mailbox watched", lambda s: s["status"] == "ok")
        assert seen["oauth2"]["imap:support"] == "ok"
        message = customer_mail("carl@customer.example", "Hello", "Where is my parcel?\n")
        await dovecot.deliver_async(message, mail_from="carl@customer.example", rcpt=SUPPORT)

        async def processed() -> bool:
            return any(
                e.get("event") == "message_processed" and e.get("message_id") == mid(message)
                for e in daemon.log_events()
            )

        await wait_for("the message processed", processed, within=30)
        assert endpoint.issued("token") >= 1
        assert "app-secret" not in daemon.log.read_text()  # never a credential in the log
    finally:
        daemon.kill()
        endpoint.stop()
