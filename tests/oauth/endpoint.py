"""A local HTTPS OAuth2 token endpoint behind a test CA, for the token providers' tests.

It speaks what the three HTTP providers send, checks their credentials for real and
mints the JWTs the Dovecot fixture accepts (HS256 with its key, issuer, ``sub`` = the
mailbox the client is registered for):

- Microsoft Entra ID as msal uses it: the tenant's OpenID configuration
  (``/<tenant>/v2.0/.well-known/openid-configuration``) and its token endpoint,
  client credentials with a client secret or a certificate (a ``client_assertion`` JWT
  that msal signs with the certificate's key: verified with the certificate).
- Google: ``/google/token`` takes the JWT-bearer grant google-auth signs with a service
  account's key (verified with its public key; ``sub`` is the delegated mailbox).
- RFC 6749: ``/token`` with client credentials (HTTP Basic) or a refresh token.

``down()`` closes the listening socket (connections are refused) and ``up()`` opens it
again on the same port. ``requests`` lists what was asked, in order.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.oauth.tokens import mint

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_AUD = "https://oauth2.googleapis.com/token"
CLIENT_ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _pem_key(key: Any) -> bytes:
    return bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@dataclass
class LocalCA:
    """A CA and a server certificate for 127.0.0.1 it signed, written to ``directory``."""

    directory: Path

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name("mailguard test CA"))
            .issuer_name(_name("mailguard test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(_pem_key(key))

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def cert_file(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.directory / "server-key.pem"


def client_certificate(path: Path, client_id: str) -> x509.Certificate:
    """A self-signed RSA certificate with its key in one PEM file, as for an app registration."""
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(client_id))
        .issuer_name(_name(client_id))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(_pem_key(key) + cert.public_bytes(serialization.Encoding.PEM))
    return cert


def service_account_file(path: Path, token_uri: str, email: str) -> rsa.RSAPublicKey:
    """A Google service-account key file whose token_uri is the local endpoint."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "mailguard-test",
                "private_key_id": "k1",
                "private_key": _pem_key(key).decode(),
                "client_email": email,
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return key.public_key()


@dataclass
class Client:
    """A registered client: who may ask, for which mailbox."""

    mailbox: str
    secret: str | None = None
    certificate: x509.Certificate | None = None
    refresh_token: str | None = None


@dataclass
class TokenEndpoint:
    """The endpoint (see the module docstring); ``start()`` before use, ``stop()`` after."""

    ca: LocalCA
    key: bytes
    lifetime: float = 3600
    clients: dict[str, Client] = field(default_factory=dict)
    service_accounts: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> TokenEndpoint:
        endpoint = self

        class Handler(_Handler):
            server_endpoint = endpoint

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca.cert_file, self.ca.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    down = stop

    def up(self) -> None:
        """Listen again on the same port."""
        self.start()

    def issued(self, kind: str | None = None) -> int:
        """How many tokens were handed out (of one kind: microsoft, google, token)."""
        return sum(1 for r in self.requests if r.get("issued") and kind in (None, r["kind"]))

    # -- minting ---------------------------------------------------------------------------

    def answer(self, kind: str, mailbox: str) -> dict[str, Any]:
        self.requests.append({"kind": kind, "issued": "yes", "mailbox": mailbox})
        token = mint(self.key, mailbox, lifetime=self.lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": int(self.lifetime)}

    def refuse(self, kind: str, why: str) -> dict[str, Any]:
        self.requests.append({"kind": kind, "refused": why})
        return {"error": "invalid_client", "error_description": why}

    def microsoft(self, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = self.clients.get(form.get("client_id", ""))
        if form.get("grant_type") != "client_credentials" or client is None:
            return 400, self.refuse("microsoft", "unknown client or grant")
        if form.get("scope", "").split()[:1] != ["https://outlook.office365.com/.default"]:
            return 400, self.refuse("microsoft", f"scope {form.get('scope')!r}")
        if client.secret is not None and form.get("client_secret") == client.secret:
            return 200, self.answer("microsoft", client.mailbox)
        assertion = form.get("client_assertion")
        if client.certificate is not None and assertion is not None:
            if form.get("client_assertion_type") != CLIENT_ASSERTION:
                return 400, self.refuse("microsoft", "assertion type")
            try:
                claims = jwt.decode(
                    assertion,
                    client.certificate.public_key(),  # type: ignore[arg-type]
                    algorithms=["RS256", "PS256"],
                    audience=url,
                )
            except jwt.PyJWTError as exc:
                return 401, self.refuse("microsoft", f"assertion: {exc}")
            if claims.get("iss") != form["client_id"] or claims.get("sub") != form["client_id"]:
                return 401, self.refuse("microsoft", "assertion issuer")
            return 200, self.answer("microsoft", client.mailbox)
        return 401, self.refuse("microsoft", "AADSTS7000215: Invalid client secret provided.")

    def google(self, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != JWT_BEARER:
            return 400, self.refuse("google", "grant")
        assertion = form.get("assertion", "")
        issuer = jwt.decode(assertion, options={"verify_signature": False}).get("iss")
        public = self.service_accounts.get(str(issuer))
        if public is None:
            return 401, self.refuse("google", "unknown service account")
        try:
            # google-auth always names Google's token endpoint as the audience.
            claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=GOOGLE_AUD)
        except jwt.PyJWTError as exc:
            return 401, self.refuse("google", f"assertion: {exc}")
        if claims.get("scope") != "https://mail.google.com/" or not claims.get("sub"):
            return 400, self.refuse("google", "scope or subject")
        return 200, self.answer("google", str(claims["sub"]))

    def generic(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict]:
        client_id = basic[0] if basic else form.get("client_id", "")
        client = self.clients.get(client_id)
        if client is None:
            return 401, self.refuse("token", "unknown client")
        if client.secret is not None and (basic is None or basic[1] != client.secret):
            return 401, self.refuse("token", "bad client secret")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != client.refresh_token:
                return 400, {"error": "invalid_grant", "error_description": "bad refresh token"}
            return 200, self.answer("token", client.mailbox)
        if grant == "client_credentials":
            return 200, self.answer("token", client.mailbox)
        return 400, self.refuse("token", f"grant {grant}")


class _Handler(BaseHTTPRequestHandler):
    server_endpoint: TokenEndpoint

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        endpoint = self.server_endpoint
        parts = self.path.strip("/").split("/")
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            tenant = f"{endpoint.base}/{parts[0]}"
            self._send(
                200,
                {
                    "token_endpoint": f"{tenant}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
                    "issuer": f"{tenant}/v2.0",
                },
            )
            return
        self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        endpoint = self.server_endpoint
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        url = f"{endpoint.base}{self.path}"
        basic = None
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            basic = (urllib.parse.unquote(user), urllib.parse.unquote(secret))
        if self.path.endswith("/oauth2/v2.0/token"):
            status, body = endpoint.microsoft(url, form)
        elif self.path == "/google/token":
            status, body = endpoint.google(url, form)
        elif self.path == "/token":
            status, body = endpoint.generic(form, basic)
        else:
            status, body = 404, {"error": "not_found"}
        self._send(status, body)
