"""Logging: structlog for mailguard, with the standard library's loggers in the same pipeline.

JSON lines by default (one object per line, for log shippers); console rendering when the
output is a terminal or the config says so. Libraries that log through ``logging``
(aiosmtpd, aioimaplib, SQLAlchemy, Alembic) end up in the same stream and format.

With a pseudonymisation key, customer addresses in mailguard's own fields are replaced by a
keyed hash (``p:`` and 16 hex digits of HMAC-SHA256): the same address gives the same
pseudonym in every line, process and replica that share the key, so one customer's lines can
still be followed, while the address cannot be read back nor recomputed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

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


class Pseudonymizer:
    """A structlog processor replacing addresses in :data:`ADDRESS_FIELDS` by keyed hashes."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def pseudonym(self, address: str) -> str:
        """``p:`` and the first 16 hex digits of HMAC-SHA256(key, case-folded address)."""
        digest = hmac.new(self._key, address.strip().casefold().encode(), hashlib.sha256)
        return "p:" + digest.hexdigest()[:16]

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            # Only addresses: a count or "" stays readable, and the empty reverse path of
            # a bounce (RFC 5321 "<>") is not personal data.
            return self.pseudonym(value) if "@" in value else value
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(item) for item in value]
        return value

    def __call__(
        self, logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for name in ADDRESS_FIELDS.intersection(event):
            event[name] = self._value(event[name])
        return event


def configure_logging(
    fmt: Literal["auto", "json", "console"] = "auto",
    level: str = "info",
    stream: TextIO | None = None,
    pseudonymize_key: bytes | None = None,
) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr by default).

    With ``pseudonymize_key``, customer addresses are replaced by keyed hashes (see above).
    """
    out = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: structlog.types.Processor
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    else:
        renderer = structlog.processors.JSONRenderer()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    # The libraries are chatty at INFO about every connection; their warnings still show.
    # aioimaplib logs every untagged response it did not expect (FLAGS after each SELECT).
    for noisy in ("aioimaplib", "aiosqlite", "asyncio", "mail.log", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    own: list[structlog.types.Processor] = list(_SHARED)
    if pseudonymize_key is not None:
        own.append(Pseudonymizer(pseudonymize_key))
    structlog.configure(
        processors=[
            *own,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
