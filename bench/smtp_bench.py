"""SMTP proxy throughput and added latency, against the same sink without the proxy.

    PYTHONPATH=. python bench/smtp_bench.py [--messages 2000] [--size 4096] [--check]
        [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

One run, six measurements: ``--messages`` messages of ``--size`` bytes (human replies from
the guarded mailbox to 200 customers, so each is classified, recorded in SQLite and relayed)
sent by aiosmtplib over 1 and over 8 persistent client connections,

- ``direct``: client -> sink (an aiosmtpd server in its own process);
- ``relay``: client -> a bare relay (its own process: aiosmtpd in, mailguard's pooled
  upstream relay out, nothing else) -> the same sink: the floor any SMTP proxy written
  with these libraries starts from;
- ``proxy``: client -> ``mailguard run`` (its own process: classify + record + relay over
  pooled connections) -> the same sink.

It prints msgs/s for each, the throughput ratio direct/proxy (and direct/relay), the
per-message latency (MAIL FROM to the reply to DATA) at p50 and p99 with the latency the
proxy adds at each percentile, and the CPU time each relaying process spent per message
(from /proc; on a busy machine msgs/s and latencies move with the load, CPU time much
less). Targets (issue 23, against the bare relay, the floor of any proxy built on these
libraries): proxy/relay throughput >= 0.67 at 8 connections, p99 latency added over the bare
relay <= 10 ms at 1 connection; the last line says "met" or "MISSED"; ``--check`` exits 1
when one is missed. The proxy's metrics also give the mean size of its group commits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib

CUSTOMERS = 200
ROOT = Path(__file__).resolve().parents[1]
RATIO_TARGET = 0.67
P99_ADDED_TARGET_MS = 10.0

SINK = """
import asyncio, sys
from aiosmtpd.smtp import SMTP

class Sink:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        return "250 2.0.0 Ok: queued"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Sink(), hostname="sink.bench", data_size_limit=None), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    print(Sink.count, flush=True)

asyncio.run(main())
"""


BARE_RELAY = """
import asyncio, sys
from aiosmtpd.smtp import SMTP
from mailguard.config.model import RelayConfig
from mailguard.smtp.relay import Relay

class Forward:
    def __init__(self, relay):
        self.relay = relay
    async def handle_DATA(self, server, session, envelope):
        await self.relay.send(envelope.original_content, envelope.mail_from, envelope.rcpt_tos)
        return "250 2.0.0 Ok: relayed"

async def main():
    relay = Relay(RelayConfig(host="127.0.0.1", port=int(sys.argv[1]), pool_size=8))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Forward(relay), hostname="relay.bench", data_size_limit=None),
        "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    await relay.close()

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def message(n: int, size: int) -> bytes:
    head = (
        f"From: Anna from Support <support@example.com>\r\n"
        f"To: customer{n % CUSTOMERS}@customer.example\r\n"
        f"Subject: Re: your order {n}\r\n"
        f"Date: Mon, 30 Nov 2026 08:00:00 +0000\r\n"
        f"Message-ID: <bench-{n}-{time.time_ns()}@example.com>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Dear customer,\r\n\r\nthank you for your patience; your parcel left today.\r\n"
    ).encode()
    line = b"Kind regards and thank you for shopping with us, the support team.\r\n"
    body = line * max(0, (size - len(head)) // len(line))
    return head + body + b"Anna\r\n"


@dataclass
class Result:
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run_clients(port: int, messages: list[bytes], connections: int) -> Result:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in messages:
        queue.put_nowait(raw)
    latencies: list[float] = []

    async def client() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await smtp.connect()
        while not queue.empty():
            raw = queue.get_nowait()
            started = time.perf_counter()
            errors, _ = await smtp.sendmail(
                "support@example.com", [f"customer{len(latencies)}@customer.example"], raw
            )
            latencies.append(time.perf_counter() - started)
            if errors:
                raise RuntimeError(f"refused: {errors}")
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return Result(time.perf_counter() - started, latencies)


async def start_sink() -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SINK, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    return proc, int(await proc.stdout.readline())


async def start_bare_relay(sink_port: int) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        BARE_RELAY,
        str(sink_port),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    return proc, int(await proc.stdout.readline())


async def stop_bare_relay(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"\n")
    await proc.stdin.drain()
    await proc.wait()


async def stop_sink(proc: asyncio.subprocess.Process) -> int:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"\n")
    await proc.stdin.drain()
    count = int(await proc.stdout.readline())
    await proc.wait()
    return count


async def start_mailguard(
    tmp: Path,
    sink_port: int,
    storage_url: str | None,
    http_port: int,
    profile: str | None = None,
) -> tuple[asyncio.subprocess.Process, int]:
    port = free_port()
    config = tmp / "mailguard.yaml"
    storage = f"storage: {{url: '{storage_url}'}}\n" if storage_url else ""
    config.write_text(
        storage + f"data_dir: {tmp / 'data'}\n"
        f"http: {{listen_port: {http_port}}}\n"
        "logging: {format: json, level: warning}\n"
        "company: {domains: [example.com]}\n"
        "mailboxes: [{name: support, addresses: [support@example.com]}]\n"
        f"relay: {{host: 127.0.0.1, port: {sink_port}, pool_size: 8}}\n"
        f"proxy: {{listen_port: {port}, max_connections: 100}}\n"
    )
    (tmp / "data").mkdir()
    # --profile: the daemon under cProfile, which writes its stats when the daemon ends.
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *profiler,
        "-m",
        "mailguard",
        "run",
        "-c",
        str(config),
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "MAILGUARD_CONFIG": ""},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline or proc.returncode is not None:
                raise RuntimeError("mailguard run did not start") from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return proc, port


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_shares(http_port: int) -> tuple[float, float, float, float]:
    """From the proxy's own metrics: mean ms per message to reply, to relay, and the rest;
    mean messages per group commit."""
    import urllib.request

    url = f"http://127.0.0.1:{http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in (
            "mailguard_smtp_message_seconds_sum",
            "mailguard_smtp_message_seconds_count",
            "mailguard_relay_seconds_sum",
            "mailguard_relay_seconds_count",
            "mailguard_group_commit_messages_sum",
            "mailguard_group_commit_messages_count",
        ):
            values[name] = float(value)
    reply = (
        values["mailguard_smtp_message_seconds_sum"]
        / values["mailguard_smtp_message_seconds_count"]
    )
    relay = values["mailguard_relay_seconds_sum"] / values["mailguard_relay_seconds_count"]
    group = (
        values["mailguard_group_commit_messages_sum"]
        / values["mailguard_group_commit_messages_count"]
    )
    return reply * 1000, relay * 1000, (reply - relay) * 1000, group


async def create_database(admin_url: str) -> str:
    """A fresh PostgreSQL database for this run (dropped at the end)."""
    import asyncpg

    name = f"mailguard_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin_url: str, url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> int:
    messages = [message(n, args.size) for n in range(args.messages)]
    warm = [message(n + 10**6, args.size) for n in range(50)]
    results: dict[tuple[str, int], Result] = {}
    cpu: dict[tuple[str, int], float] = {}
    sink, sink_port = await start_sink()
    bare, bare_port = await start_bare_relay(sink_port)
    storage_url = await create_database(args.postgres) if args.postgres else None
    with tempfile.TemporaryDirectory() as tmp:
        http_port = free_port()
        mailguard, proxy_port = await start_mailguard(
            Path(tmp), sink_port, storage_url, http_port, args.profile
        )
        pids = {"relay": bare.pid, "proxy": mailguard.pid}
        try:
            for connections in (1, 8):
                for name, port in (
                    ("direct", sink_port),
                    ("relay", bare_port),
                    ("proxy", proxy_port),
                ):
                    await run_clients(port, warm, connections)  # connections, caches, pool
                    fresh = [
                        message(n + connections * 10**5, args.size) for n in range(len(messages))
                    ]
                    before = cpu_seconds(pids[name]) if name in pids else 0.0
                    results[(name, connections)] = await run_clients(port, fresh, connections)
                    if name in pids:
                        cpu[(name, connections)] = cpu_seconds(pids[name]) - before
            shares = await asyncio.to_thread(time_shares, http_port)
        finally:
            mailguard.send_signal(signal.SIGTERM)
            await mailguard.wait()
            await stop_bare_relay(bare)
        relayed = await stop_sink(sink)
    if storage_url:
        await drop_database(args.postgres, storage_url)
    backend = "PostgreSQL" if storage_url else "SQLite"
    print(
        f"smtp_bench: {args.messages} x {args.size} B messages, {backend}, sink received {relayed}"
    )
    print(f"{'conns':>5} {'path':<7} {'msgs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/msg':>10}")
    verdicts = []
    for connections in (1, 8):
        direct, proxy = results[("direct", connections)], results[("proxy", connections)]
        relay = results[("relay", connections)]
        for name in ("direct", "relay", "proxy"):
            result = results[(name, connections)]
            used = cpu.get((name, connections))
            per = f"{used / args.messages * 1000:>10.2f}" if used is not None else f"{'':>10}"
            print(
                f"{connections:>5} {name:<7} {result.rate:>8.0f} {result.pct(0.5):>8.2f} "
                f"{result.pct(0.99):>8.2f} {per}"
            )
        ratio = proxy.rate / relay.rate
        added50 = proxy.pct(0.5) - relay.pct(0.5)
        added99 = proxy.pct(0.99) - relay.pct(0.99)
        print(
            f"{connections:>5} proxy/bare relay throughput {ratio:.2f} "
            f"(direct/proxy {direct.rate / proxy.rate:.2f}); latency added over the bare "
            f"relay p50 {added50:.2f} ms, p99 {added99:.2f} ms"
        )
        if connections == 8:
            met = ratio >= RATIO_TARGET
            verdicts.append(
                f"8 conns proxy/relay {ratio:.2f} >= {RATIO_TARGET}: {'met' if met else 'MISSED'}"
            )
        else:
            met = added99 <= P99_ADDED_TARGET_MS
            verdicts.append(
                f"1 conn p99 added {added99:.2f} ms <= {P99_ADDED_TARGET_MS} ms: "
                f"{'met' if met else 'MISSED'}"
            )
    reply_ms, relay_ms, rest_ms, group = shares
    print(
        f"inside the proxy, per message (all runs): end of DATA to reply {reply_ms:.2f} ms, of "
        f"which relaying {relay_ms:.2f} ms and classify + record {rest_ms:.2f} ms; "
        f"{group:.2f} messages per group commit"
    )
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = all(v.endswith(": met") for v in verdicts)
    print("targets: " + "; ".join(verdicts))
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--profile", metavar="FILE", help="run the proxy under cProfile, stats to FILE"
    )
    parser.add_argument(
        "--postgres",
        metavar="ADMIN_URL",
        help="store in a fresh PostgreSQL database made through this URL "
        "(e.g. postgresql://postgres@127.0.0.1:5432/postgres) instead of SQLite",
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
