"""Logging: structlog and the standard library end up as the same JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from mailguard.ops.logsetup import configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_structlog_and_stdlib_loggers_share_the_json_pipeline() -> None:
    out = io.StringIO()
    configure_logging("json", "info", out)
    structlog.get_logger("mailguard.test").info("message_classified", kind="auto_reply")
    logging.getLogger("aiosmtpd.test").warning("peer %s hung up", "127.0.0.1")
    logging.getLogger("aiosmtpd.test").debug("below the level")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["message_classified", "peer 127.0.0.1 hung up"]
    assert lines[0]["kind"] == "auto_reply" and lines[0]["level"] == "info"
    assert lines[1]["logger"] == "aiosmtpd.test" and lines[1]["level"] == "warning"
    assert all(line["timestamp"].endswith("Z") for line in lines)


def test_console_format_is_not_json() -> None:
    out = io.StringIO()
    configure_logging("console", "debug", out)
    structlog.get_logger("mailguard.test").debug("daemon_started", mailboxes=["support"])
    text = out.getvalue()
    assert "daemon_started" in text
    assert not text.lstrip().startswith("{")


def test_auto_format_is_json_when_not_a_terminal() -> None:
    out = io.StringIO()
    configure_logging("auto", "info", out)
    structlog.get_logger("mailguard.test").info("daemon_stopped")
    assert json.loads(out.getvalue())["event"] == "daemon_stopped"
