"""Operations of the real `mailguard run` with Dovecot and an upstream relay: /readyz, mailguard's
own metrics by name, pseudonymised logs, and a clean SIGTERM (IMAP logged out, exit 0)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import aiosmtplib
import pytest

from mailguard.app.readiness import Readiness
from mailguard.config import parse_config
from mailguard.ops.http import HealthServer
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade
from tests.dovecot.fixture import SUPPORT, Dovecot
from tests.integration.daemon_support import Daemon, daemon_config, free_port, http_get, sample
from tests.integration.imap_support import ANGRY, customer_mail, mid
from tests.smtp_sink import SmtpSink

CARL = "carl@customer.example"


async def _get(port: int, path: str) -> tuple[int, str]:
    """GET off the event loop: the relay sink serves on this test's loop meanwhile."""
    seen = await asyncio.to_thread(http_get, port, path, 5)
    if seen is None:
        raise ConnectionRefusedError(f"nothing answers on port {port}")
    return seen


@pytest.mark.dovecot
@pytest.mark.smtp
@pytest.mark.slow
async def test_readyz_metrics_pseudonyms_and_a_clean_sigterm(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = daemon_config(
        tmp_path,
        dovecot,
        (smtp_sink.host, smtp_sink.port),
        extra={
            "maintenance_interval": "0.5s",
            "logging": {"pseudonymize": True, "pseudonymize_key": "${MAILGUARD_LOG_KEY}"},
        },
    )
    daemon = Daemon(config, tmp_path / "daemon.log", env={"MAILGUARD_LOG_KEY": "k-test"})
    proc, log, http_port, smtp_port = daemon.proc, daemon.log, daemon.http_port, daemon.smtp_port
    try:
        body = await daemon.healthy("/readyz")
        assert json.loads(body)["checks"] == {"database": "ok", "relay": "ok"}

        angry = customer_mail(CARL, "THIRD time writing - cancel NOW", ANGRY)
        await dovecot.deliver_async(angry, mail_from=CARL, rcpt=SUPPORT)
        robot = customer_mail(
            SUPPORT,
            "Re: THIRD time writing - cancel NOW",
            "Thank you for your message. This is an automated reply.\n",
            to=CARL,
            in_reply_to=mid(angry),
            headers=[("Auto-Submitted", "auto-replied")],
            domain="example.test",
        )

        async def metrics_show(name: str, value: float, **labels: str) -> str:
            deadline = time.monotonic() + 20
            while True:
                _, text = await _get(http_port, "/metrics")
                if sample(text, name, **labels) == value:
                    return text
                assert time.monotonic() < deadline, f"{name}{labels} != {value}"
                await asyncio.sleep(0.2)

        await metrics_show("mailguard_escalations_open", 1.0)
        # The robot's reply to the escalated customer is held (proxy.escalated: hold).
        await aiosmtplib.send(robot, hostname="127.0.0.1", port=smtp_port, timeout=10)
        text = await metrics_show("mailguard_held_messages", 1.0)
        assert sample(text, "mailguard_messages_total", source="imap", kind="human") == 1.0
        assert sample(text, "mailguard_messages_total", source="smtp", kind="auto_reply") == 1.0
        # Two decisions cite the rule: the escalation, and the hold of the robot's reply to
        # the escalated customer (held because of that escalation).
        assert sample(text, "mailguard_decisions_total", rule="frustration") == 2.0
        assert sample(text, "mailguard_processing_seconds_count", source="imap") == 1.0
        assert sample(text, "mailguard_processing_seconds_count", source="smtp") == 1.0
        assert sample(text, "mailguard_imap_connected", mailbox="support", role="inbox") == 1.0
        # How long the oldest escalation and held mail have waited (0 would be "none").
        for name in (
            "mailguard_oldest_escalation_age_seconds",
            "mailguard_oldest_held_age_seconds",
        ):
            age = sample(text, name)
            assert age is not None and 0 < age < 600, (name, age)
        assert sample(text, "mailguard_oldest_deferred_age_seconds") == 0.0
        # Reused adapter metrics are there by name (labelled ones once they have a sample).
        for name in (
            "mailguard_imap_reconnects_total",
            "mailguard_relay_messages_total",
            "mailguard_smtp_messages_total",
            "mailguard_imap_process_seconds",
            "mailguard_deferred_messages",
            "mailguard_smtp_deferrals_total",
        ):
            assert f"# TYPE {name} " in text, name
        assert smtp_sink.envelopes == []  # held, not relayed

        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.to_thread(proc.wait, 30)
        stopped_in = time.monotonic() - started
    finally:
        daemon.kill()
    lines = log.read_text()
    assert code == 0, lines
    assert stopped_in < 15, stopped_in
    events = [json.loads(line) for line in lines.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events if e["event"].startswith("daemon_st")][-2:] == [
        "daemon_stopping",
        "daemon_stopped",
    ]
    # Customer addresses appear only as pseudonyms, and never a body.
    # (Message-IDs stay as they are: they tie a line to the mail server's log.)
    assert CARL not in lines
    assert "charged my card twice" not in lines
    customers = {e["customer"] for e in events if e.get("customer")}
    assert customers and all(c.startswith("p:") for c in customers)
    # IDLE was left and each session logged out (Dovecot says "Logged out"), none cut off.
    sessions = [
        line
        for line in dovecot.log_file.read_text().splitlines()
        if f"imap({SUPPORT})" in line and ("Logged out" in line or "Disconnected" in line)
    ]
    assert sessions and all("Logged out" in line for line in sessions), sessions


async def test_readyz_is_503_with_the_reason_when_the_relay_is_down(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    config = parse_config(
        f"data_dir: {tmp_path}\nrelay: {{host: 127.0.0.1, port: {dead}}}\n", "t.yaml", {}
    )
    await upgrade(config.storage_url)
    store = SqlStore.from_url(config.storage_url)
    server = HealthServer(dict, ready=Readiness(store, config.relay).checks)
    port = await server.start("127.0.0.1", 0)
    try:
        status, body = await _get(port, "/readyz")
        assert status == 503
        checks = json.loads(body)["checks"]
        assert checks["database"] == "ok"
        assert checks["relay"].startswith("failing: ConnectionRefusedError")
        # Liveness is not readiness: the loop answers /healthz all the same.
        assert (await _get(port, "/healthz"))[0] == 200
    finally:
        await server.close()
        await store.close()
