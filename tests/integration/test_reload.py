"""`systemctl reload` (SIGHUP) on the real `mailguard run`: a renewed certificate without a
restart, the log level, an invalid file kept out, and nothing dropped.

An SMTP session open across the reload keeps working; a new STARTTLS sees the new certificate;
the IMAP connections stay (no reconnect, no new Dovecot login).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import ssl
import time
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import yaml
from cryptography import x509

from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config
from tests.integration.imap_support import customer_mail
from tests.oauth.endpoint import LocalCA
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]

CARL = "carl@customer.example"


def _install(ca: LocalCA, live: Path) -> None:
    live.mkdir(exist_ok=True)
    shutil.copyfile(ca.cert_file, live / "cert.pem")
    shutil.copyfile(ca.key_file, live / "key.pem")


async def _starttls(port: int, ca: LocalCA) -> tuple[aiosmtplib.SMTP, bytes]:
    """A client session after STARTTLS that trusts ``ca``; and the certificate it was shown."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10)
    await client.connect()
    await client.starttls(tls_context=ssl.create_default_context(cafile=str(ca.ca_file)))
    await client.ehlo()
    peer = client.get_transport_info("ssl_object").getpeercert(binary_form=True)
    return client, bytes(peer)


def _der(ca: LocalCA) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(ca.cert_file.read_bytes()).public_bytes(Encoding.DER)


def _logins(dovecot: Dovecot) -> int:
    return sum(
        1
        for line in dovecot.log_file.read_text().splitlines()
        if f"Login: user=<{SUPPORT}>" in line
    )


async def test_sighup_renews_the_certificate_keeps_sessions_and_refuses_a_bad_file(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    old, new = LocalCA(tmp_path / "old"), LocalCA(tmp_path / "new")
    live = tmp_path / "live"
    _install(old, live)
    proxy = {"tls_cert": str(live / "cert.pem"), "tls_key": str(live / "key.pem")}
    config = daemon_config(
        tmp_path, dovecot, (smtp_sink.host, smtp_sink.port), extra={"proxy": proxy}
    )
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        await daemon.wait_status("the mailbox watched", lambda s: s["status"] == "ok")
        logins = _logins(dovecot)
        reconnects = await _reconnects(daemon)
        session, shown = await _starttls(daemon.smtp_port, old)
        assert shown == _der(old)

        # The renewed certificate: copied over the files in place, then a reload.
        _install(new, live)
        outcome = await _sighup(daemon, "applied")
        assert outcome["applied"][0].startswith("tls (expires ")
        assert outcome["needs_restart"] == []
        status = await daemon.status()
        expiry = x509.load_pem_x509_certificate(new.cert_file.read_bytes()).not_valid_after_utc
        assert status["tls"] == {"file": proxy["tls_cert"], "expires": expiry.isoformat()}
        stamp = await daemon.metric(
            "mailguard_tls_certificate_expiry_timestamp_seconds", file=proxy["tls_cert"]
        )
        assert stamp == expiry.timestamp()

        # The session opened before the reload still works: a company reply goes through.
        reply = customer_mail(SUPPORT, "Re: your order", "It ships today.\n", to=CARL)
        reply.replace_header("From", SUPPORT)
        errors, _ = await session.send_message(reply)
        assert errors == {}
        await session.quit()
        assert len(smtp_sink.envelopes) == 1
        # A new session is shown the new certificate (and one trusting only the old CA fails).
        fresh, shown = await _starttls(daemon.smtp_port, new)
        assert shown == _der(new)
        await fresh.quit()
        with pytest.raises(ssl.SSLCertVerificationError):
            await _starttls(daemon.smtp_port, old)

        # A key that does not match the certificate: the certificate in use stays.
        shutil.copyfile(old.key_file, live / "key.pem")
        outcome = await _sighup(daemon, "failed")
        assert "KEY_VALUES_MISMATCH" in outcome["error"], outcome
        fresh, shown = await _starttls(daemon.smtp_port, new)
        assert shown == _der(new)
        await fresh.quit()
        shutil.copyfile(new.key_file, live / "key.pem")

        # A file that does not pass the check: logged, the running configuration stays.
        good = config.read_text()
        config.write_text(good.replace("reconnect_max: 1s", "reconnect_max: soon"))
        outcome = await _sighup(daemon, "failed")
        assert "reconnect_max" in outcome["error"], outcome
        failed = [e for e in daemon.log_events() if e.get("event") == "config_reload_failed"]
        assert failed and "reconnect_max" in failed[-1]["error"]
        assert (await daemon.aget("/healthz") or (0,))[0] == 200
        fresh, shown = await _starttls(daemon.smtp_port, new)
        assert shown == _der(new)
        await fresh.quit()

        # The log level, and a change a reload cannot apply (named, not applied).
        data = yaml.safe_load(good)
        data["logging"]["level"] = "warning"
        data["proxy"]["max_connections"] = 7
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        outcome = await _sighup(daemon, "applied")
        assert "logging.level=warning" in outcome["applied"]
        assert outcome["needs_restart"] == ["proxy.max_connections"]
        # At level warning the reload's own info line is no longer written.
        assert [e["event"] for e in daemon.log_events()].count("config_reloaded") == 1

        # Nothing on the IMAP side noticed.
        assert await _reconnects(daemon) == reconnects
        assert _logins(dovecot) == logins
        for role in ("inbox", "folders"):
            assert (
                await daemon.metric("mailguard_imap_connected", mailbox="support", role=role) == 1
            )
    finally:
        daemon.kill()


async def _reconnects(daemon: Daemon) -> tuple[float | None, ...]:
    return tuple(
        [
            await daemon.metric("mailguard_imap_reconnects_total", mailbox="support", role=role)
            for role in ("inbox", "folders")
        ]
    )


async def _sighup(daemon: Daemon, outcome: str) -> dict[str, Any]:
    """SIGHUP; wait until the reload counter of ``outcome`` went up; the reload's record."""
    before = await daemon.metric("mailguard_config_reloads_total", outcome=outcome) or 0.0
    daemon.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while (await daemon.metric("mailguard_config_reloads_total", outcome=outcome) or 0.0) <= before:
        assert daemon.proc.poll() is None, daemon.log.read_text()
        assert time.monotonic() < deadline, f"no {outcome} reload"
        await asyncio.sleep(0.1)
    record = (await daemon.status())["last_reload"]
    assert record["outcome"] == outcome, record
    return dict(record)
