"""OAuth2 configuration: the ``oauth2:`` block under ``imap:`` and ``relay:``, and ``helpdesk:``.

One flat section for the four token providers, so a person writes the keys of the provider
they chose and nothing else; the validator names every missing key and every key that
belongs to another provider. ``check-config`` goes further (files readable, certificate
and service-account key usable: ``mailguard.oauth.providers.check``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator, model_validator

from mailguard.config.values import Address, Duration, Section

Provider = Literal["microsoft", "google", "oauth2", "command"]

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"

# Which keys each provider takes (beyond provider, refresh_before and timeout), and which
# of them it needs. ``client_secret``/``certificate`` of microsoft: exactly one of the two.
_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "microsoft": (
        frozenset({"tenant", "client_id", "client_secret", "certificate", "authority"})
        | {"scopes", "ca_file"},
        frozenset({"tenant", "client_id"}),
    ),
    "google": (
        frozenset({"service_account_file", "subject", "scopes", "ca_file"}),
        frozenset({"service_account_file"}),
    ),
    "oauth2": (
        frozenset({"token_url", "client_id", "client_secret", "refresh_token"})
        | {"scopes", "ca_file"},
        frozenset({"token_url", "client_id"}),
    ),
    "command": (frozenset({"command"}), frozenset({"command"})),
}
_PROVIDER_KEYS = frozenset().union(*(keys for keys, _ in _KEYS.values()))


def _https(url: str, key: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{key} must be an https:// URL (got {url!r})")
    return url.rstrip("/")


class OAuth2Config(Section):
    """Where an OAuth2 access token comes from (with ``auth: oauth2``)."""

    provider: Provider
    tenant: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate: Path | None = None
    authority: str | None = None
    service_account_file: Path | None = None
    subject: Address | None = None
    token_url: str | None = None
    refresh_token: SecretStr | None = None
    scopes: list[str] | None = None
    command: list[str] | None = None
    ca_file: Path | None = None
    refresh_before: Duration = timedelta(minutes=5)
    timeout: Duration = timedelta(seconds=30)

    @field_validator("authority")
    @classmethod
    def _authority_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value, "authority")

    @field_validator("token_url")
    @classmethod
    def _token_url_https(cls, value: str | None) -> str | None:
        return None if value is None else _https(value, "token_url")

    @field_validator("command")
    @classmethod
    def _command_not_empty(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not value[0].strip()):
            raise ValueError("must name a program: [program, argument, ...]")
        return value

    @field_validator("refresh_before", "timeout")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be above 0s")
        return value

    @model_validator(mode="after")
    def _keys_of_the_provider(self) -> OAuth2Config:
        allowed, required = _KEYS[self.provider]
        given = {key for key in _PROVIDER_KEYS if getattr(self, key) is not None}
        problems = [f"{key} is required" for key in sorted(required - given)]
        if self.provider == "microsoft" and (self.client_secret is None) == (
            self.certificate is None
        ):
            problems.append("exactly one of client_secret and certificate is required")
        stray = sorted(given - allowed)
        if stray:
            problems.append(
                f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not used by this "
                f"provider (it takes {', '.join(sorted(allowed))})"
            )
        if problems:
            raise ValueError(f"provider {self.provider}: " + "; ".join(problems))
        return self

    @property
    def effective_scopes(self) -> list[str]:
        """The configured scopes, or the provider's default for mail."""
        if self.scopes is not None:
            return list(self.scopes)
        if self.provider == "microsoft":
            return [MICROSOFT_SCOPE]
        if self.provider == "google":
            return [GOOGLE_SCOPE]
        return []

    @property
    def effective_authority(self) -> str:
        """The Microsoft authority URL of the tenant (``https://login.microsoftonline.com/T``)."""
        return f"{self.authority or MICROSOFT_AUTHORITY}/{self.tenant}"


def check_auth(
    *,
    auth: str,
    password: SecretStr | None,
    oauth2: OAuth2Config | None,
    password_needed: bool,
) -> None:
    """The rules shared by ``imap:`` and ``relay:`` for ``auth``, ``password`` and ``oauth2``."""
    if auth == "oauth2":
        if oauth2 is None:
            raise ValueError("auth: oauth2 needs an oauth2: block (provider and its keys)")
        if password is not None:
            raise ValueError("password is not used with auth: oauth2; remove it")
        return
    if oauth2 is not None:
        raise ValueError("the oauth2: block is used only with auth: oauth2")
    if password_needed and password is None:
        raise ValueError("password is required (or auth: oauth2 with an oauth2: block)")


class HelpdeskConfig(Section):
    """A helpdesk that fetches the mailbox's INBOX itself (Zammad, FreeScout, fetchmail, ...)."""

    fetches_inbox: bool = False
    name: str | None = None
    link: str | None = None

    @field_validator("link")
    @classmethod
    def _link_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            value.format(message_id="m", customer="c", subject="s")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"unknown placeholder {exc}: use {{message_id}}, {{customer}} or {{subject}}"
            ) from None
        return value
