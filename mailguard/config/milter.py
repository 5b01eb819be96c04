"""The milter: where mailguard listens for Postfix (or Sendmail), in the MTA's own notation.

Off unless configured: ``milter: {listen: "inet:127.0.0.1:8891"}`` or ``unix:/path``, the
same text Postfix's ``smtpd_milters`` holds (docs/postfix.md). What it decides follows the
proxy's settings (``proxy.escalated``, ``proxy.rewrite``, ``proxy.defer_unseen``,
``proxy.trace_header``), because it is the same decision at another door.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from mailguard.config.values import Section, is_loopback

_INET = re.compile(r"^inet:(?P<host>\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):(?P<port>\d{1,5})$")


class MilterConfig(Section):
    """The milter Postfix's ``smtpd_milters`` / ``non_smtpd_milters`` point at."""

    listen: str
    max_connections: Annotated[int, Field(ge=1, le=10_000)] = 200
    # A unix socket's permissions: Postfix's processes (user postfix) must be able to write
    # to it; give them the group, or 0666 on a directory only they can reach.
    socket_mode: Annotated[str, Field(pattern=r"^0?[0-7]{3}$")] = "0660"
    # The milter protocol has no authentication: off loopback, anyone who reaches the port
    # can have mail decided (and recorded). Only behind a firewall, for an MTA elsewhere.
    allow_remote: bool = False

    @field_validator("listen")
    @classmethod
    def _listen_form(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("unix:"):
            if not value[5:].startswith("/"):
                raise ValueError(
                    f"unix: needs an absolute path (unix:/run/mailguard/milter.sock), not {value!r}"
                )
            return value
        match = _INET.match(value)
        if match is None:
            raise ValueError(
                f"must be inet:HOST:PORT (inet:127.0.0.1:8891, inet:[::1]:8891) or "
                f"unix:/path, not {value!r}"
            )
        port = int(match["port"])
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is not between 1 and 65535")
        return value

    @model_validator(mode="after")
    def _local_unless_allowed(self) -> MilterConfig:
        if self.unix_path is None and not self.allow_remote and not is_loopback(self.inet[0]):
            raise ValueError(
                f"listen: {self.inet[0]} is not a loopback address and the milter protocol "
                "has no authentication; listen on 127.0.0.1, ::1 or a unix socket, or set "
                "allow_remote: true behind a firewall"
            )
        return self

    @property
    def unix_path(self) -> str | None:
        """The socket path of a ``unix:`` listener, else None."""
        return self.listen[5:] if self.listen.startswith("unix:") else None

    @property
    def inet(self) -> tuple[str, int]:
        """(host, port) of an ``inet:`` listener."""
        match = _INET.match(self.listen)
        if match is None:
            raise ValueError(f"milter.listen {self.listen!r} is not an inet: listener")
        return match["host"].strip("[]"), int(match["port"])
