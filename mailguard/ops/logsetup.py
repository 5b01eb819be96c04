"""Logging: structlog for mailguard, with the standard library's loggers in the same pipeline.

JSON lines by default (one object per line, for log shippers); console rendering when the
output is a terminal or the config says so. Libraries that log through ``logging``
(aiosmtpd, aioimaplib, SQLAlchemy, Alembic) end up in the same stream and format.

With a pseudonymisation key (the default: ``logging.pseudonymize``, the key configured or
generated into the data directory, :func:`load_or_create_key`), every e-mail address in a
line is replaced by a keyed hash (``p:`` and 16 hex digits of HMAC-SHA256): the same address
gives the same pseudonym in every line, process and replica that share the key, so one
customer's lines can still be followed, while the address can be neither read back nor
recomputed without the key. That covers mailguard's address fields, free text (errors,
reasons, the libraries' own messages) and the ``#customer`` part of a Message-ID key; a
Message-ID itself stays as it is, so a line can be tied to the mail server's log.
Subjects and bodies are never logged at all (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Literal, TextIO

import structlog

from mailguard.errors import MailguardError

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


# The fields in which mailguard's log lines carry a person's address (STYLE.md's canonical
# line calls the customer ``customer``; the rest name senders and envelope recipients).
ADDRESS_FIELDS = frozenset(
    {
        "customer",
        "sender",
        "mail_from",
        "rcpt_tos",
        "recipient",
        "from_addr",
        "counterpart",
        "target",  # an outbox action's target is the customer it acts for
    }
)


# Fields that hold a Message-ID (or ids): kept readable, except a "#customer" key suffix
# (mailguard records a message's further customers as "<message-id>#<customer>").
MESSAGE_ID_FIELDS = frozenset({"message_id", "message_ids", "awaits", "thread", "root"})
# An address in free text. Deliberately plain (RFC 5322 allows more): it must catch what
# people's addresses look like without turning a URL's "user:***@host" into a pseudonym.
_ADDRESS = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")
KEY_FILE = "log-pseudonym.key"


class Pseudonymizer:
    """A structlog processor replacing every e-mail address in a line by a keyed hash."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def pseudonym(self, address: str) -> str:
        """``p:`` and the first 16 hex digits of HMAC-SHA256(key, case-folded address)."""
        digest = hmac.new(self._key, address.strip().casefold().encode(), hashlib.sha256)
        return "p:" + digest.hexdigest()[:16]

    def _address(self, value: Any) -> Any:
        if isinstance(value, str):
            # Only addresses: a count or "" stays readable, and the empty reverse path of
            # a bounce (RFC 5321 "<>") is not personal data.
            return self.pseudonym(value) if "@" in value else value
        if isinstance(value, list | tuple | set | frozenset):
            return [self._address(item) for item in value]
        return value

    def _message_id(self, value: Any) -> Any:
        if isinstance(value, str):
            real, sep, customer = value.partition("#")
            return f"{real}#{self.pseudonym(customer)}" if sep and "@" in customer else value
        if isinstance(value, list | tuple | set | frozenset):
            return [self._message_id(item) for item in value]
        return value

    def text(self, value: Any) -> Any:
        """``value`` with every address in it (nested in lists and dicts too) pseudonymised."""
        if isinstance(value, str):
            if "@" not in value:
                return value
            return _ADDRESS.sub(lambda m: self.pseudonym(m.group(0)), value)
        if isinstance(value, list | tuple | set | frozenset):
            return [self.text(item) for item in value]
        if isinstance(value, dict):
            return {key: self.text(item) for key, item in value.items()}
        return value

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for name, value in event.items():
            if name in ADDRESS_FIELDS:
                event[name] = self._address(value)
            elif name in MESSAGE_ID_FIELDS:
                event[name] = self._message_id(value)
            elif name == "exc_info" or name.startswith("_"):
                continue  # rendered later, by format_exc_info (see configure_logging)
            else:
                event[name] = self.text(value)
        return event


class _AfterRendering:
    """Runs after ``format_exc_info``: a traceback's text may name an address too."""

    def __init__(self, pseudonymizer: Pseudonymizer) -> None:
        self._pseudonymizer = pseudonymizer

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        if "exception" in event:
            event["exception"] = self._pseudonymizer.text(event["exception"])
        return event


def load_or_create_key(data_dir: Path) -> bytes:
    """The pseudonymisation key in ``data_dir``, generated there (mode 0600) when missing.

    Several processes starting at once on one data directory agree on one key: the file is
    written under a temporary name and linked into place, which fails for all but the first.
    Raises :class:`~mailguard.errors.MailguardError` naming the file when it cannot be made
    or read.
    """
    path = data_dir / KEY_FILE
    try:
        if not path.exists():
            _create_key(data_dir, path)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise MailguardError(f"cannot read or create the log pseudonym key {path}: {exc}") from exc
    if len(key) < 32:
        raise MailguardError(f"{path}: the log pseudonym key is too short (delete the file)")
    return key.encode()


def _create_key(data_dir: Path, path: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: its key is the one
    finally:
        temporary.unlink()


def configure_logging(
    fmt: Literal["auto", "json", "console"] = "auto",
    level: str = "info",
    stream: TextIO | None = None,
    pseudonymize_key: bytes | None = None,
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr by default).

    With ``pseudonymize_key``, e-mail addresses are replaced by keyed hashes (see above), in
    mailguard's own lines and in the libraries'.
    """
    out = stream or sys.stderr
    pseudonymizer = Pseudonymizer(pseudonymize_key) if pseudonymize_key is not None else None
    foreign: list[structlog.types.Processor] = list(_SHARED)
    rendering: list[structlog.types.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
    ]
    if pseudonymizer is not None:
        foreign.append(pseudonymizer)
        rendering.append(_AfterRendering(pseudonymizer))
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: structlog.types.Processor
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=foreign, processors=[*rendering, renderer]
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    set_level(level)
    own: list[structlog.types.Processor] = list(_SHARED)
    if pseudonymizer is not None:
        own.append(pseudonymizer)
    structlog.configure(
        processors=[
            *own,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def set_level(level: str) -> None:
    """Log at ``level`` (debug, info, warning, error) from now on; a reload calls this."""
    numeric = logging.getLevelName(level.upper())
    logging.getLogger().setLevel(numeric)
    # The libraries are chatty at INFO about every connection; their warnings still show.
    # aioimaplib logs every untagged response it did not expect (FLAGS after each SELECT).
    for noisy in ("aioimaplib", "aiosqlite", "asyncio", "mail.log", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
