"""The configuration: frozen pydantic models for one YAML file, and ``load_config``.

Unknown keys and bad values are errors that name the key and, where YAML knows it, the
line. Secrets are never written in the file: ``${VAR}`` is replaced from the environment.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import warnings
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from mailguard.config.milter import MilterConfig
from mailguard.config.notes import NoteConfig
from mailguard.config.notify import NotifyConfig
from mailguard.config.oauth import HelpdeskConfig, OAuth2Config, check_auth
from mailguard.config.retention import RetentionConfig
from mailguard.config.rules import ClassifierConfig, PolicyConfig
from mailguard.config.values import (
    MAILBOX_NAME,
    Address,
    ByteSize,
    Domain,
    Duration,
    Keyword,
    Port,
    Regex,
    Section,
    Sender,
    TlsMode,
    is_loopback,
)
from mailguard.config.yamlsource import LocatedData, dotted, load_yaml
from mailguard.errors import ConfigError, ConfigProblem


class ImapConfig(Section):
    """How to reach a guarded mailbox over IMAP."""

    host: str
    port: Port | None = None
    tls: TlsMode = "implicit"
    allow_plain_remote: bool = False
    ca_file: Path | None = None
    user: str
    password: SecretStr | None = None
    auth: Literal["auto", "login", "plain", "oauth2"] = "auto"
    oauth2: OAuth2Config | None = None
    poll_interval: Duration = timedelta(seconds=60)
    idle: bool = True
    idle_renew: Duration = timedelta(minutes=25)
    idle_sent: bool = True
    backfill: Duration = timedelta(days=30)
    fetch_ahead_bytes: ByteSize = 64 * 1024**2
    escalate_mode: Literal["move", "copy", "flag"] = "move"
    mark_automated: bool = True
    command_timeout: Duration = timedelta(seconds=30)
    reconnect_max: Duration = timedelta(minutes=5)
    takeover: Duration = timedelta(seconds=15)

    @field_validator("takeover")
    @classmethod
    def _takeover_at_least_a_second(cls, value: timedelta) -> timedelta:
        # Each standby replica asks PostgreSQL for the lease this often; below a second
        # the replicas would only add load to the database, not speed up a takeover.
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value

    @field_validator("idle_renew")
    @classmethod
    def _idle_renew_below_29_minutes(cls, value: timedelta) -> timedelta:
        # RFC 2177: servers may log out a client idle for 30 minutes; renew before 29.
        if not timedelta(seconds=1) <= value < timedelta(minutes=29):
            raise ValueError("must be at least 1s and below 29m (RFC 2177)")
        return value

    @model_validator(mode="after")
    def _plain_only_to_loopback(self) -> ImapConfig:
        check_auth(auth=self.auth, password=self.password, oauth2=self.oauth2, password_needed=True)
        if self.tls == "plain" and not self.allow_plain_remote and not is_loopback(self.host):
            secret = "token" if self.auth == "oauth2" else "password"
            raise ValueError(
                f"tls: plain sends the {secret} in clear text to {self.host}; use implicit or "
                "starttls, or set allow_plain_remote: true"
            )
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, or the IANA default for the TLS mode."""
        return self.port or (993 if self.tls == "implicit" else 143)


class FoldersConfig(Section):
    """IMAP folders mailguard reads from and files into."""

    inbox: str = "INBOX"
    sent: str = "Sent"
    escalation: str = "Escalated"
    handled: str = "Handled"
    held: str = "Held"
    # Agents move a held copy into release (send it) or drop (discard it); mailguard then
    # moves it on into released or dropped (docs/imap.md "Held mail").
    release: str = "Release"
    drop: str = "Drop"
    released: str = "Released"
    dropped: str = "Dropped"

    @model_validator(mode="after")
    def _commands_apart(self) -> FoldersConfig:
        # A copy in release or drop is an agent's command: were either also a folder
        # mailguard files into or reads, every message there would count as one.
        others = {
            name: getattr(self, name)
            for name in ("inbox", "sent", "escalation", "handled", "held", "released", "dropped")
        }
        for command in ("release", "drop"):
            folder = getattr(self, command)
            clash = [name for name, other in others.items() if other == folder]
            if command == "release" and folder == self.drop:
                clash.append("drop")
            if clash:
                raise ValueError(
                    f"{command}: {folder!r} is also {', '.join(clash)}; an agent's command "
                    "folder must be a folder of its own"
                )
        return self


class KeywordsConfig(Section):
    """IMAP keywords mailguard sets on messages it has judged."""

    escalated: Keyword = "$MailguardEscalated"
    automated: Keyword = "$MailguardAutomated"
    handled: Keyword = "$MailguardHandled"
    release: Keyword = "$MailguardRelease"
    drop: Keyword = "$MailguardDrop"
    released: Keyword = "$MailguardReleased"
    dropped: Keyword = "$MailguardDropped"


class MailboxConfig(Section):
    """One guarded support mailbox."""

    name: Annotated[str, Field(pattern=MAILBOX_NAME.pattern)]
    addresses: Annotated[list[Address], Field(min_length=1)]
    imap: ImapConfig | None = None
    folders: FoldersConfig = FoldersConfig()
    keywords: KeywordsConfig = KeywordsConfig()
    helpdesk: HelpdeskConfig = HelpdeskConfig()
    # None follows the top-level dry_run; true or false overrides it for this mailbox only.
    dry_run: bool | None = None

    @model_validator(mode="after")
    def _helpdesk_keeps_inbox(self) -> MailboxConfig:
        # A helpdesk that fetches INBOX must get every message: escalation copies (or only
        # flags) there. Left at its default, escalate_mode follows; written as move, it is
        # a contradiction to point out rather than to overrule.
        if not self.helpdesk.fetches_inbox or self.imap is None:
            return self
        if "escalate_mode" not in self.imap.model_fields_set:
            imap = self.imap.model_copy(update={"escalate_mode": "copy"})
            return self.model_copy(update={"imap": imap})
        if self.imap.escalate_mode == "move":
            raise ValueError(
                "helpdesk.fetches_inbox: true and imap.escalate_mode: move contradict each "
                "other (a moved message never reaches the helpdesk); use copy or flag"
            )
        return self


class HumanMarker(Section):
    """A header whose value marks company mail as written by a person."""

    header: Annotated[str, Field(pattern=r"^[!-9;-~]+$")]
    pattern: Regex


class CompanyConfig(Section):
    """Who is the company: never customers, and which of its senders are robots."""

    domains: list[Domain] = []
    addresses: list[Address] = []
    helpdesk_senders: list[Sender] = []
    agents: list[Address] = []
    human_markers: list[HumanMarker] = []
    partner_addresses: list[Address] = []


class RelayConfig(Section):
    """The upstream SMTP relay mailguard hands mail on to (the proxy, later notifications)."""

    host: str = "127.0.0.1"
    port: Port = 25
    tls: TlsMode = "plain"
    allow_plain_remote: bool = False
    ca_file: Path | None = None
    auth: Literal["auto", "oauth2"] = "auto"
    user: str | None = None
    password: SecretStr | None = None
    oauth2: OAuth2Config | None = None
    timeout: Duration = timedelta(seconds=60)
    pool_size: Annotated[int, Field(ge=1, le=100)] = 4

    @model_validator(mode="after")
    def _check(self) -> RelayConfig:
        check_auth(
            auth=self.auth, password=self.password, oauth2=self.oauth2, password_needed=False
        )
        if self.auth == "oauth2" and self.user is None:
            raise ValueError("auth: oauth2 needs user (the mailbox the token is for)")
        if self.auth != "oauth2" and (self.user is None) != (self.password is None):
            raise ValueError("user and password must be given together")
        if self.tls == "plain" and self.user and not is_loopback(self.host):
            if not self.allow_plain_remote:
                secret = "token" if self.auth == "oauth2" else "password"
                raise ValueError(
                    f"AUTH over tls: plain would send the {secret} in clear text to "
                    f"{self.host}; use starttls or implicit, or set allow_plain_remote: true"
                )
        return self


UpstreamConfig = RelayConfig
"""The old name of :class:`RelayConfig` (``proxy.upstream`` before ``relay:``)."""


class ConfigDeprecationWarning(FutureWarning):
    """A configuration key still works but has moved; the message names the new key.

    A ``FutureWarning`` because it is meant for the operator, who sees those by default.
    """


class HandoverConfig(Section):
    """The handover sentence a rewritten reply carries, per language (DE/EN)."""

    en: str = (
        "Your request has been passed to a member of our team, who will reply to you personally."
    )
    de: str = (
        "Ihr Anliegen wurde an eine Mitarbeiterin oder einen Mitarbeiter weitergegeben, "
        "die oder der Ihnen persönlich antworten wird."
    )


class RewriteConfig(Section):
    """How an automated reply in an escalated thread is rewritten (``escalated: rewrite``)."""

    subject_prefix: str = ""
    handover: HandoverConfig = HandoverConfig()
    default_language: Literal["en", "de"] = "en"


class ProxyConfig(Section):
    """The SMTP proxy the helpdesk sends its outgoing mail through."""

    enabled: bool = True
    listen_host: str = "127.0.0.1"
    listen_port: Port = 10025
    hostname: str = "mailguard.localdomain"
    allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = [
        ipaddress.IPv4Network("127.0.0.0/8"),
        ipaddress.IPv6Network("::1/128"),
    ]
    auth_users: dict[str, SecretStr] = {}
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_message_size: ByteSize = 25 * 1024**2
    max_connections: Annotated[int, Field(ge=1, le=100_000)] = 100
    tls_mode: Literal["starttls", "implicit"] = "starttls"
    require_tls: bool = False
    escalated: Literal["hold", "rewrite", "divert"] = "hold"
    rewrite: RewriteConfig = RewriteConfig()
    trace_header: bool = False
    # A robot's reply to a message the IMAP watcher has not recorded yet (a Sieve vacation
    # reply is sent during the delivery of the message it answers) is stored, answered 250
    # and decided once the watcher has seen that message, or after this long without it.
    defer_unseen: Duration = timedelta(seconds=60)

    @field_validator("defer_unseen")
    @classmethod
    def _defer_bounds(cls, value: timedelta) -> timedelta:
        if value < timedelta(0) or value > timedelta(hours=1):
            raise ValueError("must be between 0s (no deferral) and 1h")
        return value

    @model_validator(mode="after")
    def _check(self) -> ProxyConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        if self.tls_cert is None and (self.tls_mode == "implicit" or self.require_tls):
            raise ValueError("tls_mode: implicit and require_tls need tls_cert and tls_key")
        # mailguard must never be an open relay: a network that admits every address is
        # only allowed when every client has to authenticate.
        everyone = [str(n) for n in self.allowed_networks if n.prefixlen == 0]
        if everyone and not self.auth_users:
            raise ValueError(
                f"allowed_networks {', '.join(everyone)} admits every address: that is an "
                "open relay; list the helpdesk's networks, or configure auth_users"
            )
        if self.auth_users and self.tls_cert is None and not is_loopback(self.listen_host):
            raise ValueError(
                "auth_users without tls_cert would accept passwords in clear text on "
                f"{self.listen_host}; configure tls_cert and tls_key"
            )
        return self


class LoggingConfig(Section):
    """structlog output: JSON lines, or console on a terminal."""

    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"
    # On by default (docs/privacy.md): without a configured key, one is generated into the
    # data directory on first start. Replicas must share a configured key for their
    # pseudonyms to match; with a random key per start they would not match across restarts.
    pseudonymize: bool = True
    pseudonymize_key: SecretStr | None = None


class HttpConfig(Section):
    """The health and Prometheus metrics endpoint."""

    enabled: bool = True
    listen_host: str = "127.0.0.1"
    listen_port: Port = 9464


class StorageConfig(Section):
    """The database: a SQLite file by default, PostgreSQL in production."""

    url: str | None = None
    auto_upgrade: bool = True

    @field_validator("url")
    @classmethod
    def _scheme(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("sqlite", "postgresql")):
            raise ValueError(f"must start with sqlite:// or postgresql://, not {url!r}")
        return url


class Config(Section):
    """The whole configuration file."""

    data_dir: Path = Path("data")
    dry_run: bool = False
    retention_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    maintenance_interval: Duration = timedelta(seconds=60)
    storage: StorageConfig = StorageConfig()
    company: CompanyConfig = CompanyConfig()
    mailboxes: list[MailboxConfig] = []
    relay: RelayConfig = RelayConfig()
    proxy: ProxyConfig = ProxyConfig()
    milter: MilterConfig | None = None
    policy: PolicyConfig = PolicyConfig()
    classifier: ClassifierConfig = ClassifierConfig()
    notify: NotifyConfig = NotifyConfig()
    note: NoteConfig = NoteConfig()
    retention: RetentionConfig = RetentionConfig()
    logging: LoggingConfig = LoggingConfig()
    http: HttpConfig = HttpConfig()

    @model_validator(mode="before")
    @classmethod
    def _moved_upstream(cls, data: Any) -> Any:
        # proxy.upstream became the top-level relay: section so that notifications can use
        # the same relay without the proxy. The old key keeps working, with a warning.
        if not isinstance(data, dict):
            return data
        proxy = data.get("proxy")
        if not isinstance(proxy, dict) or "upstream" not in proxy:
            return data
        if "relay" in data:
            raise ValueError("proxy.upstream and relay are the same setting: keep only relay")
        warnings.warn(
            "proxy.upstream is deprecated: move the section to the top-level key relay:",
            ConfigDeprecationWarning,
            stacklevel=2,
        )
        proxy = {k: v for k, v in proxy.items() if k != "upstream"}
        return {**data, "proxy": proxy, "relay": data["proxy"]["upstream"]}

    @model_validator(mode="before")
    @classmethod
    def _moved_retention_days(cls, data: Any) -> Any:
        # retention_days became retention.history when every kind of data got its own bound.
        if isinstance(data, dict) and data.get("retention_days") is not None:
            retention = data.get("retention")
            if isinstance(retention, dict) and "history" in retention:
                raise ValueError(
                    "retention_days and retention.history are the same setting: keep only "
                    "retention.history"
                )
            warnings.warn(
                "retention_days is deprecated: write retention: {history: Nd} instead",
                ConfigDeprecationWarning,
                stacklevel=2,
            )
        return data

    @model_validator(mode="after")
    def _deferred_outlives_the_deferral(self) -> Config:
        # A deferred reply is decided within proxy.defer_unseen, and its relay retried for
        # up to an hour (mailguard.smtp.deferred.RELAY_GIVE_UP): only one left after both
        # was never decided.
        if self.retention.deferred <= self.proxy.defer_unseen + timedelta(hours=1):
            raise ValueError(
                "retention.deferred must be longer than proxy.defer_unseen plus 1h of relay retries"
            )
        return self

    @property
    def history_retention(self) -> timedelta:
        """``retention.history``, or the deprecated ``retention_days`` when that is given."""
        if self.retention_days is not None:
            return timedelta(days=self.retention_days)
        return self.retention.history

    @model_validator(mode="after")
    def _divert_needs_agents(self) -> Config:
        deciding = self.proxy.enabled or self.milter is not None
        if deciding and self.proxy.escalated == "divert" and self.notify.agents is None:
            raise ValueError("proxy.escalated: divert needs notify.agents (where to divert to)")
        return self

    @field_validator("mailboxes")
    @classmethod
    def _mailboxes_distinct(cls, mailboxes: list[MailboxConfig]) -> list[MailboxConfig]:
        names = [m.name for m in mailboxes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"mailbox names must be unique; repeated: {', '.join(duplicates)}")
        owners: dict[str, str] = {}
        for mailbox in mailboxes:
            for address in mailbox.addresses:
                if address in owners:
                    raise ValueError(
                        f"{address} is guarded by both {owners[address]} and {mailbox.name}"
                    )
                owners[address] = mailbox.name
        return mailboxes

    @property
    def storage_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.storage.url:
            return self.storage.url
        return f"sqlite:///{(self.data_dir / 'mailguard.sqlite3').as_posix()}"


def parse_config(text: str, path: str, env: Mapping[str, str] | None = None) -> Config:
    """Validate YAML ``text``; raise ``ConfigError`` listing every problem with its line."""
    located = load_yaml(text, os.environ if env is None else env)
    problems = list(located.problems)
    if located.data is not None and not isinstance(located.data, dict):
        problems.append(ConfigProblem("", "the file must be a mapping of keys", 1))
    if located.data is None or not isinstance(located.data, dict):
        raise ConfigError(path, problems)
    try:
        config = Config.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(_problems(exc, located))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.key))
        raise ConfigError(path, problems)
    return config


def redact_url(url: str) -> str:
    """Hide the password of a database URL before it is printed or logged."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the file at ``path``."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, [ConfigProblem("", f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(name, [ConfigProblem("", f"not UTF-8 text: {exc.reason}")]) from None
    return parse_config(text, name, env)


def _problems(exc: ValidationError, located: LocatedData) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not _is_tag(p))
        message = _message(error, loc)
        problems.append(ConfigProblem(dotted(loc), message, located.line_of(loc)))
    return problems


def _is_tag(part: Any) -> bool:
    # pydantic inserts validator names like "function-before[_duration()]" into locations
    # of Annotated fields; they are not keys a person wrote.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _message(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(loc)
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind not in {"value_error", "assertion_error"} and "input" in error:
        shown = error["input"]
        if not isinstance(shown, dict | list):
            message = f"{message} (got {shown!r})"
    return message


def _suggestion(loc: tuple[Any, ...]) -> str:
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return ""
        model = _inner_model(field.annotation)
        if model is None:
            return ""
    if not hasattr(model, "model_fields"):
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
