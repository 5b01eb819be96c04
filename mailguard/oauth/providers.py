"""The four token providers of ``oauth2: provider:`` and the offline check of their keys.

- ``microsoft``: msal's client-credentials flow (an app registration with
  IMAP.AccessAsApp / SMTP.SendAsApp; a client secret or a certificate). Instance discovery
  is off: mailguard talks to the one configured authority.
- ``google``: a service account with domain-wide delegation (google-auth signs a JWT
  assertion with the account's key; ``subject`` is the mailbox to act as).
- ``oauth2``: any RFC 6749 token endpoint, client credentials or a refresh token.
- ``command``: a program that prints the token (as git credential helpers do): one line,
  optionally a second with the lifetime in seconds, or JSON ``{"access_token",
  "expires_in"}``.

msal, google-auth and urllib block, so their requests run in a worker thread, bounded by
``timeout``. Every failure is an :class:`OAuth2Error` naming the provider and the reason.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from mailguard.config.model import Config
from mailguard.config.oauth import OAuth2Config
from mailguard.errors import ConfigProblem
from mailguard.oauth.tokens import AccessToken, Fetch, OAuth2Error, TokenSource

_T = TypeVar("_T")
_OUTPUT_MAX = 64 * 1024


async def _in_thread(what: str, call: Callable[[], _T], limit: float) -> _T:
    """``call()`` in a worker thread; an error or the time ``limit`` becomes an OAuth2Error."""
    try:
        async with asyncio.timeout(limit):
            return await asyncio.to_thread(call)
    except TimeoutError:
        raise OAuth2Error(f"{what}: no answer within {limit:g}s") from None
    except OAuth2Error:
        raise
    except Exception as exc:
        # requests, msal, google-auth and urllib each raise their own family of errors;
        # all of them mean the same here: no token this time.
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise OAuth2Error(f"{what}: {type(exc).__name__}: {first}") from exc


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OAuth2Error(f"{what} {path}: {exc.strerror or exc}") from None


def _session(config: OAuth2Config) -> Any:
    """A requests session that verifies with ``ca_file`` and gives up after ``timeout``.

    Passed with every request: requests lets ``REQUESTS_CA_BUNDLE`` (set on many systems)
    override a session's own ``verify``, and msal and google-auth only set the session's.
    """
    import requests

    verify: str | bool = str(config.ca_file) if config.ca_file else True
    timeout = config.timeout.total_seconds()

    class Session(requests.Session):
        def request(self, method: Any, url: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            kwargs.setdefault("timeout", timeout)
            if verify is not True:
                kwargs["verify"] = verify
            return super().request(method, url, **kwargs)

    return Session()


# -- microsoft -------------------------------------------------------------------------


def _microsoft_credential(config: OAuth2Config) -> str | dict[str, str]:
    if config.client_secret is not None:
        return config.client_secret.get_secret_value()
    if config.certificate is None:  # the config's validator requires one of the two
        raise OAuth2Error("microsoft needs client_secret or certificate")
    pem = _read(config.certificate, "certificate")
    if "PRIVATE KEY-----" not in pem or "BEGIN CERTIFICATE-----" not in pem:
        raise OAuth2Error(
            f"certificate {config.certificate}: needs the private key and the certificate "
            "in one PEM file"
        )
    # msal computes the certificate's SHA-256 thumbprint (x5t#S256) from the certificate.
    return {"private_key": pem, "public_certificate": pem}


def microsoft(config: OAuth2Config) -> Fetch:
    """Client credentials against Microsoft Entra ID (or the configured authority)."""
    import msal

    what = f"microsoft token for {config.client_id} at {config.effective_authority}"
    app: list[Any] = []

    def acquire() -> AccessToken:
        if not app:
            # The constructor asks the authority for its endpoints: built on first use, in
            # the worker thread, and again after a failure.
            app.append(
                msal.ConfidentialClientApplication(
                    config.client_id,
                    client_credential=_microsoft_credential(config),
                    authority=config.effective_authority,
                    instance_discovery=False,
                    http_client=_session(config),
                )
            )
        try:
            result = app[0].acquire_token_for_client(scopes=config.effective_scopes)
        except Exception:
            app.clear()
            raise
        if "access_token" not in result:
            error = result.get("error", "error")
            description = str(result.get("error_description") or "").splitlines()
            raise OAuth2Error(f"{what}: {error}: {description[0] if description else ''}")
        return AccessToken(
            str(result["access_token"]), float(result.get("expires_in") or 0) or None
        )

    async def fetch() -> AccessToken:
        return await _in_thread(what, acquire, config.timeout.total_seconds())

    return fetch


# -- google ----------------------------------------------------------------------------


def google(config: OAuth2Config, user: str) -> Fetch:
    """A service account's token for ``subject`` (default: the login user), by google-auth."""
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    subject = config.subject or user
    what = f"google token for {subject}"
    timeout = config.timeout.total_seconds()

    class _Request(Request):
        # google-auth's refresh passes no timeout; its default is two minutes.
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            kwargs["timeout"] = timeout
            return super().__call__(*args, **kwargs)  # type: ignore[no-untyped-call]

    def acquire() -> AccessToken:
        if config.service_account_file is None:
            raise OAuth2Error("google needs service_account_file")
        credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            str(config.service_account_file), scopes=config.effective_scopes, subject=subject
        )
        session = _session(config)
        try:
            credentials.refresh(_Request(session))
        finally:
            session.close()
        lifetime = None
        if credentials.expiry is not None:
            expiry = credentials.expiry.replace(tzinfo=UTC)  # google-auth: naive UTC
            lifetime = (expiry - datetime.now(UTC)).total_seconds()
        return AccessToken(str(credentials.token), lifetime)

    async def fetch() -> AccessToken:
        return await _in_thread(what, acquire, timeout)

    return fetch


# -- any token endpoint ----------------------------------------------------------------


def _endpoint_error(url: str, exc: urllib.error.HTTPError) -> OAuth2Error:
    body = exc.read(_OUTPUT_MAX)
    try:
        data = json.loads(body)
        reason = f"{data.get('error')}: {data.get('error_description') or ''}".strip(": ")
    except (ValueError, AttributeError):
        reason = body.decode(errors="replace").strip()[:200]
    return OAuth2Error(f"token endpoint {url} answered {exc.code}: {reason}")


def token_endpoint(config: OAuth2Config) -> Fetch:
    """RFC 6749: client credentials (section 4.4) or a refresh token (section 6)."""
    url = str(config.token_url)
    timeout = config.timeout.total_seconds()
    context = ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)
    # A server may hand out a new refresh token with each answer; the newest is used.
    refresh = [config.refresh_token.get_secret_value()] if config.refresh_token else []

    def acquire() -> AccessToken:
        form = {"grant_type": "refresh_token", "refresh_token": refresh[0]} if refresh else {}
        form = form or {"grant_type": "client_credentials"}
        if config.effective_scopes:
            form["scope"] = " ".join(config.effective_scopes)
        headers = {"Accept": "application/json"}
        if config.client_secret is not None:
            # RFC 6749 section 2.3.1: HTTP Basic is what every server must support.
            pair = f"{_form(config.client_id)}:{_form(config.client_secret.get_secret_value())}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = str(config.client_id)
        request = urllib.request.Request(  # noqa: S310 - the URL is validated as https://
            url, data=urllib.parse.urlencode(form).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
                data = json.loads(answer.read(_OUTPUT_MAX))
        except urllib.error.HTTPError as exc:
            raise _endpoint_error(url, exc) from None
        if not isinstance(data, dict) or not data.get("access_token"):
            raise OAuth2Error(f"token endpoint {url}: the answer has no access_token")
        if data.get("refresh_token") and refresh:
            refresh[0] = str(data["refresh_token"])
        return AccessToken(str(data["access_token"]), _seconds(data.get("expires_in")))

    async def fetch() -> AccessToken:
        return await _in_thread(f"token endpoint {url}", acquire, timeout)

    return fetch


def _form(value: str | None) -> str:
    return urllib.parse.quote(value or "", safe="")


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


# -- a command -------------------------------------------------------------------------


def parse_command_output(output: str) -> AccessToken:
    """The token a command printed: a line (and its lifetime on a second), or JSON."""
    text = output.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise OAuth2Error(f"the command printed invalid JSON: {exc}") from None
        if not isinstance(data, dict) or not data.get("access_token"):
            raise OAuth2Error("the command's JSON has no access_token")
        return AccessToken(str(data["access_token"]), _seconds(data.get("expires_in")))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise OAuth2Error("the command printed no token")
    if len(lines) > 2:
        raise OAuth2Error("the command printed more than a token and its lifetime")
    lifetime = _seconds(lines[1]) if len(lines) == 2 else None
    if len(lines) == 2 and lifetime is None:
        raise OAuth2Error(f"the command's second line is not a lifetime in seconds: {lines[1]!r}")
    return AccessToken(lines[0], lifetime)


def command(config: OAuth2Config) -> Fetch:
    """Run the configured program; its standard output is the token."""
    argv = list(config.command or [])
    timeout = config.timeout.total_seconds()
    what = f"command {argv[0]}"

    def run() -> subprocess.CompletedProcess[bytes]:
        # In a thread rather than asyncio's subprocess transport: Python 3.11's leaves the
        # transport open after the child exited, and it warns (an unclosed transport) when it
        # is collected, at any later moment. A timeout kills the child and reaps it.
        return subprocess.run(  # noqa: S603 - the operator's configured command, no shell
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )

    async def fetch() -> AccessToken:
        try:
            process = await asyncio.to_thread(run)
        except OSError as exc:
            raise OAuth2Error(f"{what}: cannot run: {exc.strerror or exc}") from None
        except subprocess.TimeoutExpired:
            raise OAuth2Error(f"{what}: no token within {timeout:g}s") from None
        out, err = process.stdout, process.stderr
        if process.returncode != 0:
            said = (err.decode(errors="replace").strip().splitlines() or [""])[-1][:200]
            raise OAuth2Error(f"{what} exited with {process.returncode}: {said}")
        try:
            return parse_command_output(out[:_OUTPUT_MAX].decode())
        except UnicodeDecodeError:
            raise OAuth2Error(f"{what}: the output is not text") from None
        except OAuth2Error as exc:
            raise OAuth2Error(f"{what}: {exc}") from None

    return fetch


# -- building and checking -------------------------------------------------------------


def token_source(name: str, config: OAuth2Config, user: str) -> TokenSource:
    """The cached source of ``config``'s tokens for ``user`` (the login name)."""
    if config.provider == "microsoft":
        fetch = microsoft(config)
    elif config.provider == "google":
        fetch = google(config, user)
    elif config.provider == "oauth2":
        fetch = token_endpoint(config)
    else:
        fetch = command(config)
    return TokenSource(name, fetch, refresh_before=config.refresh_before.total_seconds())


def check(config: OAuth2Config) -> list[str]:
    """What keeps the provider from working, found without asking any server.

    ``check-config`` prints these: files that cannot be read, a certificate without its
    key, a service-account file that is not one, a command that is not found.
    """
    problems: list[str] = []
    for key in ("ca_file", "certificate", "service_account_file"):
        path = getattr(config, key)
        if path is not None and not os.access(path, os.R_OK):
            problems.append(f"{key}: cannot read {path}")
    if problems:
        return problems
    if config.provider == "microsoft" and config.certificate is not None:
        problems.extend(_check_certificate(config.certificate))
    if config.provider == "google" and config.service_account_file is not None:
        problems.extend(_check_service_account(config.service_account_file))
    if config.provider == "command" and config.command:
        program = config.command[0]
        if shutil.which(program) is None:
            problems.append(f"command: {program} is not an executable program")
    return problems


def check_config(config: Config) -> list[ConfigProblem]:
    """:func:`check` for every ``oauth2:`` block of the configuration, located by key."""
    blocks = [
        (f"mailboxes[{index}].imap.oauth2", mailbox.imap.oauth2)
        for index, mailbox in enumerate(config.mailboxes)
        if mailbox.imap is not None and mailbox.imap.oauth2 is not None
    ]
    if config.relay.oauth2 is not None:
        blocks.append(("relay.oauth2", config.relay.oauth2))
    return [ConfigProblem(key, problem) for key, block in blocks for problem in check(block)]


def _check_certificate(path: Path) -> list[str]:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = path.read_bytes()
    try:
        x509.load_pem_x509_certificate(pem)
    except ValueError:
        return [f"certificate: {path} holds no PEM certificate"]
    try:
        load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        return [f"certificate: {path} holds no usable private key ({exc})"]
    return []


def _check_service_account(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"service_account_file: {path} is not JSON: {exc}"]
    if not isinstance(data, dict) or data.get("type") != "service_account":
        return [f"service_account_file: {path} is not a service-account key (type)"]
    missing = [k for k in ("client_email", "private_key", "token_uri") if not data.get(k)]
    if missing:
        return [f"service_account_file: {path} lacks {', '.join(missing)}"]
    return []
