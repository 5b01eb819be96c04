"""Backfill of a large mailbox: mailguard's first sync against a raw batched UID FETCH.

    .venv/bin/python bench/imap_backfill.py [--messages 10000]

Fills a throw-away Dovecot's support mailbox (INBOX and Sent) with the generated support
traffic of bench/gen_mailbox.py, then, in one run: times a raw batched ``UID FETCH
BODY.PEEK[]`` of every message (before and after, the faster counts), and mailguard's
backfill of the same folders (watcher -> engine -> SQLite, checkpointed) until both
checkpoints reach the last UID (the bench hears of each checkpoint from the watcher's
store rather than polling the database being measured), and ``mailguard audit``'s engine
(worker processes, one batch) on the same messages as fetched. Prints the rates, the
catch-up rate over the audit rate (issue 23's target: >= 0.5, the live path no slower than
half the offline one) and the process's resident memory before and after the backfill.

The baseline fetches what mailguard fetches, the way it fetches it: the whole message
(``BODY.PEEK[]``) of every message, in UID batches of ``parse.FETCH_BATCH`` (50: twice as
fast as 200 with aioimaplib, see there), on one connection. Headers alone would not do: the
classifier reads the body text of every message (language, the body rules, frustration and
asks-for-a-human), the engine the addresses the author mentions, and a message that fails
is kept with its raw bytes.

To say where the time goes, the same run also times, without IMAP and on a fresh SQLite
database, the same messages (as fetched) through ``Engine.prepare`` alone (parse and
classify: the CPU part) and through ``Engine.process`` one after the other (the engine's
per-message path: parse, classify, one transaction each). The backfill cannot beat the
latter by more than the IMAP pipeline overlaps.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_mailbox import Generator  # noqa: E402

from mailguard.app.mailwatch import StoreBridge  # noqa: E402
from mailguard.audit.engine import audit_engine_factory  # noqa: E402
from mailguard.audit.sources import RawMessage  # noqa: E402
from mailguard.config import Config  # noqa: E402
from mailguard.config.model import parse_config  # noqa: E402
from mailguard.config.settings import engine_settings_of  # noqa: E402
from mailguard.domain.model import Direction, Source  # noqa: E402
from mailguard.engine.factory import build_engine  # noqa: E402
from mailguard.imap.connection import ConnectParams, ImapConnection  # noqa: E402
from mailguard.imap.watcher import MailboxWatcher  # noqa: E402
from mailguard.ops.logsetup import configure_logging  # noqa: E402
from mailguard.store.repository import SqlStore  # noqa: E402
from mailguard.store.schema import upgrade  # noqa: E402
from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot, start_dovecot  # noqa: E402

FOLDERS = ("INBOX", "Sent")
TARGET = 0.5


def rss_mb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**2


def fill(dovecot: Dovecot, messages: int) -> tuple[int, int]:
    """Write the generated mail straight into the user's Maildir (LAYOUT=fs)."""
    maildir = dovecot.base / "home" / SUPPORT / "Maildir"
    dirs = {False: maildir / "cur", True: maildir / "Sent" / "cur"}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
        (path.parent / "new").mkdir(exist_ok=True)
        (path.parent / "tmp").mkdir(exist_ok=True)
    gen = Generator(7, datetime(2026, 1, 5, tzinfo=UTC), 180, max(64, messages // 6))
    counts = {False: 0, True: 0}
    written = 0
    for _pattern, _customer, conversation in gen.conversations():
        for mail in conversation:
            if written >= messages:
                break
            written += 1
            counts[mail.sent] += 1
            stamp = int(mail.at.timestamp())
            target = dirs[mail.sent] / f"{stamp}.M{written}P1.bench:2,"
            target.write_bytes(mail.raw)
            os.utime(target, (time.time(), time.time()))
        if written >= messages:
            break
    if os.geteuid() == 0:
        user = pwd.getpwnam(os.environ.get("DOVECOT_RUN_USER", "dovecot"))
        for path in [maildir, *maildir.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    return counts[False], counts[True]


def params(dovecot: Dovecot) -> ConnectParams:
    return ConnectParams(
        dovecot.host,
        dovecot.imaps_port,
        "implicit",
        SUPPORT,
        PASSWORDS[SUPPORT],
        ca_file=str(dovecot.cafile),
        timeout=60.0,
    )


async def raw_fetch(
    dovecot: Dovecot, keep: list[tuple[str, bytes]] | None = None
) -> tuple[float, int]:
    """Seconds to fetch every message of both folders, and how many there were.

    ``keep`` collects (folder, raw message) when given (outside the timing's interest).
    """
    conn = await ImapConnection.open(params(dovecot))
    try:
        started = time.perf_counter()
        count = 0
        for folder in FOLDERS:
            await conn.select(folder)
            uids = await conn.search("ALL")
            async for batch in conn.fetch(uids):
                count += len(batch)
                if keep is not None:
                    keep.extend((folder, raw) for _, raw in batch)
        return time.perf_counter() - started, count
    finally:
        await conn.close()


def bench_config(dovecot: Dovecot, work: Path) -> Config:
    return parse_config(
        f"""data_dir: {work}
company: {{domains: [example.com]}}
mailboxes:
  - name: support
    addresses: [support@example.com]
    imap:
      host: {dovecot.host}
      port: {dovecot.imaps_port}
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
      password: {PASSWORDS[SUPPORT]}
      backfill: 3650d
      poll_interval: 0.2s
""",
        "bench.yaml",
        env={},
    )


async def engine_alone(config: Config, messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """(seconds to prepare, seconds to process) the messages without IMAP, fresh SQLite."""
    await upgrade(config.storage_url)
    store = SqlStore.from_url(config.storage_url)
    try:
        engine = build_engine(store, engine_settings_of(config))
        directions = {"INBOX": Direction.INBOUND, "Sent": Direction.OUTBOUND}
        now = datetime.now(UTC)
        # As in the backfill, the classifier is ready before the clock starts.
        folder, raw = messages[0]
        engine.prepare(raw, source=Source.IMAP, now=now, direction=directions[folder])
        started = time.perf_counter()
        for folder, raw in messages:
            engine.prepare(
                raw, source=Source.IMAP, now=now, mailbox="support", direction=directions[folder]
            )
        prepare = time.perf_counter() - started
        started = time.perf_counter()
        for folder, raw in messages:
            await engine.process(
                raw,
                source=Source.IMAP,
                now=datetime.now(UTC),
                mailbox="support",
                direction=directions[folder],
            )
        return prepare, time.perf_counter() - started
    finally:
        await store.close()


async def audit_alone(messages: list[tuple[str, bytes]]) -> float:
    """Seconds ``mailguard audit``'s engine takes for the messages (in date order, as the
    audit reads an export), on its own temporary SQLite database."""
    from mailguard.audit.mbox import header_date

    dated = sorted(
        (header_date(raw) or datetime.max.replace(tzinfo=UTC), n, raw)
        for n, (_, raw) in enumerate(messages)
    )
    factory = audit_engine_factory(
        own_domains=["example.com"], mailboxes={"support": ["support@example.com"]}
    )
    started = time.perf_counter()
    async with factory() as engine:
        async for _message, _outcome in engine.replay_stream(
            RawMessage(raw, f"bench#{n}", None, None) for _, n, raw in dated
        ):
            pass
    return time.perf_counter() - started


async def last_uids(dovecot: Dovecot) -> dict[str, int]:
    conn = await ImapConnection.open(params(dovecot))
    try:
        found = {}
        for folder in FOLDERS:
            await conn.select(folder)
            found[folder] = max(await conn.search("ALL"), default=0)
        return found
    finally:
        await conn.close()


class WatchedBridge(StoreBridge):
    """The watcher's store, telling the bench when both folders' checkpoints are at their
    last UID: the bench waits on an event, not by querying the database it measures."""

    def __init__(self, store: SqlStore, targets: dict[str, int]) -> None:
        super().__init__(store)
        self._open = dict(targets)
        self.done = asyncio.Event()

    async def save_checkpoint(
        self,
        mailbox: str,
        folder: str,
        uidvalidity: int,
        last_uid: int,
        highestmodseq: int | None,
        now: datetime,
    ) -> None:
        await super().save_checkpoint(mailbox, folder, uidvalidity, last_uid, highestmodseq, now)
        if folder in self._open and last_uid >= self._open[folder]:
            del self._open[folder]
            if not self._open:
                self.done.set()


async def mailguard_backfill(dovecot: Dovecot, work: Path) -> tuple[float, float, float]:
    """(seconds, RSS MB before, RSS MB after) of mailguard's first sync of both folders."""
    config = bench_config(dovecot, work)
    targets = await last_uids(dovecot)
    await upgrade(config.storage_url)
    store = SqlStore.from_url(config.storage_url)
    bridge = WatchedBridge(store, targets)
    engine = build_engine(store, engine_settings_of(config))
    watcher = MailboxWatcher(
        config.mailboxes[0], engine, bridge, clock=lambda: datetime.now(UTC), dry_run=False
    )
    before = rss_mb()
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(watcher.run(stop))
    try:
        finished = asyncio.ensure_future(bridge.done.wait())
        await asyncio.wait({task, finished}, return_when=asyncio.FIRST_COMPLETED)
        if not finished.done():
            finished.cancel()
            task.result()  # the watcher ended early: its error
            raise RuntimeError("the watcher stopped before the backfill was done")
        elapsed = time.perf_counter() - started
        after = rss_mb()
    finally:
        stop.set()
        await task
        await store.close()
    for folder, last in targets.items():
        checkpoint = await _checkpoint(config, folder)
        if checkpoint < last:
            raise RuntimeError(f"{folder}: checkpoint {checkpoint}, expected {last}")
    return elapsed, before, after


async def _checkpoint(config: Config, folder: str) -> int:
    """The folder's last UID as stored (checked after the clock stopped)."""
    store = SqlStore.from_url(config.storage_url)
    try:
        checkpoint = await store.load_checkpoint("support", folder)
        return checkpoint.last_uid if checkpoint is not None else 0
    finally:
        await store.close()


async def run(messages: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="mailguard-bench-"))
    dovecot = start_dovecot(base)
    try:
        inbox, sent = fill(dovecot, messages)
        await raw_fetch(dovecot)  # Dovecot builds its indexes on first access: not measured.
        raw1, count = await raw_fetch(dovecot)
        load = os.getloadavg()
        mg, before, after = await mailguard_backfill(dovecot, work / "backfill")
        raw2, _ = await raw_fetch(dovecot)
        fetched: list[tuple[str, bytes]] = []
        await raw_fetch(dovecot, fetched)
        config = bench_config(dovecot, work / "alone")
        prepare, process = await engine_alone(config, fetched)
        audit = await audit_alone(fetched)
    finally:
        dovecot.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    raw = min(raw1, raw2)
    size = sum(len(data) for _, data in fetched) / len(fetched)
    print(f"messages: {count} (INBOX {inbox}, Sent {sent}), {size / 1024:.1f} KiB on average")
    print(f"load average at the start of the backfill: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"raw batched UID FETCH: {raw:.2f} s ({count / raw:.0f} msgs/s)")
    print(f"mailguard backfill:    {mg:.2f} s ({count / mg:.0f} msgs/s)")
    print(f"mailguard backfill / raw FETCH: {mg / raw:.2f}")
    print(
        f"RSS: {before:.1f} MB before, {after:.1f} MB after, +{after - before:.1f} MB "
        "(issue 8: within 30 MB)"
    )
    print("without IMAP, same messages, fresh SQLite:")
    print(
        f"  Engine.prepare (parse, classify): {prepare:.2f} s "
        f"({prepare / count * 1000:.2f} ms/msg): {prepare / raw:.2f} x the raw FETCH"
    )
    print(
        f"  Engine.process one by one:        {process:.2f} s "
        f"({process / count * 1000:.2f} ms/msg): {process / raw:.2f} x the raw FETCH"
    )
    print(f"  backfill / Engine.process alone:  {mg / process:.2f}")
    print(f"  mailguard audit engine:           {audit:.2f} s ({count / audit:.0f} msgs/s)")
    ratio = (count / mg) / (count / audit)
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"catch-up rate / audit rate: {ratio:.2f} (target >= {TARGET}): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    # Log as the daemon does (one JSON line per message), into the void.
    configure_logging("json", "info", stream=open(os.devnull, "w"))  # noqa: SIM115
    asyncio.run(run(parser.parse_args().messages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
