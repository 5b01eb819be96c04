"""An erasure on SQLite leaves nothing of the customer in the database's files.

A deleted row's bytes would otherwise stay in the file's free pages, and in the WAL's older
frames, until something happens to overwrite them: ``strings mailguard.sqlite3`` would still
show the address and the held reply's text. The erasure's own test (test_privacy_daemon)
reads every table through SQL and cannot see that; this one reads the files as bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from mailguard.domain.model import Source
from mailguard.domain.privacy import AddressVariants
from mailguard.engine.service import Envelope
from mailguard.store.privacy import erase_person
from tests.integration.engine_support import AUTO, build_engine, mail, migrated_store

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CARL = "carl.erasable@example.org"
SECRET = "Zebra-Quasar-4711"


def _file_bytes(url: str) -> bytes:
    path = Path(str(make_url(url).database))
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


async def test_erased_bytes_are_gone_from_the_file_and_its_wal(sqlite_url: str) -> None:
    async with migrated_store(sqlite_url) as store:
        engine = build_engine(store)
        for n in range(20):  # others' rows share the pages with Carl's
            other = mail(
                sender=f"other{n}@example.org",
                to="support@example.com",
                subject=f"Question {n}",
                at=T0,
                message_id=f"other-{n}@example.org",
            )
            await engine.process(other, mailbox="support", source=Source.IMAP, now=T0)
        angry = mail(
            sender=CARL,
            to="support@example.com",
            subject=f"Third time {SECRET}",
            at=T0,
            message_id="angry-1@example.org",
            body="This is the third time I am writing! Unacceptable, I cancel now.\n",
        )
        await engine.process(angry, mailbox="support", source=Source.IMAP, now=T0)
        robot = mail(
            sender="support@example.com",
            to=CARL,
            subject=f"Re: Third time {SECRET}",
            at=T0,
            message_id="robot-1@example.com",
            in_reply_to="angry-1@example.org",
            headers=AUTO,
            body=f"We received your message. {SECRET}\n",
        )
        held = await engine.process(
            robot, source=Source.SMTP, now=T0, envelope=Envelope("support@example.com", (CARL,))
        )
        assert held.decisions and held.decisions[0].held
        # As in a daemon that has run for a while: the rows are in the main file too.
        async with store.engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert CARL.encode() in _file_bytes(sqlite_url).lower()

        removed = await erase_person(store, AddressVariants.of(CARL), drop_held=True)
        assert removed["held_messages"] == 1 and removed["customers"] >= 1
        # Read while the store is still open, as while the daemon runs.
        left = _file_bytes(sqlite_url)
    assert CARL.encode() not in left.lower()
    assert SECRET.encode() not in left
