"""Soak of the running daemon: N messages through Dovecot (LMTP) and the proxy, against the audit.

    .venv/bin/python bench/daemon_soak.py [--messages 20000]

Generates the support traffic of bench/gen_mailbox.py. While a real `mailguard run`
(subprocess, SQLite) watches a throw-away Dovecot's support mailbox, the customers' mail is
delivered over LMTP and the robots' replies are sent through the daemon's SMTP proxy to an
aiosmtpd sink. Then, in the same run, `mailguard audit` replays the same messages (a Maildir).
Prints: the daemon's processed msgs/s against the audit's (target >= 0.5x), the daemon's RSS
after warm-up (10 % of the messages) and at the end (target: growth <= 20 MB), and whether
every message was processed exactly once (rows in the daemon's database).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from gen_mailbox import Generator, Mail  # noqa: E402

from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot, start_dovecot  # noqa: E402

OWN = "support@example.com"
CONCURRENCY = 8


class _Sink:
    """The upstream relay: accepts everything, keeps nothing."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate(count: int) -> list[Mail]:
    gen = Generator(11, datetime(2026, 1, 5, tzinfo=UTC), 180, max(64, count // 6))
    mails: list[Mail] = []
    for _, _, conversation in gen.conversations():
        mails.extend(conversation)
        if len(mails) >= count:
            return mails[:count]
    return mails


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def processed(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def config_text(work: Path, dovecot: Dovecot, http: int, smtp: int, relay: int) -> str:
    # The generated traffic is dated months back: with the default retention (90 days) the
    # maintenance round a minute in would purge its message rows, which this bench counts,
    # and a run longer than a minute would wait for ever.
    return f"""data_dir: {work / "data"}
retention: {{history: 36500d}}
http: {{listen_port: {http}}}
proxy: {{listen_port: {smtp}, max_connections: 100}}
relay: {{host: 127.0.0.1, port: {relay}}}
logging: {{format: json, level: warning}}
company: {{domains: [example.com]}}
mailboxes:
  - name: support
    addresses: [{OWN}]
    imap:
      host: {dovecot.host}
      port: {dovecot.imaps_port}
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
      password: {PASSWORDS[SUPPORT]}
      backfill: 0s
      idle_sent: false
"""


async def feed(mails: list[Mail], dovecot: Dovecot, smtp_port: int) -> None:
    """Customers' mail by LMTP, robots' replies through the proxy, CONCURRENCY at a time."""
    parser = BytesHeaderParser()
    queue: asyncio.Queue[Mail] = asyncio.Queue()
    for mail in mails:
        queue.put_nowait(mail)

    async def worker() -> None:
        while not queue.empty():
            mail = queue.get_nowait()
            headers = parser.parsebytes(mail.raw)
            sender = getaddresses([str(headers["From"] or "")])[0][1] or OWN
            if mail.sent:
                rcpts = [a for _, a in getaddresses([str(headers["To"] or "")]) if a]
                await aiosmtplib.send(
                    mail.raw,
                    sender=sender,
                    recipients=rcpts,
                    hostname="127.0.0.1",
                    port=smtp_port,
                    timeout=60,
                )
            else:
                await dovecot.deliver_async(mail.raw, mail_from=sender, rcpt=SUPPORT)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def audit_rate(mails: list[Mail], work: Path) -> float:
    """msgs/s of `mailguard audit` on the same messages (a Maildir with Sent)."""
    box = work / "export"
    for folder in (box / "cur", box / ".Sent" / "cur"):
        folder.mkdir(parents=True)
    for i, mail in enumerate(mails):
        folder = box / ".Sent" / "cur" if mail.sent else box / "cur"
        (folder / f"{i}.bench:2,S").write_bytes(mail.raw)
    command = [
        sys.executable,
        "-m",
        "mailguard",
        "audit",
        "--own-domain",
        "example.com",
        "--format",
        "json",
        "-o",
        str(work / "audit.json"),
        str(box),
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    return len(mails) / (time.perf_counter() - started)


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`mailguard run` as its own process, as it runs in production; stderr to ``log``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with log.open("w") as err:
        command = [sys.executable, "-m", "mailguard", "run", "-c", str(config)]
        return subprocess.Popen(command, stderr=err, env=env)  # noqa: S603


async def run(count: int) -> int:
    base = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="mailguard-soak-"))
    mails = generate(count)
    dovecot = start_dovecot(base)
    sink = await asyncio.get_running_loop().create_server(lambda: SMTP(_Sink()), "127.0.0.1", 0)
    relay = int(sink.sockets[0].getsockname()[1])
    http, smtp = _free_port(), _free_port()
    config = work / "mailguard.yaml"
    config.write_text(config_text(work, dovecot, http, smtp, relay))
    db = work / "data" / "mailguard.sqlite3"
    (work / "data").mkdir()
    proc = start_daemon(config, work / "daemon.log")
    try:
        while not db.exists() or proc.poll() is not None:
            if proc.poll() is not None:
                raise RuntimeError((work / "daemon.log").read_text())
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # connected and idling
        started = time.perf_counter()
        feeding = asyncio.create_task(feed(mails, dovecot, smtp))
        warm_rss = None
        while (done := processed(db)) < count:
            if warm_rss is None and done >= count // 10:
                warm_rss = rss_mb(proc.pid)
            if feeding.done() and feeding.exception():
                raise feeding.exception()  # type: ignore[misc]
            if proc.poll() is not None:
                raise RuntimeError((work / "daemon.log").read_text())
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        await feeding
        fed = time.perf_counter() - started
        end_rss = rss_mb(proc.pid)
        proc.terminate()
        proc.wait(60)
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT count(*), count(DISTINCT message_id || direction) FROM messages"
            ).fetchone()
            twice = conn.execute(
                "SELECT count(*) FROM (SELECT message_id, direction FROM decisions "
                "WHERE message_id IS NOT NULL GROUP BY message_id, direction HAVING count(*) > 1)"
            ).fetchone()[0]
        audit = audit_rate(mails, work)
    finally:
        if proc.poll() is None:
            proc.kill()
        sink.close()
        dovecot.stop()
        shutil.rmtree(base, ignore_errors=True)
    daemon = count / elapsed
    inbound = sum(1 for m in mails if not m.sent)
    print(f"messages: {count} ({inbound} by LMTP, {count - inbound} through the proxy)")
    print(f"daemon: {elapsed:.1f} s to process all ({daemon:.0f} msgs/s; feeding took {fed:.1f} s)")
    print(f"audit on the same messages: {audit:.0f} msgs/s")
    print(f"ratio daemon/audit: {daemon / audit:.2f} (target >= 0.5)")
    growth = end_rss - (warm_rss or end_rss)
    print(
        f"RSS: {warm_rss or 0:.1f} MB after warm-up, {end_rss:.1f} MB at the end, "
        f"+{growth:.1f} MB (target <= 20 MB)"
    )
    once = rows[0] == rows[1] == count and twice == 0
    print(
        f"exactly once: {rows[0]} message rows, {rows[1]} distinct, {twice} decided twice -> "
        f"{'yes' if once else 'NO'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0 if once else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    return asyncio.run(run(parser.parse_args().messages))


if __name__ == "__main__":
    sys.exit(main())
