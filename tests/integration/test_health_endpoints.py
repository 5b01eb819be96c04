"""Each endpoint's answer for each failure, against the real `mailguard run`.

| failure | /healthz | /readyz | /status |
|---|---|---|---|
| IMAP login refused (Dovecot, wrong password) | 200 | 200 | degraded, ``login_refused`` |
| relay down | 200 | 503 ``relay`` | degraded, ``readiness.relay`` |
| database gone (PostgreSQL dropped) | 200 | 503 ``database`` | degraded, ``storage`` |
| event loop blocked | 503 ``event_loop`` | 503 | degraded, ``event_loop`` |
| an internal task dies for good | 503 ``tasks`` | 200 | degraded, ``liveness.tasks`` |

Liveness (restart me) fails only when the process is stuck; remote faults show in readiness
(SMTP needs the database and the relay) or in /status and the metrics.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.dovecot.fixture import Dovecot
from tests.integration.conftest import pg_connect
from tests.integration.daemon_support import (
    Daemon,
    daemon_config,
    free_port,
    http_get,
    sample,
)
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]


async def _code(daemon: Daemon, path: str) -> tuple[int, dict[str, Any]]:
    seen = await asyncio.to_thread(http_get, daemon.http_port, path, 10)
    assert seen is not None, f"{path}: nothing answers"
    return seen[0], json.loads(seen[1])


async def _wait_code(daemon: Daemon, path: str, code: int, within: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        seen = await daemon.aget(path)
        if seen is not None and seen[0] == code:
            return dict(json.loads(seen[1]))
        assert daemon.proc.poll() is None, daemon.log.read_text()
        assert time.monotonic() < deadline, f"{path} never answered {code}: {seen}"
        await asyncio.sleep(0.1)


@pytest.mark.smtp
async def test_a_refused_imap_login_is_neither_liveness_nor_readiness(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = daemon_config(tmp_path, dovecot, (smtp_sink.host, smtp_sink.port))
    daemon = Daemon(
        config, tmp_path / "daemon.log", env={"MAILGUARD_IMAP_PASSWORD": "not-the-password"}
    )
    try:
        status = await daemon.wait_status(
            "the refused login", lambda s: s["mailboxes"]["support"]["login_refused"] is not None
        )
        support = status["mailboxes"]["support"]
        assert status["status"] == "degraded"
        assert "refused the login" in support["login_refused"], support
        assert support["status"].startswith("inbox: failing: ImapAuthError"), support
        assert support["folders"] == {}  # never read
        assert await _code(daemon, "/healthz") == (
            200,
            {"status": "ok", "checks": {"event_loop": "ok", "tasks": "ok"}},
        )
        assert await _code(daemon, "/readyz") == (
            200,
            {"status": "ok", "checks": {"database": "ok", "relay": "ok"}},
        )
        assert await daemon.metric("mailguard_imap_login_refused", mailbox="support") == 1.0
        assert "not-the-password" not in daemon.log.read_text()
    finally:
        daemon.kill()


@pytest.mark.smtp
async def test_a_watched_mailbox_reports_its_folder_syncs(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = daemon_config(tmp_path, dovecot, (smtp_sink.host, smtp_sink.port))
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        status = await daemon.wait_status("both folders read", _synced("INBOX", "Sent"))
        assert status["status"] == "ok", status
        support = status["mailboxes"]["support"]
        assert support["watching"] is True and support["login_refused"] is None
        first = support["folders"]["INBOX"]["last_sync"]
        # The poll (0.5 s) reads INBOX again: its last sync moves on.
        await daemon.wait_status(
            "a later sync",
            lambda s: s["mailboxes"]["support"]["folders"]["INBOX"]["last_sync"] > first,
        )
        stamp = await daemon.metric(
            "mailguard_imap_last_sync_timestamp_seconds", mailbox="support", folder="INBOX"
        )
        assert stamp is not None and abs(time.time() - stamp) < 30
        assert await daemon.metric("mailguard_imap_login_refused", mailbox="support") == 0.0
    finally:
        daemon.kill()


def _synced(*folders: str) -> Any:
    def check(status: dict[str, Any]) -> bool:
        return set(folders) <= set(status["mailboxes"]["support"]["folders"])

    return check


async def test_the_relay_down_is_not_ready_but_alive(dovecot: Dovecot, tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    config = daemon_config(tmp_path, dovecot, ("127.0.0.1", dead))
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        body = await _wait_code(daemon, "/readyz", 503)
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["relay"].startswith("failing: ConnectionRefusedError"), body
        assert (await _code(daemon, "/healthz"))[0] == 200
        status = await daemon.wait_status("the mailbox watched", _synced("INBOX"))
        assert status["status"] == "degraded"
        assert status["readiness"]["relay"].startswith("failing: ")
        assert status["mailboxes"]["support"]["status"] == "ok"
    finally:
        daemon.kill()


@pytest.mark.smtp
@pytest.mark.postgres
async def test_the_database_gone_is_not_ready_but_alive(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path, postgres_url: str
) -> None:
    config = daemon_config(
        tmp_path,
        dovecot,
        (smtp_sink.host, smtp_sink.port),
        postgres=True,
        extra={"maintenance_interval": "1s"},
    )
    daemon = Daemon(config, tmp_path / "daemon.log", postgres_url=postgres_url)
    try:
        await daemon.wait_status("the mailbox watched", lambda s: s["status"] == "ok")
        admin = await pg_connect()
        try:
            database = postgres_url.rsplit("/", 1)[1]
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        body = await _wait_code(daemon, "/readyz", 503)
        assert body["checks"]["database"].startswith("failing: "), body
        assert body["checks"]["relay"] == "ok"
        assert (await _code(daemon, "/healthz"))[0] == 200
        status = await daemon.wait_status(
            "the storage failing", lambda s: s["storage"].startswith("failing: ")
        )
        assert status["status"] == "degraded"
    finally:
        daemon.kill()


@pytest.mark.smtp
async def test_a_blocked_event_loop_fails_liveness_until_it_runs_again(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = daemon_config(tmp_path, dovecot, (smtp_sink.host, smtp_sink.port))
    daemon = Daemon(
        config,
        tmp_path / "daemon.log",
        module="tests.integration.stuck_mailguard",
        env={"MG_BLOCK_SECONDS": "9", "MG_STALL_AFTER": "1.5"},
    )
    try:
        await daemon.healthy("/readyz")
        daemon.proc.send_signal(signal.SIGUSR2)
        # Served from its own thread, /healthz answers while the loop is blocked.
        body = await _wait_code(daemon, "/healthz", 503, within=8)
        assert body["checks"]["event_loop"].startswith("failing: the event loop has not run")
        assert body["checks"]["tasks"] == "ok"
        # /readyz's probes need the loop: it says that it is blocked (after its 5 s wait).
        code, ready = await _code(daemon, "/readyz")
        assert code == 503 and ready["checks"]["event_loop"].endswith("(blocked)"), ready
        lag = await daemon.metric("mailguard_event_loop_lag_seconds")
        assert lag is not None and lag > 1.5
        await daemon.healthy("/healthz", within=15)  # the loop runs again: alive
        assert (await _code(daemon, "/readyz"))[0] == 200
        lagged = [e for e in daemon.log_events() if e.get("event") == "event_loop_lagged"]
        assert lagged and max(e["seconds"] for e in lagged) >= 8, lagged
    finally:
        daemon.kill()


@pytest.mark.smtp
async def test_a_task_that_keeps_dying_fails_liveness(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = daemon_config(tmp_path, dovecot, (smtp_sink.host, smtp_sink.port))
    daemon = Daemon(
        config,
        tmp_path / "daemon.log",
        module="tests.integration.stuck_mailguard",
        env={"MG_BROKEN_TASK": "gauges"},
    )
    try:
        body = await _wait_code(daemon, "/healthz", 503)
        assert body["checks"]["event_loop"] == "ok"
        died = "gauges: RuntimeError: injected fault in the gauges task"
        assert body["checks"]["tasks"] == f"failing: died and not restarted: {died}"
        assert (await _code(daemon, "/readyz"))[0] == 200
        _, metrics = await daemon.aget("/metrics") or (0, "")
        assert sample(metrics, "mailguard_task_dead", task="gauges") == 1.0
        assert sample(metrics, "mailguard_task_restarts_total", task="gauges") == 2.0
        assert sample(metrics, "mailguard_task_dead", task="maintenance") == 0.0
        events = daemon.events()
        assert events.count("task_restarted") == 2 and "task_given_up" in events
    finally:
        daemon.kill()
