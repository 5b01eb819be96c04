"""config/systemd/mailguard.service: a bad configuration stops the unit for good, reload is
SIGHUP, Documentation= is a man page that exists and lists every command of the CLI."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mailguard.app.cli import EXIT_USAGE, build_parser
from tests.real_servers import servers_required

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "config" / "systemd" / "mailguard.service"
MAN = ROOT / "docs" / "man"
INSTALLED = "/opt/mailguard/bin/mailguard"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_a_configuration_error_is_not_restarted() -> None:
    service = _unit()["Service"]
    # RestartPreventExitStatus= covers the main process only (systemd.service(5)): a check
    # in ExecStartPre= failing with 2 would be restarted every RestartSec= for ever.
    assert "ExecStartPre" not in service
    assert service["ExecStart"] == f"{INSTALLED} run -c ${{MAILGUARD_CONFIG}}"
    assert service["Restart"] == "on-failure"
    assert str(EXIT_USAGE) in service["RestartPreventExitStatus"].split()
    # And should something else fail at every start, the start limit trips: five starts
    # RestartSec= apart fit in its interval.
    unit = _unit()["Unit"]
    burst, interval = int(unit["StartLimitBurst"]), int(unit["StartLimitIntervalSec"])
    assert burst * int(service["RestartSec"]) < interval


def test_reload_is_sighup_and_documentation_is_a_man_page_or_url() -> None:
    assert _unit()["Service"]["ExecReload"] == "/bin/kill -HUP $MAINPID"
    for entry in _unit()["Unit"]["Documentation"].split():
        assert re.match(r"(https?://|man:)", entry), entry


def test_run_exits_2_on_an_invalid_configuration(tmp_path: Path) -> None:
    """What RestartPreventExitStatus=2 relies on: `run` itself checks the file."""
    config = tmp_path / "mailguard.yaml"
    config.write_text(f"data_dir: {tmp_path}\nproxy: {{listen_port: not-a-port}}\n")
    done = subprocess.run(
        [sys.executable, "-m", "mailguard", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "proxy.listen_port" in done.stderr
    assert not (tmp_path / "mailguard.sqlite3").exists()  # nothing was started


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        reason = "systemd-analyze is not installed (apt-get install systemd)"
        if servers_required():
            pytest.fail(reason, pytrace=False)
        pytest.skip(f"!!! {reason}: the unit is not verified !!!")
    # The unit as installed, but running this checkout's `mailguard` (verify wants the
    # program to exist) and finding the man page in docs/man.
    unit = tmp_path / "mailguard.service"
    here = str(Path(sys.executable).with_name("mailguard"))
    unit.write_text(UNIT.read_text().replace(INSTALLED, here))
    done = subprocess.run(
        [analyze, "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "MANPATH": str(MAN)},
    )
    # Unknown keys and bad values are only warnings (exit 0): none may be printed.
    said = [line for line in (done.stdout + done.stderr).splitlines() if "mailguard" in line]
    assert done.returncode == 0 and not said, done.stdout + done.stderr


def test_the_man_page_lists_every_command() -> None:
    page = (MAN / "man8" / "mailguard.8").read_text()
    section = page.split(".SH COMMANDS")[1].split(".SH")[0]
    listed = set(re.findall(r"^\.TP\n\.B (\S+)", section, re.M))
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert listed == {c.replace("-", "\\-") for c in commands.choices}  # type: ignore[union-attr]
