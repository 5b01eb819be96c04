"""Capacity of the running daemon: N messages through its watcher and its proxy, against the audit.

    .venv/bin/python bench/daemon_soak.py [--messages 20000]

Generates the support traffic of bench/gen_mailbox.py and measures the daemon, not whatever
feeds it (issue 23): the customers' mail is delivered into a throw-away Dovecot's support
mailbox *before* the daemon starts (written into the Maildir, as a delivery leaves it; Dovecot
indexes it on first access), so the daemon's IMAP catch-up reads it as fast as it can; the
robots' replies are replayed to the daemon's SMTP proxy by a fast client (``CONNECTIONS``
persistent aiosmtplib connections) as soon as the proxy listens. The clock runs from the
proxy listening until every message has its row in the daemon's database. A real
``mailguard run`` (subprocess, SQLite) relays to an aiosmtpd sink. Then, in the same run,
``mailguard audit`` replays the same messages (a Maildir).

Which was the bottleneck: the feeder alone (the same client pushing the same replies into a
bare sink) is timed too; the bench names the feeder when it could not push at least twice as
fast as the daemon took the replies, else the daemon, whose CPU time over the run (from /proc)
it prints beside.
Prints the daemon's msgs/s against the audit's (target >= 0.5), the daemon's RSS after
warm-up (10 % of the messages) and at the end (target: growth <= 20 MB), and whether every
message was processed exactly once; the last line says "met" or "MISSED".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pwd
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
CONNECTIONS = 32
RATIO_TARGET = 0.5
RSS_TARGET_MB = 20.0


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
      backfill: 3650d
      idle_sent: false
"""


def predeliver(dovecot: Dovecot, mails: list[Mail]) -> int:
    """The customers' mail into the support user's Maildir (INBOX) before the daemon runs."""
    maildir = dovecot.base / "home" / SUPPORT / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    count = 0
    for n, mail in enumerate(mails):
        if mail.sent:
            continue
        stamp = int(mail.at.timestamp())
        (maildir / "cur" / f"{stamp}.M{n}P1.soak:2,").write_bytes(mail.raw)
        count += 1
    if os.geteuid() == 0:
        user = pwd.getpwnam(os.environ.get("DOVECOT_RUN_USER", "dovecot"))
        for path in [maildir, *maildir.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    return count


def envelopes(mails: list[Mail]) -> list[tuple[bytes, str, list[str]]]:
    """(raw, sender, recipients) of each robot reply, in the generated order."""
    parser = BytesHeaderParser()
    result = []
    for mail in mails:
        if not mail.sent:
            continue
        headers = parser.parsebytes(mail.raw)
        sender = getaddresses([str(headers["From"] or "")])[0][1] or OWN
        rcpts = [a for _, a in getaddresses([str(headers["To"] or "")]) if a]
        result.append((mail.raw, sender, rcpts))
    return result


async def replay(replies: list[tuple[bytes, str, list[str]]], port: int) -> float:
    """Send the replies over ``CONNECTIONS`` persistent connections; seconds it took."""
    queue: asyncio.Queue[tuple[bytes, str, list[str]]] = asyncio.Queue()
    for reply in replies:
        queue.put_nowait(reply)
    started = time.perf_counter()

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=120)
        await smtp.connect()
        try:
            while not queue.empty():
                raw, sender, rcpts = queue.get_nowait()
                await smtp.sendmail(sender, rcpts, raw)
        finally:
            smtp.close()

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(log.read_text())  # noqa: ASYNC240 - the daemon died
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


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


def start_daemon(config: Path, log: Path, profile: str | None = None) -> subprocess.Popen[bytes]:
    """`mailguard run` as its own process, as it runs in production; stderr to ``log``;
    under cProfile (stats to ``profile`` when it ends) if given."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    with log.open("w") as err:
        command = [sys.executable, *profiler, "-m", "mailguard", "run", "-c", str(config)]
        return subprocess.Popen(command, stderr=err, env=env)  # noqa: S603


async def run(count: int, profile: str | None = None) -> int:
    base = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="mailguard-soak-"))
    mails = generate(count)
    replies = envelopes(mails)
    dovecot = start_dovecot(base)
    inbound = predeliver(dovecot, mails)
    sink = await asyncio.get_running_loop().create_server(lambda: SMTP(_Sink()), "127.0.0.1", 0)
    relay = int(sink.sockets[0].getsockname()[1])
    feeder_alone = await replay(replies, relay)  # the feeder's own pace, into the bare sink
    http, smtp = _free_port(), _free_port()
    config = work / "mailguard.yaml"
    config.write_text(config_text(work, dovecot, http, smtp, relay))
    db = work / "data" / "mailguard.sqlite3"
    (work / "data").mkdir()
    log = work / "daemon.log"
    load = os.getloadavg()
    proc = start_daemon(config, log, profile)
    try:
        await wait_listening(smtp, proc, log)
        started = time.perf_counter()
        cpu_before = cpu_seconds(proc.pid)
        feeding = asyncio.create_task(replay(replies, smtp))
        warm_rss = None
        while (done := processed(db)) < count:
            if warm_rss is None and done >= count // 10:
                warm_rss = rss_mb(proc.pid)
            if feeding.done() and feeding.exception():
                raise feeding.exception()  # type: ignore[misc]
            if proc.poll() is not None:
                raise RuntimeError(log.read_text())  # noqa: ASYNC240 - the daemon died
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - started
        busy = (cpu_seconds(proc.pid) - cpu_before) / elapsed
        fed = await feeding
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
    ratio = daemon / audit
    growth = end_rss - (warm_rss or end_rss)
    print(f"messages: {count} ({inbound} pre-delivered to INBOX, {len(replies)} to the proxy)")
    print(f"load average before the daemon started: {' '.join(f'{x:.2f}' for x in load)}")
    print(f"daemon: {elapsed:.1f} s to process all ({daemon:.0f} msgs/s)")
    print(
        f"feeder: the replies took {fed:.1f} s through the daemon, {feeder_alone:.1f} s into "
        f"a bare sink ({len(replies) / feeder_alone:.0f} msgs/s)"
    )
    feeder_bound = feeder_alone >= fed / 2
    print(
        f"bottleneck: {'the feeder' if feeder_bound else 'the daemon'} (the feeder alone pushes "
        f"the replies {fed / feeder_alone:.1f}x faster than the daemon takes them); the "
        f"daemon's CPU was busy {busy:.0%} of the run (the rest: waiting for a core on a "
        f"shared machine, for IMAP or for the database)"
    )
    print(f"audit on the same messages: {audit:.0f} msgs/s")
    print(
        f"RSS: {warm_rss or 0:.1f} MB after warm-up, {end_rss:.1f} MB at the end, "
        f"+{growth:.1f} MB (target <= {RSS_TARGET_MB:.0f} MB)"
    )
    once = rows[0] == rows[1] == count and twice == 0
    print(
        f"exactly once: {rows[0]} message rows, {rows[1]} distinct, {twice} decided twice -> "
        f"{'yes' if once else 'NO'}"
    )
    shutil.rmtree(work, ignore_errors=True)
    met = ratio >= RATIO_TARGET and growth <= RSS_TARGET_MB and once
    print(
        f"daemon/audit {ratio:.2f} (target >= {RATIO_TARGET}), RSS +{growth:.1f} MB "
        f"(target <= {RSS_TARGET_MB:.0f}), exactly once {'yes' if once else 'NO'}: "
        f"{'met' if met else 'MISSED'}"
    )
    return 0 if once else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--profile", metavar="FILE", help="the daemon under cProfile, to FILE")
    args = parser.parse_args()
    return asyncio.run(run(args.messages, args.profile))


if __name__ == "__main__":
    sys.exit(main())
