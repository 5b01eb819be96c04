"""`mailguard run` as a real process: starts on a config, serves /healthz, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback test URL
        return int(response.status), bytes(response.read())


def test_run_serves_health_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "mailguard.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nhttp: {{listen_port: {port}}}\nlogging: {{format: json}}\n"
        f"proxy: {{listen_port: {_free_port()}}}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailguard", "run", "-c", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "daemon did not come up"
                time.sleep(0.1)
        assert status == 200
        assert json.loads(body)["status"] == "ok"
        status, metrics = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert b"python_info" in metrics or b"process_" in metrics
        assert (tmp_path / "data" / "mailguard.sqlite3").exists()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    events = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert events[-1] == "daemon_stopped"
    assert "storage_upgraded" in events
