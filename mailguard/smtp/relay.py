"""The upstream relay: pooled, persistent aiosmtplib connections, reusable by any sender.

:class:`Relay` hands one message (raw bytes plus envelope) to the configured upstream and
says what the upstream answered, as :class:`RelayResult` or one of two errors the caller maps
to its own replies:

* :class:`RelayTemporaryError`: upstream 4xx, a timeout, a refused or dropped connection. The
  proxy answers 451 so the client's MTA keeps the message and retries.
* :class:`RelayPermanentError`: upstream 5xx for the transaction (or for every recipient);
  the proxy passes the code on.

Recipients the upstream refuses while it accepts others: a temporary refusal of any of them
fails the whole message for now (before DATA, nothing delivered: the client retries all of
it); permanent refusals alone let the message go to the others and come back in
:attr:`RelayResult.refused` (the proxy sends the sender a delivery status notification).

Connections are opened on demand up to ``pool_size`` and kept open between messages (a
relay like Postfix closes an idle one after its ``smtpd_timeout``; such a stale connection
is detected on the next use and replaced once, transparently). Nothing here blocks the
event loop: the proxy, ``mailguard held release`` and, later, agent notifications share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import aiosmtplib
import structlog
from aiosmtplib.protocol import LINE_ENDINGS_REGEX, PERIOD_REGEX
from prometheus_client import Counter, Gauge, Histogram

from mailguard.config.model import RelayConfig
from mailguard.errors import MailguardError
from mailguard.oauth.providers import token_source
from mailguard.oauth.tokens import OAuth2Error, TokenSource
from mailguard.smtp import xoauth2

log = structlog.get_logger("mailguard.smtp.relay")

RELAY_MESSAGES = Counter(
    "mailguard_relay_messages", "Messages handed to the upstream relay, by outcome", ["outcome"]
)
RELAY_REFUSED_RECIPIENTS = Counter(
    "mailguard_relay_refused_recipients",
    "Recipients the upstream refused while it accepted others of the same message",
)
RELAY_CONNECTIONS = Gauge("mailguard_relay_connections", "Open upstream connections")
RELAY_SECONDS = Histogram(
    "mailguard_relay_seconds",
    "Time to hand one message to the upstream relay",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# Errors after which a connection is unusable and is closed rather than returned to the pool.
_CONNECTION_ERRORS = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPConnectTimeoutError,
    aiosmtplib.SMTPTimeoutError,
    aiosmtplib.SMTPReadTimeoutError,
    OSError,
    TimeoutError,
)


class RelayError(MailguardError):
    """The upstream did not take the message; ``code`` and ``text`` are what to tell a client."""

    def __init__(self, code: int, text: str) -> None:
        self.code = code
        self.text = text
        super().__init__(f"upstream relay: {code} {text}")


class RelayTemporaryError(RelayError):
    """Try again later: 4xx upstream, a timeout or a connection failure."""


class RelayPermanentError(RelayError):
    """The upstream refused the message for good (5xx)."""


@dataclass(frozen=True, slots=True)
class RelayResult:
    """What the upstream answered to an accepted message.

    ``refused`` maps recipients the upstream refused (while accepting others) to their
    reply; ``reply`` is the upstream's answer to the end of DATA.
    """

    reply: str
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)


_ENVELOPE_OPTION_PREFIXES = ("SIZE=",)


def _mail_options(options: Sequence[str]) -> list[str]:
    # aiosmtplib adds SIZE itself from the bytes it sends; the client's declared SIZE would
    # make a second, possibly different, SIZE parameter.
    return [o for o in options if not o.upper().startswith(_ENVELOPE_OPTION_PREFIXES)]


class Relay:
    """A pool of persistent connections to one upstream relay."""

    def __init__(self, config: RelayConfig, *, local_hostname: str | None = None) -> None:
        self._config = config
        self._local_hostname = local_hostname
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(config.pool_size)
        self._open = 0
        self._closed = False
        # auth: oauth2: XOAUTH2 with a token from the configured provider (one per pool).
        self.token: TokenSource | None = None
        if config.oauth2 is not None and config.user is not None:
            self.token = token_source("relay", config.oauth2, config.user)

    @property
    def target(self) -> str:
        """host:port of the upstream, for logs."""
        return f"{self._config.host}:{self._config.port}"

    def _tls_context(self) -> ssl.SSLContext:
        ca = self._config.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    async def _connect(self) -> aiosmtplib.SMTP:
        cfg = self._config
        timeout = cfg.timeout.total_seconds()
        implicit = cfg.tls == "implicit"
        smtp = aiosmtplib.SMTP(
            hostname=cfg.host,
            port=cfg.port,
            timeout=timeout,
            use_tls=implicit,
            start_tls=cfg.tls == "starttls",
            tls_context=self._tls_context() if cfg.tls != "plain" else None,
            local_hostname=self._local_hostname,
        )
        await smtp.connect()
        try:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            if self.token is not None and cfg.user is not None:
                await xoauth2.authenticate(smtp, cfg.user, self.token)
            elif cfg.user is not None and cfg.password is not None:
                await smtp.login(cfg.user, cfg.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        self._open += 1
        RELAY_CONNECTIONS.set(self._open)
        return smtp

    def _discard(self, smtp: aiosmtplib.SMTP) -> None:
        smtp.close()
        self._open -= 1
        RELAY_CONNECTIONS.set(self._open)

    async def send(
        self,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> RelayResult:
        """Hand ``raw`` to the upstream for ``rcpt_tos``; raise a :class:`RelayError` if not taken.

        ``raw`` goes out byte for byte (aiosmtplib only dot-stuffs it).
        """
        if self._closed:
            raise RelayTemporaryError(421, "4.3.2 mailguard is shutting down")
        started = time.perf_counter()
        try:
            async with self._slots:
                result = await self._send_pooled(
                    raw, mail_from, list(rcpt_tos), mail_options, rcpt_options
                )
        except RelayTemporaryError:
            RELAY_MESSAGES.labels("temporary_failure").inc()
            raise
        except RelayPermanentError:
            RELAY_MESSAGES.labels("refused").inc()
            raise
        RELAY_SECONDS.observe(time.perf_counter() - started)
        RELAY_MESSAGES.labels("accepted").inc()
        if result.refused:
            RELAY_REFUSED_RECIPIENTS.inc(len(result.refused))
        return result

    async def _send_pooled(
        self,
        raw: bytes,
        mail_from: str,
        rcpt_tos: list[str],
        mail_options: Sequence[str],
        rcpt_options: Sequence[str],
    ) -> RelayResult:
        # One retry, only for a pooled connection found dead at MAIL FROM: the upstream
        # closed it while idle and has seen nothing of this message, so a retry on a new
        # connection cannot deliver it twice.
        while True:
            smtp = self._take_idle()
            reused = smtp is not None
            if smtp is None:
                smtp = await self._open_connection()
            try:
                return await self._transaction(
                    smtp, raw, mail_from, rcpt_tos, mail_options, rcpt_options
                )
            except _StaleConnection as exc:
                self._discard(smtp)
                if reused:
                    continue
                raise RelayTemporaryError(451, f"4.4.2 upstream connection lost: {exc}") from exc
            except _CONNECTION_ERRORS as exc:
                self._discard(smtp)
                raise RelayTemporaryError(451, f"4.4.2 upstream failed: {exc}") from exc
            except RelayError as exc:
                if exc.code == 421:
                    self._discard(smtp)
                else:
                    await self._reset(smtp)
                raise
            except BaseException:
                # Cancelled mid-transaction (shutdown, client gone): the connection's state
                # is unknown, so it must not be reused.
                self._discard(smtp)
                raise

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            smtp = self._idle.pop()
            if smtp.is_connected:
                return smtp
            self._discard(smtp)
        return None

    async def _open_connection(self) -> aiosmtplib.SMTP:
        try:
            return await self._connect()
        except _CONNECTION_ERRORS as exc:
            raise RelayTemporaryError(451, f"4.4.1 upstream unreachable: {exc}") from exc
        except OAuth2Error as exc:
            log.error("relay_token_failed", upstream=self.target, error=str(exc))
            raise RelayTemporaryError(
                451, f"4.7.0 no OAuth2 token for the upstream: {exc}"
            ) from exc
        except aiosmtplib.SMTPException as exc:
            # Refusals before any message (greeting, STARTTLS, our login) are ours to fix,
            # not the message's fault: the client keeps it and retries (451), even for a 5xx.
            log.error("relay_connect_failed", upstream=self.target, error=str(exc))
            raise RelayTemporaryError(451, f"4.4.1 upstream refused the session: {exc}") from exc

    async def _reset(self, smtp: aiosmtplib.SMTP) -> None:
        # After a refusal the upstream keeps the connection; RSET clears the transaction.
        try:
            await smtp.rset()
        except (aiosmtplib.SMTPException, *_CONNECTION_ERRORS):
            self._discard(smtp)
        else:
            self._return(smtp)

    async def _transaction(
        self,
        smtp: aiosmtplib.SMTP,
        raw: bytes,
        mail_from: str,
        rcpt_tos: list[str],
        mail_options: Sequence[str],
        rcpt_options: Sequence[str],
    ) -> RelayResult:
        options = _mail_options(mail_options)
        utf8 = any(o.upper() == "SMTPUTF8" for o in options)
        encoding = "utf-8" if utf8 else "ascii"
        try:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            if smtp.supports_extension("size"):
                options.insert(0, f"SIZE={len(raw)}")
            # The null reverse-path (bounces, vacation replies) arrives from aiosmtpd as "<>";
            # aiosmtplib writes "<>" for "" and refuses "<>" itself.
            sender = "" if mail_from.strip() in ("", "<>") else mail_from
            await smtp.mail(sender, options=options, encoding=encoding)
        except aiosmtplib.SMTPServerDisconnected as exc:
            raise _StaleConnection(str(exc)) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _error_of(exc.code, exc.message) from exc
        refused: dict[str, tuple[int, str]] = {}
        for rcpt in rcpt_tos:
            try:
                await smtp.rcpt(rcpt, options=list(rcpt_options), encoding=encoding)
            except aiosmtplib.SMTPServerDisconnected:
                raise
            except aiosmtplib.SMTPResponseException as exc:
                refused[rcpt] = (exc.code, " ".join(exc.message.split()))
        _refuse_unless_deliverable(refused, len(rcpt_tos))
        try:
            response = await _data(smtp, raw, self._config.timeout.total_seconds())
        except aiosmtplib.SMTPServerDisconnected:
            raise
        except aiosmtplib.SMTPResponseException as exc:
            raise _error_of(exc.code, exc.message) from exc
        self._return(smtp)
        if refused:
            log.warning("relay_recipients_refused", refused=sorted(refused))
        return RelayResult(response.message, refused)

    def _return(self, smtp: aiosmtplib.SMTP) -> None:
        if self._closed or not smtp.is_connected:
            self._discard(smtp)
        else:
            self._idle.append(smtp)

    async def close(self) -> None:
        """QUIT every idle connection; connections in use close when their message is done."""
        self._closed = True
        idle, self._idle = self._idle, []
        for smtp in idle:
            # A polite QUIT at shutdown; an upstream that is gone or slow is closed anyway.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                async with asyncio.timeout(2):
                    await smtp.quit()
            self._discard(smtp)


# aiosmtplib prepares DATA in two regular-expression passes over the whole message (line
# endings, dot-stuffing): about 0.7 s for 25 MB in C calls that hold the GIL, so neither the
# event loop nor a worker thread would let other sessions run meanwhile. Above this size the
# same transformation runs chunk by chunk, yielding to the loop between chunks.
OFFLOAD_BYTES = 256 * 1024
_CHUNK = 64 * 1024


def _chunks(raw: bytes) -> Iterator[bytes]:
    """``raw`` in pieces that end at a line feed (the last one may not)."""
    start = 0
    while start < len(raw):
        cut = raw.find(b"\n", start + _CHUNK)
        end = len(raw) if cut < 0 else cut + 1
        yield raw[start:end]
        start = end


def _prepared(chunk: bytes) -> bytes:
    # aiosmtplib's own transformation (SMTPProtocol.execute_data_command) for one piece;
    # pieces end at a line feed, so line starts and line ends are the same as in the whole.
    return PERIOD_REGEX.sub(b"..", LINE_ENDINGS_REGEX.sub(b"\r\n", chunk))


async def _data(smtp: aiosmtplib.SMTP, raw: bytes, reply_timeout: float) -> aiosmtplib.SMTPResponse:
    """DATA with the message; a big one is prepared and written piece by piece."""
    if len(raw) <= OFFLOAD_BYTES:
        return await smtp.data(raw)
    protocol = smtp.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    start = await smtp.execute_command(b"DATA")
    if start.code != 354:
        raise aiosmtplib.SMTPDataError(start.code, start.message)
    try:
        tail = b""
        for chunk in _chunks(raw):
            piece = _prepared(chunk)
            protocol.write(piece)
            tail = piece[-2:]
            # Flow control (the transport pauses writing above its high-water mark) keeps
            # a slow upstream from making us buffer the whole message; the wait is also
            # where other sessions get their turn.
            await protocol._drain_helper()
            await asyncio.sleep(0)
        protocol.write(b".\r\n" if tail == b"\r\n" else b"\r\n.\r\n")
        response = await protocol.read_response(timeout=reply_timeout)
    except BaseException:
        # Lost, timed out or cancelled halfway through the data: the session is unusable.
        smtp.close()
        raise
    if response.code != 250:
        raise aiosmtplib.SMTPDataError(response.code, response.message)
    return response


class _StaleConnection(Exception):
    """A connection that died before this message's MAIL FROM was answered."""


def _refuse_unless_deliverable(refused: dict[str, tuple[int, str]], recipients: int) -> None:
    """Raise unless the message may go on to DATA with the recipients that were accepted."""
    if len(refused) == recipients:
        # Every recipient refused: the worst code wins (a 5xx for one is a 5xx).
        code, text = max(refused.values())
        raise _error_of(code, text)
    later = sorted(r for r, (code, _) in refused.items() if code < 500)
    if later:
        # A recipient refused for now while others were accepted: nothing has been delivered
        # yet (no DATA), so the whole message is refused for now (the caller resets the
        # transaction) and the client retries it for everyone; relaying it to the others now
        # would deliver it to them twice on that retry.
        code, text = refused[later[0]]
        raise RelayTemporaryError(
            451, f"4.5.3 {len(later)} recipient(s) refused for now ({later[0]}: {code} {text})"
        )


def _error_of(code: int, text: str) -> RelayError:
    text = " ".join(text.split())
    if 500 <= code < 600:
        return RelayPermanentError(code, text)
    return RelayTemporaryError(code if 400 <= code < 500 else 451, text)
