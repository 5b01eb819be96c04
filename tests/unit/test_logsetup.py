"""Logging: structlog and the standard library end up as the same JSON lines."""

from __future__ import annotations

import io
import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from mailguard.errors import MailguardError
from mailguard.ops.logsetup import KEY_FILE, Pseudonymizer, configure_logging, load_or_create_key


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


def test_aioimaplib_chatter_is_held_back_and_its_warnings_show() -> None:
    # aioimaplib logs every unexpected untagged response at INFO (FLAGS after each SELECT).
    library = logging.getLogger("aioimaplib.aioimaplib")
    out = io.StringIO()
    configure_logging("json", "info", out)
    library.info("ignored untagged response : %r", b"FLAGS (\\Seen)")
    library.warning("connection lost")
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == [
        "connection lost"
    ]


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


def _lines(key: bytes | None, **fields: object) -> dict[str, object]:
    out = io.StringIO()
    configure_logging("json", "info", out, pseudonymize_key=key)
    structlog.get_logger("mailguard.test").info("message_processed", **fields)
    line: dict[str, object] = json.loads(out.getvalue())
    return line


def test_pseudonymized_addresses_are_keyed_stable_and_case_blind() -> None:
    fields = {
        "customer": "Carl@Customer.example",
        "rcpt_tos": ["carl@customer.example", "ann@customer.example"],
        "mail_from": "",
        "kind": "human",
        "mailbox": "support",
    }
    first = _lines(b"deployment-key", **fields)
    again = _lines(b"deployment-key", **fields)
    other = _lines(b"another-key", **fields)
    assert first == {**again, "timestamp": first["timestamp"]}
    customer = first["customer"]
    assert isinstance(customer, str) and customer.startswith("p:") and len(customer) == 18
    assert "customer.example" not in json.dumps(first)
    # The same address (in any case) gets the same pseudonym in every field.
    assert first["rcpt_tos"] == [
        customer,
        Pseudonymizer(b"deployment-key").pseudonym("ann@customer.example"),
    ]
    assert other["customer"] != customer
    # Fields that are not addresses, and the empty reverse path, stay as they were.
    assert (first["kind"], first["mailbox"], first["mail_from"]) == ("human", "support", "")


def test_without_a_key_addresses_are_logged_as_they_are() -> None:
    assert _lines(None, customer="carl@customer.example")["customer"] == "carl@customer.example"


def test_every_address_in_a_line_is_pseudonymised_but_message_ids_stay() -> None:
    key = b"deployment-key"
    alias = Pseudonymizer(key).pseudonym
    line = _lines(
        key,
        error="550 5.1.1 <Carl@Customer.example>: recipient rejected",
        to=["agents@example.com"],
        outcome={"sent": ["dora@customer.example"]},
        message_id="abc.123@customer.example#carl@customer.example",
        awaits="question-1@customer.example",
        url="postgresql://mailguard:***@db.example.com/mailguard",
    )
    text = json.dumps(line)
    assert "customer.example>" not in text and "carl@" not in text.lower()
    assert line["error"] == f"550 5.1.1 <{alias('carl@customer.example')}>: recipient rejected"
    assert line["to"] == [alias("agents@example.com")]
    assert line["outcome"] == {"sent": [alias("dora@customer.example")]}
    assert line["message_id"] == f"abc.123@customer.example#{alias('carl@customer.example')}"
    assert line["awaits"] == "question-1@customer.example"
    assert line["url"] == "postgresql://mailguard:***@db.example.com/mailguard"


def test_library_messages_and_tracebacks_are_pseudonymised_too() -> None:
    out = io.StringIO()
    configure_logging("json", "info", out, pseudonymize_key=b"k")
    logging.getLogger("aiosmtpd.test").warning("MAIL FROM:<%s> refused", "carl@customer.example")
    try:
        raise ValueError("no such user carl@customer.example")
    except ValueError:
        structlog.get_logger("mailguard.test").exception("deferral_failed")
    assert "carl@customer.example" not in out.getvalue()
    first, second = (json.loads(x) for x in out.getvalue().splitlines())
    assert first["event"].startswith("MAIL FROM:<p:")
    assert "ValueError: no such user p:" in second["exception"]


def test_pseudonymize_is_on_by_default_and_needs_no_key() -> None:
    from mailguard.config import Config, parse_config

    assert Config().logging.pseudonymize is True
    assert Config().logging.pseudonymize_key is None
    config = parse_config(
        "logging: {pseudonymize: true, pseudonymize_key: '${K}'}\n", "f.yaml", {"K": "s3cret"}
    )
    assert config.logging.pseudonymize_key is not None
    assert config.logging.pseudonymize_key.get_secret_value() == "s3cret"


def test_the_key_is_generated_once_into_the_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = load_or_create_key(data)
    assert len(key) == 64 and load_or_create_key(data) == key
    path = data / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in data.iterdir()] == [KEY_FILE]
    path.write_text("short\n")
    with pytest.raises(MailguardError, match="too short"):
        load_or_create_key(data)
