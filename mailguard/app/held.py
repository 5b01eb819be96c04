"""``mailguard held list|show|release|drop``: what the proxy held, and letting it go (or not).

Wiring only: the store and the relay from the configuration, the rules in
:mod:`mailguard.smtp.held`.
"""

from __future__ import annotations

import email
import email.policy
import sys
from datetime import UTC, datetime

from mailguard.config import Config
from mailguard.smtp import held
from mailguard.smtp.receipts import Receipts
from mailguard.smtp.relay import Relay
from mailguard.store.repository import SqlStore

EXIT_OK = 0
EXIT_FAILURE = 1


async def held_list(config: Config, *, every_state: bool, mailbox: str | None) -> int:
    """Print one line per held message (oldest first)."""
    store = SqlStore.from_url(config.storage_url)
    try:
        records = await store.held_mail(mailbox, limit=10_000, every_state=every_state)
    finally:
        await store.close()
    for line in held.summary(records):
        print(line)
    if not records:
        print("no held messages" if not every_state else "no messages were ever held")
    return EXIT_OK


async def held_show(config: Config, held_id: int, *, raw: bool) -> int:
    """Print a held message's envelope, reason and headers (or its raw bytes)."""
    store = SqlStore.from_url(config.storage_url)
    try:
        record = await store.held_by_id(held_id)
    finally:
        await store.close()
    if record is None:
        print(f"mailguard held: no held message {held_id}", file=sys.stderr)
        return EXIT_FAILURE
    if raw:
        sys.stdout.buffer.write(record.raw)
        sys.stdout.buffer.flush()
        return EXIT_OK
    msg = email.message_from_bytes(record.raw, policy=email.policy.default)
    print(f"id:          {record.id}")
    print(f"state:       {record.state}")
    print(f"mailbox:     {record.mailbox}")
    print(f"held at:     {record.held_at.isoformat()}")
    print(f"reason:      {record.reason}")
    if record.state == held.DEFERRED:
        print(f"waits for:   <{record.awaits}>")
        if record.decide_by is not None:
            print(f"decided by:  {record.decide_by.isoformat()} at the latest")
    recipients = ", ".join(record.envelope_recipients)
    print(f"envelope:    {record.envelope_sender or '<>'} -> {recipients}")
    print(f"size:        {len(record.raw)} bytes")
    for name in ("From", "To", "Cc", "Subject", "Date", "Message-ID", "Auto-Submitted"):
        if msg[name] is not None:
            print(f"{name + ':':<13}{msg[name]}")
    return EXIT_OK


async def held_release(config: Config, held_id: int, *, force: bool) -> int:
    """Relay a held message through the configured relay, once, and record its receipt."""
    store = SqlStore.from_url(config.storage_url)
    relay = Relay(config.relay, local_hostname=config.proxy.hostname)
    receipts = Receipts(store, relay, config.proxy.hostname)
    try:
        done = await held.release(
            store, relay, held_id, datetime.now(UTC), force=force, receipts=receipts
        )
    except held.HeldError as exc:
        print(f"mailguard held: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        # A notification for refused recipients goes out now, or from the daemon later.
        await receipts.drain(10.0)
        await relay.close()
        await store.close()
    print(f"released {held_id} <{done.held.message_id}>: {done.relay.reply}")
    for rcpt, (code, text) in sorted(done.relay.refused.items()):
        print(f"  refused by the relay: {rcpt}: {code} {text}")
    return EXIT_OK


async def held_drop(config: Config, held_id: int) -> int:
    """Discard a held message."""
    store = SqlStore.from_url(config.storage_url)
    try:
        record = await held.drop(store, held_id, datetime.now(UTC))
    except held.HeldError as exc:
        print(f"mailguard held: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        await store.close()
    print(f"dropped {held_id} <{record.message_id}>")
    return EXIT_OK
