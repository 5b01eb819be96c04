"""Postfix alone against Postfix with mailguard's milter: throughput ratio and added latency.

    sudo PYTHONPATH=. .venv/bin/python bench/milter_bench.py [--messages 2000] [--size 4096]
        [--connections 8] [--rounds 4] [--postgres ADMIN_URL]

One run, one Postfix (the tests' throw-away instance, ``tests/integration/postfix_site.py``,
configured from ``config/postfix/`` as docs/postfix.md says; needs root) with two
submission listeners side by side: ``alone`` has no milter, ``milter`` runs mailguard's
(``smtpd_milters = $mailguard_milter``; the bench has no DKIM signer, so only mailguard's
work is added). Postfix relays everything to a sink (aiosmtpd, on the bench's loop).
``mailguard run`` (its own process, SQLite or ``--postgres``) decides each message: human
replies from the guarded mailbox to 200 customers, so each one is classified, recorded and
passed, the common case. A third listener, ``protocol``, runs the same milter code with a
judge that reads each message whole and accepts it: what the milter protocol alone costs.

``--messages`` go to each listener, in ``--rounds`` alternating rounds (alone, milter,
protocol, milter, alone, ...), so that the machine's load drifts over both alike. For each:

- throughput: messages per second from the first MAIL FROM to the sink holding the round's
  last message (Postfix queues, so the client's 250 is not the end);
- latency: MAIL FROM to the reply to DATA, per message, at p50 and p99 (the milter decides
  inside the SMTP transaction, before Postfix's 250).

It prints both, the throughput ratio alone/milter, the latency the milter adds at each
percentile, mailguard's CPU time per message (from /proc), the load average, and as its
last line the target (ratio <= 1.3) and whether it was met or MISSED.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiosmtplib
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.smtp import SMTP  # noqa: E402

from bench.proxy_kill import Counting  # noqa: E402
from bench.smtp_bench import cpu_seconds, create_database, drop_database, message  # noqa: E402
from tests.integration.postfix_site import running_site  # noqa: E402

RATIO_TARGET = 1.3
SUPPORT = "support@example.com"

# The same listener and protocol code with a judge that reads every message and accepts it:
# what the milter protocol costs Postfix, without mailguard's decision.
ACCEPT_ALL = """
import asyncio, sys
from mailguard.config.milter import MilterConfig
from mailguard.milter.connection import Reply, Verdict
from mailguard.milter.server import MilterServer

class AcceptAll:
    in_flight = 0
    def wants_sender(self, sender): return True
    def wants_header(self, message): return True
    async def decide(self, message):
        message.raw()
        return Verdict(Reply.CONTINUE)

async def main():
    server = MilterServer(MilterConfig(listen=sys.argv[1]), AcceptAll())
    await server.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


class Sink:
    """The sink, on the bench's loop: it counts what Postfix delivers."""

    def __init__(self) -> None:
        self.handler = Counting()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: SMTP(self.handler, hostname="sink.bench", data_size_limit=None),
            "127.0.0.1",
            0,
        )
        self.port = int(self.server.sockets[0].getsockname()[1])

    def count(self) -> int:
        return sum(self.handler.arrived.values())

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@dataclass
class Measured:
    """All rounds of one listener."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def round_trip(
    port: int, messages: list[bytes], connections: int, sink: Sink, into: Measured
) -> None:
    """Send ``messages`` over ``connections``; time until the sink has them all."""
    before = sink.count()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in messages:
        queue.put_nowait(raw)

    async def client(n: int) -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=120, start_tls=False)
        await smtp.connect()
        try:
            while not queue.empty():
                raw = queue.get_nowait()
                started = time.perf_counter()
                rcpt = f"customer{n}@customer.example"
                await smtp.sendmail(SUPPORT, [rcpt], raw)
                into.latencies.append(time.perf_counter() - started)
        finally:
            await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(connections)))
    # Postfix delivers on its own time: the count is polled (the sink runs on this loop).
    while sink.count() < before + len(messages):  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    into.seconds += time.perf_counter() - started


def mailguard_config(base: Path, milter_port: int, return_port: int, postgres: str | None) -> Path:
    data: dict[str, object] = {
        "data_dir": str(base / "data"),
        "company": {"domains": ["example.com"]},
        "mailboxes": [{"name": "support", "addresses": [SUPPORT]}],
        "proxy": {"enabled": False},
        "milter": {"listen": f"inet:127.0.0.1:{milter_port}"},
        "relay": {"host": "127.0.0.1", "port": return_port},
        "http": {"enabled": False},
        "logging": {"format": "json", "level": "warning"},
    }
    if postgres:
        data["storage"] = {"url": postgres}
    path = base / "mailguard.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="per listener")
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds per listener")
    parser.add_argument("--postgres", help="admin URL; a database of the bench's own is made")
    args = parser.parse_args()
    postgres = await create_database(args.postgres) if args.postgres else None
    load_before = os.getloadavg()
    sink = Sink()
    await sink.start()
    base = Path(tempfile.mkdtemp(prefix="milter-bench-"))
    try:
        with running_site(sink_port=sink.port) as site:
            site.apply_recipe()
            # No DKIM signer in the bench: mailguard's milter alone is the added work.
            site.postconf("-e", "dkim_milter =")
            alone_port = _free_port()
            alone = f"127.0.0.1:{alone_port}"
            site.postconf("-M", f"{alone}/inet = {alone} inet n - n - - smtpd")
            site.postconf("-P", f"{alone}/inet/smtpd_relay_restrictions=permit_mynetworks,reject")
            site.postconf("-P", f"{alone}/inet/smtpd_milters=")
            protocol_port, accept_port = _free_port(), _free_port()
            protocol = f"127.0.0.1:{protocol_port}"
            site.postconf("-M", f"{protocol}/inet = {protocol} inet n - n - - smtpd")
            site.postconf(
                "-P", f"{protocol}/inet/smtpd_relay_restrictions=permit_mynetworks,reject"
            )
            site.postconf(
                "-P",
                f"{protocol}/inet/smtpd_milters="
                f"{{inet:127.0.0.1:{accept_port},default_action=tempfail}}",
            )
            site.reload()
            accept_all = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
                [sys.executable, "-c", ACCEPT_ALL, f"inet:127.0.0.1:{accept_port}"]
            )
            config = mailguard_config(base, site.milter_port, site.return_port, postgres)
            env = dict(os.environ, MAILGUARD_CONFIG="")
            log = (base / "mailguard.log").open("w")
            daemon = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
                [sys.executable, "-m", "mailguard", "run", "-c", str(config)],
                stderr=log,
                env=env,
            )
            try:
                await _wait_listening(site.milter_port, daemon)
                await _wait_listening(accept_port, accept_all)
                ports = {"alone": alone_port, "protocol": protocol_port}
                ports["milter"] = site.submission_port
                return await _measure(args, ports, sink, (daemon, accept_all), load_before)
            finally:
                for proc in (daemon, accept_all):
                    proc.terminate()
                    proc.wait(timeout=30)
                log.close()
    finally:
        sink.close()
        if postgres:
            await drop_database(args.postgres, postgres)


async def _measure(
    args: argparse.Namespace,
    ports: dict[str, int],
    sink: Sink,
    processes: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]],
    load_before: tuple[float, float, float],
) -> int:
    daemon, accept_all = processes
    per_round = max(1, args.messages // args.rounds)
    # Warm every path (connections, Postfix's processes, mailguard's caches).
    warm = [message(n, args.size) for n in range(50)]
    for port in ports.values():
        await round_trip(port, warm, args.connections, sink, Measured())
    results = {name: Measured() for name in ports}
    cpu = {"milter": 0.0, "protocol": 0.0}
    pid = {"milter": daemon.pid, "protocol": accept_all.pid}
    n = 100
    for _ in range(args.rounds):
        for name, port in ports.items():
            batch = [message(n + i, args.size) for i in range(per_round)]
            n += per_round
            before = cpu_seconds(pid[name]) if name in pid else 0.0
            await round_trip(port, batch, args.connections, sink, results[name])
            if name in pid:
                cpu[name] += cpu_seconds(pid[name]) - before
    load_after = os.getloadavg()
    a, m = results["alone"], results["milter"]
    ratio = a.rate / m.rate
    protocol_ratio = a.rate / results["protocol"].rate
    print(
        f"{len(a.latencies)} messages of {args.size} bytes per path over "
        f"{args.connections} connections, {args.rounds} alternating rounds each; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print(f"{'path':<8} {'msgs/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        print(f"{name:<8} {r.rate:8.1f} {r.pct(0.5):8.2f} {r.pct(0.99):8.2f}")
    print(
        f"added by the milter: p50 {m.pct(0.5) - a.pct(0.5):.2f} ms, "
        f"p99 {m.pct(0.99) - a.pct(0.99):.2f} ms; CPU per message: mailguard "
        f"{cpu['milter'] / len(m.latencies) * 1000:.2f} ms, the protocol alone "
        f"{cpu['protocol'] / len(results['protocol'].latencies) * 1000:.2f} ms"
    )
    print(f"throughput ratio alone/protocol {protocol_ratio:.2f} (the milter protocol alone)")
    met = ratio <= RATIO_TARGET
    print(
        f"throughput ratio alone/milter {ratio:.2f}; target <= {RATIO_TARGET}: "
        f"{'met' if met else 'MISSED'}"
    )
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_listening(port: int, daemon: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if daemon.poll() is not None:
            raise SystemExit(f"mailguard run exited with {daemon.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise SystemExit("mailguard's milter did not listen within a minute")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
