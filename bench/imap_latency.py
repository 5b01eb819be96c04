"""Latency from LMTP delivery to the message in the escalation folder with its keyword.

    .venv/bin/python bench/imap_latency.py [--trials 100]

Starts a throw-away Dovecot (tests/dovecot) and a real `mailguard run` watching its support
mailbox, then delivers angry first messages (each from a new customer, so each escalates at
once) over LMTP, and polls the escalation folder on a separate connection until the message
is there with $MailguardEscalated. Prints p50/p95/max. Target: p95 <= 1.0 s; Dovecot's own
IDLE push comes about 0.5 s after delivery, which is the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mailguard.imap.connection import ConnectParams, ImapConnection  # noqa: E402
from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot, start_dovecot  # noqa: E402
from tests.integration.imap_support import ANGRY, customer_mail, mid  # noqa: E402

POLL = 0.01


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    """The mailbox is watched: /status says so (/healthz is liveness only)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as r:  # noqa: S310
            mailboxes = json.loads(r.read())["mailboxes"]
            return bool(mailboxes) and all(m["status"] == "ok" for m in mailboxes.values())
    except OSError:
        return False


def _config(dovecot: Dovecot, work: Path, port: int) -> Path:
    path = work / "mailguard.yaml"
    path.write_text(
        f"""data_dir: {work / "data"}
http: {{listen_port: {port}}}
logging: {{format: json, level: warning}}
company: {{domains: [example.test]}}
mailboxes:
  - name: support
    addresses: [{SUPPORT}]
    imap:
      host: {dovecot.host}
      port: {dovecot.imaps_port}
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
      password: ${{BENCH_IMAP_PASSWORD}}
"""
    )
    return path


async def _escalated(observer: ImapConnection, message_id: str) -> None:
    while True:
        await observer.execute("NOOP")
        found = await observer.search(
            "KEYWORD", "$MailguardEscalated", "HEADER", "Message-ID", f'"<{message_id}>"'
        )
        if found:
            return
        await asyncio.sleep(POLL)


async def measure(dovecot: Dovecot, trials: int) -> list[float]:
    params = ConnectParams(
        dovecot.host,
        dovecot.imaps_port,
        "implicit",
        SUPPORT,
        PASSWORDS[SUPPORT],
        ca_file=str(dovecot.cafile),
        timeout=10.0,
    )
    observer = await ImapConnection.open(params)
    latencies = []
    try:
        await observer.ensure_folder("Escalated")
        await observer.select("Escalated")
        for n in range(trials):
            sender = f"angry{n}@customer{n}.example"
            msg = customer_mail(sender, f"THIRD time writing - cancel NOW ({n})", ANGRY)
            started = time.perf_counter()
            await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
            async with asyncio.timeout(30):
                await _escalated(observer, mid(msg))
            latencies.append(time.perf_counter() - started)
    finally:
        await observer.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="mailguard-dovecot-"))
    work = Path(tempfile.mkdtemp(prefix="mailguard-bench-"))
    dovecot = start_dovecot(base)
    port = _free_port()
    env = dict(os.environ, BENCH_IMAP_PASSWORD=PASSWORDS[SUPPORT])
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailguard", "run", "-c", str(_config(dovecot, work, port))],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("mailguard did not come up")
            time.sleep(0.05)
        latencies = asyncio.run(measure(dovecot, args.trials))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        dovecot.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(latencies)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"trials: {len(ordered)}")
    print(
        f"delivery -> escalated with keyword: p50 {statistics.median(ordered):.3f} s, "
        f"p95 {p95:.3f} s, max {ordered[-1]:.3f} s (target p95 <= 1.000 s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
