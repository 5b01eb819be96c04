"""After the relay said 250: the receipt, the client's retries, and refused recipients' DSNs.

SMTP gives a client no way to ask "did you get this already?". A client whose connection
broke after the upstream took the message, but before the proxy's own 250 reached it, sends
the message again, and relaying it again delivers it twice. So the upstream's 250 is written
down (:meth:`Receipts.record`, a relay receipt keyed by mailbox, Message-ID and a digest of
the envelope) *before* the proxy answers; a retry finds it (:meth:`Receipts.relayed_before`)
and is answered 250 without a second relay. The receipt goes to a local journal first
(:mod:`mailguard.smtp.journal`, one ``write``, microseconds) and then to the database, so
what is left is SMTP's own window: a kill between the upstream's 250 reaching mailguard and
that write.

Recipients the upstream refused for good while it accepted others are never silent: the
receipt carries a delivery status notification (:mod:`mailguard.smtp.dsn`) to the envelope
sender, sent at once through the same relay and, if that fails, by :meth:`Receipts.run`
later (at least once). A message from the null sender gets no notification (RFC 5321
§6.1): the refusal is logged. Temporary refusals never get here: the relay fails the whole
message before its data while nothing was accepted (:class:`~mailguard.smtp.relay.Relay`),
so the client retries all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from prometheus_client import Counter

from mailguard.domain.model import Direction
from mailguard.engine.group import Drain
from mailguard.engine.ports import MessageKey, NewReceipt
from mailguard.errors import MailguardError
from mailguard.smtp.dsn import delivery_status_notification, header_of
from mailguard.smtp.journal import JournalEntry, RelayJournal
from mailguard.smtp.relay import Relay, RelayResult

log = structlog.get_logger("mailguard.smtp.receipts")

RETRY_EVERY = 30.0
# A pending notification younger than this is left to the process that recorded it.
HANDOFF = timedelta(seconds=60)

RELAYED_AGAIN = Counter(
    "mailguard_smtp_retries_answered",
    "Client retries of a message relayed already, answered 250 without relaying it again",
)
DSNS = Counter(
    "mailguard_smtp_dsns",
    "Delivery status notifications for refused recipients, by outcome (sent, failed, "
    "null_sender: none possible)",
    ["outcome"],
)


class ReceiptStore(Protocol):
    """The store's receipt operations (``mailguard.store.receipts``)."""

    async def record_receipt(
        self,
        mailbox: str,
        message_id: str,
        direction: Direction,
        envelope: str,
        *,
        reply: str,
        refused: Mapping[str, tuple[int, str]],
        now: datetime,
        dsn: bytes | None = None,
        dsn_to: str | None = None,
    ) -> None: ...

    async def record_receipts(self, receipts: Sequence[NewReceipt]) -> Sequence[None]: ...

    async def receipt_for(
        self, mailbox: str, message_id: str, direction: Direction, envelope: str
    ) -> Any: ...

    async def pending_dsns(self, before: datetime, limit: int = 50) -> Sequence[Any]: ...

    async def dsn_attempted(self, receipt_id: int, *, sent: bool) -> bool: ...


def envelope_digest(mail_from: str, rcpt_tos: Sequence[str]) -> str:
    """The envelope's identity: the sender and the set of recipients, case-folded."""
    sender = mail_from.strip().strip("<>").lower()
    recipients = sorted({r.strip().strip("<>").lower() for r in rcpt_tos})
    text = "\n".join([sender, *recipients])
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class Receipts:
    """Relay receipts and delivery status notifications (see the module docstring)."""

    def __init__(
        self,
        store: ReceiptStore,
        relay: Relay,
        hostname: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        journal: RelayJournal | None = None,
    ) -> None:
        self._store = store
        self._relay = relay
        self._hostname = hostname
        self._clock = clock
        self._journal = journal
        self._sending: set[asyncio.Task[None]] = set()
        # Receipts of messages relayed at the same time share one transaction.
        self._group: Drain[NewReceipt, None] = Drain(store.record_receipts)
        # Journal entries of an earlier run whose database receipt could not be written yet.
        self._unrecovered: list[JournalEntry] = []

    async def recover(self) -> int:
        """Open the journal; write the receipts a killed process left only there.

        Called before the proxy listens. If the database is away, the entries stay pending
        (a retry still finds them) and :meth:`run` writes them later.
        """
        if self._journal is None:
            return 0
        try:
            self._unrecovered = self._journal.open()
        except OSError as exc:
            # Receipts still go to the database; only the journal's head start is lost.
            log.warning("relay_journal_unavailable", error=str(exc))
            self._journal = None
            return 0
        for entry in self._unrecovered:
            self._journal.remember(entry)
        try:
            return await self._write_unrecovered()
        except Exception as exc:  # the store is away: run() tries again
            log.error("relay_journal_recovery_failed", error=f"{type(exc).__name__}: {exc}")
            return 0

    async def _write_unrecovered(self) -> int:
        if not self._unrecovered or self._journal is None:
            return 0
        for entry in self._unrecovered:
            arrived = datetime.fromisoformat(entry.at) if entry.at else None
            await self._commit(entry, arrived, recovering=True)
        count = len(self._unrecovered)
        self._unrecovered = []
        self._journal.recovered()
        log.info("relay_journal_recovered", receipts=count)
        return count

    async def relayed_before(self, key: MessageKey, mail_from: str, rcpt_tos: Sequence[str]) -> Any:
        """The receipt of this message to this envelope, or None."""
        digest = envelope_digest(mail_from, rcpt_tos)
        found = await self._store.receipt_for(key.mailbox, key.message_id, key.direction, digest)
        if found is not None:
            RELAYED_AGAIN.inc()
        return found

    async def record(
        self,
        key: MessageKey,
        raw: bytes,
        mail_from: str,
        rcpt_tos: Sequence[str],
        relayed: RelayResult,
        arrived: datetime,
    ) -> None:
        """Journal, then commit the receipt (with a DSN for refused recipients); send the DSN."""
        refused = {r: v for r, v in relayed.refused.items() if v[0] >= 500}
        entry = JournalEntry(
            key.mailbox,
            key.message_id,
            key.direction.value,
            envelope_digest(mail_from, rcpt_tos),
            relayed.reply,
            relayed.refused,
            mail_from.strip().strip("<>") if refused else "",
            header_of(raw) if refused else b"",
            self._relay.target.rsplit(":", 1)[0] if refused else "",
            arrived.isoformat(),
        )
        if self._journal is not None:
            self._journal.append(entry)
        await self._commit(entry, arrived)

    async def _commit(
        self, entry: JournalEntry, arrived: datetime | None, *, recovering: bool = False
    ) -> None:
        """The database receipt of a journal entry, with its DSN; then the DSN is sent.

        ``recovering``: an entry of an earlier run, whose receipt (and DSN) may have been
        written before that process died; then neither is written or sent again.
        """
        now = self._clock()
        refused = {r: v for r, v in entry.refused.items() if v[0] >= 500}
        dsn = None
        if refused and entry.sender:
            dsn = delivery_status_notification(
                entry.head,
                sender=entry.sender,
                refused=refused,
                reporting_mta=self._hostname,
                remote_mta=entry.remote,
                arrived=arrived or now,
                now=now,
            )
        elif refused:
            DSNS.labels("null_sender").inc()
            log.warning(
                "relay_refused_without_dsn",
                message_id=entry.message_id,
                refused=sorted(refused),
                reason="the null sender gets no delivery status notification (RFC 5321 6.1)",
            )
        direction = Direction(entry.direction)
        key = MessageKey(entry.mailbox, entry.message_id, direction)
        already = None
        if recovering:
            already = await self._store.receipt_for(
                entry.mailbox, entry.message_id, direction, entry.envelope
            )
        if already is None:
            await self._group.submit(
                NewReceipt(
                    entry.mailbox,
                    entry.message_id,
                    direction,
                    entry.envelope,
                    reply=entry.reply,
                    refused=entry.refused,
                    now=now,
                    dsn=dsn,
                    dsn_to=entry.sender if dsn is not None else None,
                )
            )
        if self._journal is not None:
            self._journal.committed(entry)
        if dsn is not None and already is None:
            task = asyncio.create_task(self._send_now(key, entry.envelope, entry.sender, dsn))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send_now(self, key: MessageKey, digest: str, to: str, dsn: bytes) -> None:
        try:
            receipt = await self._store.receipt_for(
                key.mailbox, key.message_id, key.direction, digest
            )
            if receipt is not None:
                await self._send(receipt.id, key.message_id, to, dsn)
        except Exception as exc:  # the retry loop sends it later; the row keeps it
            log.warning("dsn_deferred", message_id=key.message_id, error=str(exc))

    async def _send(self, receipt_id: int, message_id: str, to: str, dsn: bytes) -> None:
        try:
            answer = await self._relay.send(dsn, "", [to])
        except MailguardError as exc:
            DSNS.labels("failed").inc()
            await self._store.dsn_attempted(receipt_id, sent=False)
            log.warning("dsn_failed", message_id=message_id, to=to, error=str(exc))
            return
        await self._store.dsn_attempted(receipt_id, sent=True)
        DSNS.labels("sent").inc()
        log.info("dsn_sent", message_id=message_id, to=to, reply=answer.reply)

    async def send_pending(self) -> int:
        """Write what the journal could not hand to the database at start, then send the
        notifications that could not be sent at once; returns how many were tried."""
        await self._write_unrecovered()
        pending = await self._store.pending_dsns(self._clock() - HANDOFF)
        for item in pending:
            await self._send(item.id, item.message_id, item.to, item.raw)
        return len(pending)

    async def run(self, stop: asyncio.Event) -> None:
        """Retry pending notifications every :data:`RETRY_EVERY` seconds until ``stop``."""
        while not stop.is_set():
            try:
                await self.send_pending()
            except Exception as exc:  # the database is away: the rows wait
                log.error("dsn_round_failed", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RETRY_EVERY):
                    await stop.wait()

    async def drain(self, grace: float) -> None:
        """Let notifications being sent finish within ``grace`` (at shutdown); close the
        journal (what is still pending in it is recovered by the next start)."""
        if self._sending:
            await asyncio.wait(set(self._sending), timeout=grace)
        if self._journal is not None:
            self._journal.close()
