"""Value types of the configuration: durations, sizes, addresses, domains, IMAP keywords.

Each is an ``Annotated`` type whose validator turns what a person writes ("14d", "25MB",
"Support@Example.COM") into one canonical value, or raises ``ValueError`` with a message
that says what would have been right.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|m|mb|g|gb)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2}
_SIZE_UNITS |= {"g": 1024**3, "gb": 1024**3}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_ATOM = re.compile(r"^[!#-'*+\-/-9=?A-Z^-~]+$")  # RFC 3501 flag-keyword atom characters.
MAILBOX_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 8h, 14d or 2w")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 8h, 14d or 2w")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size such as 25MB, 512KB or 1048576")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()]


def _address(value: Any) -> str:
    text = str(value).strip().lower()
    if not _ADDRESS.match(text):
        raise ValueError(f"{value!r} is not an e-mail address")
    return text


def _sender(value: Any) -> str:
    """An address, or ``@domain`` for every address of a domain."""
    text = str(value).strip().lower()
    if text.startswith("@"):
        return "@" + parse_domain(text[1:])
    return _address(text)


def parse_domain(value: Any) -> str:
    """A domain name, lower-case and IDNA-encoded; ValueError names what is wrong."""
    text = str(value).strip().lower().rstrip(".")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{value!r} is not a domain name") from exc
    if not _DOMAIN.match(text):
        raise ValueError(f"{value!r} is not a domain name")
    return text


def _keyword(value: Any) -> str:
    text = str(value)
    if not _ATOM.match(text) or text.startswith("\\"):
        raise ValueError(f"{value!r} is not a valid IMAP keyword (letters, digits, $ and -)")
    return text


def _regex(value: Any) -> str:
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc
    return str(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ByteSize = Annotated[int, BeforeValidator(_size), Field(gt=0)]
Address = Annotated[str, BeforeValidator(_address)]
Sender = Annotated[str, BeforeValidator(_sender)]
Domain = Annotated[str, BeforeValidator(parse_domain)]
Keyword = Annotated[str, BeforeValidator(_keyword)]
Regex = Annotated[str, BeforeValidator(_regex)]
Port = Annotated[int, Field(ge=1, le=65535)]
TlsMode = Literal["implicit", "starttls", "plain"]


class Section(BaseModel):
    """Base of every config section: frozen, unknown keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
