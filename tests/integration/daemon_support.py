"""`mailguard run` as a real process for end-to-end tests: its configuration, the process, polling.

:func:`daemon_config` writes the configuration of a daemon guarding support@ on a Dovecot
fixture and relaying to an SMTP peer; ports, the database URL and the IMAP password come from
the environment (``${MG_HTTP_PORT}``, ``${MG_SMTP_PORT}``, ``${MAILGUARD_DB_URL}``,
``${MAILGUARD_IMAP_PASSWORD}``), so several replicas can share one file. :class:`Daemon`
starts one process on such a file with ports of its own (``module`` runs another entry point,
e.g. :mod:`tests.integration.faulty_mailguard`) and runs the operator commands
(``mailguard held``, ``status``, ``threads``, ``privacy``) against the same file and
environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.dovecot.fixture import PASSWORDS, SUPPORT, Dovecot

OWN_DOMAIN = "example.test"
INBOX_CONNECTED = 'mailguard_imap_connected{mailbox="support",role="inbox"} 1.0'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(port: int, path: str, timeout: float = 2) -> tuple[int, str] | None:
    """Status and body of a GET on loopback (an HTTP error status is returned); None when down."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:  # noqa: S310
            return int(r.status), str(r.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), str(error.read().decode())
    except OSError:
        return None


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample, found by metric name and exact labels."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


def merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``, mappings merged key by key."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def daemon_config(
    tmp_path: Path,
    dovecot: Dovecot,
    relay: tuple[str, int],
    *,
    imap: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    postgres: bool = False,
) -> Path:
    """Write ``tmp_path/mailguard.yaml``: support@ on ``dovecot``, relaying to ``relay``.

    ``imap`` is laid over the mailbox's ``imap:`` section, ``extra`` over the whole file.
    With ``postgres`` the database is ``${MAILGUARD_DB_URL}``; otherwise SQLite in
    ``tmp_path/data``.
    """
    mailbox = {
        "name": "support",
        "addresses": [SUPPORT],
        "imap": merge(
            {
                "host": dovecot.host,
                "port": dovecot.imaps_port,
                "ca_file": str(dovecot.cafile),
                "user": SUPPORT,
                "password": "${MAILGUARD_IMAP_PASSWORD}",
                "poll_interval": "0.5s",
                "reconnect_max": "1s",
            },
            imap or {},
        ),
    }
    data: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "http": {"listen_port": "${MG_HTTP_PORT}"},
        "proxy": {"listen_port": "${MG_SMTP_PORT}"},
        "relay": {"host": relay[0], "port": relay[1]},
        "logging": {"format": "json"},
        "company": {"domains": [OWN_DOMAIN]},
        "mailboxes": [mailbox],
    }
    if postgres:
        data["storage"] = {"url": "${MAILGUARD_DB_URL}"}
    path = tmp_path / "mailguard.yaml"
    path.write_text(yaml.safe_dump(merge(data, extra or {}), sort_keys=False))
    return path


class Daemon:
    """One `mailguard run` subprocess with its own HTTP and SMTP ports (from the environment)."""

    def __init__(
        self,
        config: Path,
        log: Path,
        *,
        postgres_url: str | None = None,
        env: Mapping[str, str] | None = None,
        module: str = "mailguard",
    ) -> None:
        self.config = config
        self.http_port = free_port()
        self.smtp_port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "MAILGUARD_IMAP_PASSWORD": PASSWORDS[SUPPORT],
            "MG_HTTP_PORT": str(self.http_port),
            "MG_SMTP_PORT": str(self.smtp_port),
            "MAILGUARD_CONFIG": "",
            **(env or {}),
        }
        if postgres_url is not None:
            self.env["MAILGUARD_DB_URL"] = postgres_url
        if module != "mailguard":
            # A launcher in tests/ (e.g. tests.integration.faulty_mailguard): importable
            # whatever the working directory.
            root = str(Path(__file__).resolve().parents[2])
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (root, self.env.get("PYTHONPATH")) if p
            )
        # stderr into a file: a pipe nobody reads would block the daemon once it is full.
        with log.open("w") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, "run", "-c", str(config)],
                stderr=sink,
                env=self.env,
            )

    def get(self, path: str) -> tuple[int, str] | None:
        return http_get(self.http_port, path)

    async def aget(self, path: str) -> tuple[int, str] | None:
        """:meth:`get` off the event loop (servers of the test's loop keep serving meanwhile)."""
        return await asyncio.to_thread(self.get, path)

    async def healthy(self, path: str = "/healthz", within: float = 60) -> str:
        """Poll ``path`` until it answers 200; returns the body."""
        deadline = time.monotonic() + within
        while True:
            seen = await self.aget(path)
            if seen is not None and seen[0] == 200:
                return seen[1]
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"{path} not 200: {seen}"
            await asyncio.sleep(0.1)

    async def status(self) -> dict[str, Any]:
        """The /status document (it always answers 200)."""
        seen = await self.aget("/status")
        assert seen is not None and seen[0] == 200, seen
        document: dict[str, Any] = json.loads(seen[1])
        return document

    async def wait_status(
        self, what: str, until: Callable[[dict[str, Any]], bool], within: float = 60
    ) -> dict[str, Any]:
        """Poll /status until ``until`` accepts it; fail naming ``what``."""
        deadline = time.monotonic() + within
        while True:
            answer = await self.aget("/status")
            seen: dict[str, Any] | None = None
            if answer is not None and answer[0] == 200:
                seen = json.loads(answer[1])
                if seen is not None and until(seen):
                    return seen
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, f"/status never showed {what}: {seen}"
            await asyncio.sleep(0.2)

    def watching(self) -> bool:
        """True when this daemon holds the mailbox (its inbox connection is up)."""
        seen = self.get("/metrics")
        return seen is not None and INBOX_CONNECTED in seen[1]

    async def metric(self, name: str, **labels: str) -> float | None:
        seen = await self.aget("/metrics")
        return None if seen is None else sample(seen[1], name, **labels)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        """SIGKILL if still running (for ``finally`` blocks)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return [e for e in found if isinstance(e, dict)]

    def events(self) -> list[str]:
        return [str(e.get("event")) for e in self.log_events()]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``mailguard ARGS -c CONFIG`` as the operator would, with the daemon's env."""
        return subprocess.run(
            [sys.executable, "-m", "mailguard", *args, "-c", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            check=False,
        )

    async def acli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """:meth:`cli` off the event loop."""
        return await asyncio.to_thread(self.cli, *args)


HELD_LINE = re.compile(r"^\s*(\d+)\s.*?  <([^<>]*)>  ")


def held_listing(stdout: str) -> dict[str, int]:
    """``mailguard held list`` output: held id by Message-ID, in the listed order."""
    found = {}
    for line in stdout.splitlines():
        if line.strip() in ("no held messages", "no messages were ever held"):
            continue
        match = HELD_LINE.match(line)
        assert match is not None, f"not a held list line: {line!r}"
        found[match.group(2)] = int(match.group(1))
    return found


async def wait_for(what: str, check: Callable[[], Awaitable[bool]], within: float = 30) -> None:
    """Poll ``check`` until it is true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)
