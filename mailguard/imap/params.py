"""Errors, connection parameters and folder-name encoding of the IMAP adapter."""

from __future__ import annotations

import base64
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from mailguard.config.model import ImapConfig
from mailguard.errors import MailguardError
from mailguard.imap import parse
from mailguard.oauth.tokens import TokenSource

if TYPE_CHECKING:
    from mailguard.imap.capabilities import MailboxCapabilities


class ImapError(MailguardError):
    """An IMAP operation failed; ``retryable`` says whether a new connection may help."""

    retryable = True


class ImapConnectionLost(ImapError):
    """The server closed the connection (kick, restart, network); ``bye`` is what it said."""

    def __init__(self, message: str, bye: str | None = None) -> None:
        self.bye = bye
        super().__init__(f"{message}: the server said BYE {bye}" if bye else message)


class ImapAuthError(ImapError):
    """No login: the server refused the credentials (``refused``), or there were none to offer
    (no OAuth2 token could be had, no mechanism in common)."""

    def __init__(self, message: str, *, refused: bool = True) -> None:
        self.refused = refused
        super().__init__(message)


class ImapCommandError(ImapError):
    """A command answered NO or BAD."""

    def __init__(self, command: str, result: str, text: str) -> None:
        self.command, self.result, self.text = command, result, text
        super().__init__(f"{command}: {result} {text}")


@dataclass(frozen=True, slots=True)
class ConnectParams:
    """Where and how to connect and log in (from :class:`ImapConfig`)."""

    host: str
    port: int
    tls: Literal["implicit", "starttls", "plain"]
    user: str
    password: str | None = None
    ca_file: str | None = None
    auth: Literal["auto", "login", "plain", "oauth2"] = "auto"
    timeout: float = 30.0
    token: TokenSource | None = None
    """Where ``auth: oauth2`` gets its access tokens (shared by a mailbox's connections)."""
    capabilities: MailboxCapabilities | None = None
    """Told what each SELECT and refused STORE says about the mailbox's keywords."""

    @classmethod
    def of(
        cls,
        config: ImapConfig,
        token: TokenSource | None = None,
        capabilities: MailboxCapabilities | None = None,
    ) -> ConnectParams:
        if config.auth == "oauth2" and token is None:
            raise ValueError("auth: oauth2 needs a token source")
        return cls(
            host=config.host,
            port=config.effective_port,
            tls=config.tls,
            user=config.user,
            password=config.password.get_secret_value() if config.password else None,
            ca_file=str(config.ca_file) if config.ca_file else None,
            auth=config.auth,
            timeout=config.command_timeout.total_seconds(),
            token=token,
            capabilities=capabilities,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context: the CA file if given, else the system's trust store."""
        return ssl.create_default_context(cafile=self.ca_file)


def encode_folder(name: str) -> str:
    """A folder name as an IMAP argument: modified UTF-7 (RFC 3501 section 5.1.3), quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return parse.quote("".join(out))
