"""`mailguard run` as a real process: /healthz, /readyz and /status (healthy and not), /metrics,
SIGTERM. A database outage is no reason to restart: /healthz stays 200 while /readyz is 503."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import pg_connect

# mailguard's own metrics, by name: the client library's default process_* and python_*
# metrics would be there even if mailguard registered none.
OWN_METRICS = (
    "mailguard_sla_evaluations_total",
    "mailguard_retention_purged_rows_total",
    "mailguard_maintenance_errors_total",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    """Status and body; an HTTP error status is returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return int(error.code), bytes(error.read())


def _raw(port: int, request: bytes) -> bytes:
    """Send ``request`` as is and return the whole answer (the server closes after one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class Daemon:
    """A running `mailguard run` and its HTTP port."""

    def __init__(self, proc: subprocess.Popen[str], port: int) -> None:
        self.proc = proc
        self.port = port

    def get(self, path: str) -> tuple[int, bytes]:
        return _get(f"http://127.0.0.1:{self.port}{path}")

    def wait_for_health(
        self,
        status: int,
        timeout: float = 20,
        until: Callable[[dict[str, object]], bool] = lambda body: True,
        path: str = "/healthz",
    ) -> dict[str, object]:
        """Poll ``path`` until it answers ``status`` (with a body ``until`` accepts)."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            try:
                seen = self.get(path)
                if seen[0] == status:
                    body: dict[str, object] = json.loads(seen[1])
                    if until(body):
                        return body
            except OSError:
                assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            time.sleep(0.1)
        raise AssertionError(f"{path} never answered {status}; last answer {seen!r}")

    def wait_for_status(
        self, until: Callable[[dict[str, object]], bool], timeout: float = 20
    ) -> dict[str, object]:
        """Poll /status until ``until`` accepts it."""
        deadline = time.monotonic() + timeout
        while not until(seen := self.status()):
            assert time.monotonic() < deadline, seen
            time.sleep(0.2)
        return seen

    def status(self) -> dict[str, object]:
        """The /status document (always 200)."""
        code, body = self.get("/status")
        assert code == 200, body
        document: dict[str, object] = json.loads(body)
        return document


def _checks(body: dict[str, object]) -> dict[str, object]:
    checks = body["checks"]
    assert isinstance(checks, dict)
    return checks


@contextmanager
def running_daemon(tmp_path: Path, extra_config: str = "") -> Iterator[Daemon]:
    port = _free_port()
    config = tmp_path / "mailguard.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nhttp: {{listen_port: {port}}}\n"
        f"logging: {{format: json}}\nproxy: {{listen_port: {_free_port()}}}\n{extra_config}"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailguard", "run", "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield Daemon(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_run_serves_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    with running_daemon(tmp_path) as daemon:
        assert daemon.wait_for_health(200) == {
            "status": "ok",
            "checks": {"event_loop": "ok", "tasks": "ok"},
        }
        status, metrics = daemon.get("/metrics")
        assert status == 200
        exposed = {line.split()[0] for line in metrics.decode().splitlines() if line[:1] != "#"}
        assert set(OWN_METRICS) <= exposed, sorted(exposed)
        assert (tmp_path / "data" / "mailguard.sqlite3").exists()
        daemon.proc.send_signal(signal.SIGTERM)
        _, err = daemon.proc.communicate(timeout=20)
    assert daemon.proc.returncode == 0
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[-1] == "daemon_stopped"
    assert "storage_upgraded" in events


def test_http_error_paths(tmp_path: Path) -> None:
    with running_daemon(tmp_path) as daemon:
        daemon.wait_for_health(200)
        assert daemon.get("/nothing-here") == (404, b"not found\n")
        answers = {
            b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n": b"405 ",
            b"nonsense\r\n\r\n": b"405 ",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n": b"400 ",  # never finished
            b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 9000 + b"\r\n\r\n": b"431 ",
        }
        for request, status in answers.items():
            answer = _raw(daemon.port, request)
            assert answer.startswith(b"HTTP/1.1 " + status), (request[:30], answer[:80])
        # Still serving after the bad requests.
        assert daemon.get("/healthz")[0] == 200


def test_an_unreachable_database_is_not_ready_but_alive(tmp_path: Path) -> None:
    closed = _free_port()  # nothing listens there
    storage = (
        f"storage: {{url: 'postgresql://mailguard@127.0.0.1:{closed}/mailguard', "
        "auto_upgrade: false}\nmaintenance_interval: 1s\n"
    )
    with running_daemon(tmp_path, storage) as daemon:
        body = daemon.wait_for_health(503, path="/readyz")
        assert body["status"] == "degraded"
        checks = _checks(body)
        assert str(checks["database"]).startswith("failing: "), checks
        assert "refused" in str(checks["database"]).lower() or str(closed) in str(checks)
        # Restarting would not bring the database back: liveness stays 200.
        assert daemon.get("/healthz")[0] == 200
        status = daemon.wait_for_status(lambda s: str(s["storage"]).startswith("failing: "))
        assert status["status"] == "degraded"
        _, metrics = daemon.get("/metrics")
        errors = [
            float(line.split()[1])
            for line in metrics.decode().splitlines()
            if line.startswith("mailguard_maintenance_errors_total ")
        ]
        assert errors and errors[0] >= 1


@pytest.mark.postgres
async def test_readyz_turns_503_when_postgresql_goes_away(
    tmp_path: Path, postgres_url: str
) -> None:
    storage = f"storage: {{url: '{postgres_url}'}}\nmaintenance_interval: 1s\n"
    with running_daemon(tmp_path, storage) as daemon:
        daemon.wait_for_health(200)
        assert daemon.status()["storage"] == "ok"
        database = postgres_url.rsplit("/", 1)[1]
        admin = await pg_connect()
        try:
            # What a lost database amounts to for the daemon: its sessions are killed and
            # it cannot reconnect.
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        finally:
            await admin.close()
        body = daemon.wait_for_health(503, path="/readyz")
        assert str(_checks(body)["database"]).startswith("failing: ")
        assert daemon.get("/healthz")[0] == 200
        # The maintenance round's storage entry in /status says why; which words asyncpg
        # uses depends on what the connection was doing when the database went.
        checks = daemon.wait_for_status(lambda s: str(s["storage"]).startswith("failing: "))
        reason = str(checks["storage"])
        assert any(w in reason for w in (database, "terminat", "asyncpg", "connection")), checks
