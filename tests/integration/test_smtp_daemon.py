"""The proxy inside `mailguard run` as a real process, killed and restarted.

* SIGKILL while a client is in the middle of DATA: the client never saw 250, nothing was
  relayed, and after a restart the client's retry is relayed exactly once.
* A held message survives a restart (SIGKILL too) and ``mailguard held release`` relays
  it once; a second release is refused and relays nothing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest

from mailguard.domain.model import Direction, Source
from tests.integration.engine_support import AUTO, build_engine, mail, migrated_store
from tests.integration.smtp_support import (
    Sink,
    running_sink,
    smtp_counted,  # noqa: F401 (fixture)
)

pytestmark = [pytest.mark.slow, pytest.mark.smtp, pytest.mark.usefixtures("smtp_counted")]

NOW = datetime.now(UTC).replace(microsecond=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


class Daemon:
    """`mailguard run` with a config relaying to the sink."""

    def __init__(self, tmp_path: Path, upstream_port: int) -> None:
        self.smtp_port = _free_port()
        self.config = tmp_path / "mailguard.yaml"
        self.data = tmp_path / "data"
        self.config.write_text(
            f"data_dir: {self.data}\n"
            f"http: {{enabled: false}}\n"
            "logging: {format: json}\n"
            "company: {domains: [example.com]}\n"
            "mailboxes: [{name: support, addresses: [support@example.com]}]\n"
            f"relay: {{host: 127.0.0.1, port: {upstream_port}, timeout: 5s}}\n"
            f"proxy: {{listen_port: {self.smtp_port}}}\n"
        )
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"sqlite:///{self.data / 'mailguard.sqlite3'}"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mailguard",
            "run",
            "-c",
            str(self.config),
            stderr=asyncio.subprocess.DEVNULL,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.smtp_port)
            except OSError:
                assert self.proc.returncode is None, "mailguard run exited"
                assert loop.time() < deadline, "the proxy did not come up"
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 20)

    def cli_bytes(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "mailguard", *args, "-c", str(self.config)],
            capture_output=True,
            timeout=60,
            env={**os.environ, "MAILGUARD_CONFIG": ""},
            check=False,
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.cli_bytes(*args)
        return subprocess.CompletedProcess(
            done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
        )


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    async with running_sink() as s:
        yield s


@pytest.fixture
async def daemon(tmp_path: Path, sink: Sink) -> AsyncIterator[Daemon]:
    d = Daemon(tmp_path, sink.port)
    try:
        yield d
    finally:
        await d.stop()


def _reply(message_id: str, *, automated: bool, in_reply_to: str | None = None) -> bytes:
    return _crlf(
        mail(
            sender="support@example.com",
            to="carl@customer.example",
            subject="Re: order",
            at=NOW,
            message_id=message_id,
            in_reply_to=in_reply_to,
            headers=AUTO if automated else None,
            body="We received your message.\n" if automated else "Dear Carl,\nit left today.\n",
        )
    )


async def test_sigkill_during_data_then_retry_relays_once(daemon: Daemon, sink: Sink) -> None:
    await daemon.start()
    raw = _reply("kill-1@example.com", automated=False)
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.smtp_port)
    transcript = [await reader.readline()]
    for line in (
        b"EHLO client.test",
        b"MAIL FROM:<support@example.com>",
        b"RCPT TO:<carl@customer.example>",
        b"DATA",
    ):
        writer.write(line + b"\r\n")
        await writer.drain()
        reply = await reader.readline()
        while reply[3:4] == b"-":
            reply = await reader.readline()
        transcript.append(reply)
    assert transcript[-1].startswith(b"354"), transcript
    writer.write(raw[: len(raw) // 2])
    await writer.drain()
    await asyncio.sleep(0.3)
    await daemon.kill()
    rest = await reader.read()
    writer.close()
    assert b"250" not in rest  # the connection died without an answer to DATA
    assert sink.received == []

    await daemon.start()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=daemon.smtp_port, timeout=10)
    await client.connect()
    errors, _ = await client.sendmail("support@example.com", ["carl@customer.example"], raw)
    await client.quit()
    assert errors == {}
    assert [r.raw for r in sink.received] == [raw]


async def test_held_mail_survives_restart_and_is_released_once(daemon: Daemon, sink: Sink) -> None:
    # The customer's auto-responder wrote first (as the IMAP watcher would record it).
    daemon.data.mkdir()
    async with migrated_store(daemon.url) as store:
        inbound = mail(
            sender="carl@customer.example",
            to="support@example.com",
            subject="Automatic reply",
            at=NOW - timedelta(minutes=1),
            message_id="ooo-7@customer.example",
            headers={"Auto-Submitted": "auto-replied"},
            body="I am away until Monday.\n",
        )
        await build_engine(store).process(
            inbound, source=Source.IMAP, now=NOW, direction=Direction.INBOUND
        )
    await daemon.start()
    raw = _reply("ack-7@example.com", automated=True, in_reply_to="ooo-7@customer.example")
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=daemon.smtp_port, timeout=10)
    await client.connect()
    errors, text = await client.sendmail("support@example.com", ["carl@customer.example"], raw)
    await client.quit()
    assert errors == {} and "held" in text
    await daemon.kill()
    assert sink.received == []

    await daemon.start()
    listing = await asyncio.to_thread(daemon.cli, "held", "list")
    assert listing.returncode == 0, listing.stderr
    [line] = listing.stdout.splitlines()
    held_id = line.split()[0]
    assert "<ack-7@example.com>" in line
    shown = await asyncio.to_thread(daemon.cli_bytes, "held", "show", held_id, "--raw")
    assert shown.stdout == raw

    released = await asyncio.to_thread(daemon.cli, "held", "release", held_id)
    assert released.returncode == 0, released.stderr
    again = await asyncio.to_thread(daemon.cli, "held", "release", held_id)
    assert again.returncode == 1
    assert "not held any more (released)" in again.stderr
    assert [r.raw for r in sink.received] == [raw]
    assert sink.received[0].rcpt_tos == ["carl@customer.example"]
    empty = await asyncio.to_thread(daemon.cli, "held", "list")
    assert empty.stdout.strip() == "no held messages"
