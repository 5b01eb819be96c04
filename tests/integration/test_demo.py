"""scripts/demo end to end: the README's first command plays its story and leaves nothing behind.

Runs ``scripts/demo.py`` (what ``scripts/demo`` execs after its set-up) against a real Dovecot,
the aiosmtpd sink and ``mailguard run`` as a subprocess, with its temporary directory under a
fresh TMPDIR so the test can check that the demo removed everything and stopped Dovecot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.dovecot.fixture import unusable_reason
from tests.real_servers import exercised, require_marker, require_or_skip

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"

pytestmark = [pytest.mark.dovecot, pytest.mark.smtp, pytest.mark.slow]


def _dovecot_masters(config_prefix: str) -> list[str]:
    """Command lines of running processes whose arguments name a config under the prefix."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if config_prefix in cmdline and "dovecot" in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.timeout(300)
def test_demo_plays_the_story_and_cleans_up(request: pytest.FixtureRequest) -> None:
    require_marker(request.node, "dovecot")
    reason = unusable_reason()
    if reason is not None:
        require_or_skip("dovecot", reason)
    # Traversable by the dovecot user when run as root (pytest's tmp_path is not).
    tmp = Path(tempfile.mkdtemp(prefix="mailguard-demo-test-"))
    tmp.chmod(0o711)
    try:
        done = subprocess.run(
            [sys.executable, str(DEMO)],
            capture_output=True,
            text=True,
            timeout=280,
            env=dict(os.environ, TMPDIR=str(tmp)),
            check=False,
        )
        exercised(request.node, "dovecot")
        exercised(request.node, "smtp")
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        # What it shows is what happened: the folders as IMAP sees them, the rules, the relay.
        assert "vouchers@example.test / Escalated: 3 message(s)" in out
        assert "- Voucher code does not work   [\\Flagged $MailguardEscalated]" in out
        assert "- [mailguard] Escalated: Voucher code does not work" in out
        assert "| Rule: automated_streak" in out  # the agent's note, read back over IMAP
        assert "- [Ticket #102] Re: Voucher code does not work" in out  # the Held copy
        assert "reason:      customer escalated (automated_streak)" in out  # held show
        assert "shop@example.test / Escalated: 2 message(s)" in out
        assert "- Charged twice - cancel NOW   [\\Flagged $MailguardEscalated]" in out
        # Carl's vacation reply: deferred until the watcher read his message, then held.
        assert "for the watcher, was then decided like any" in out
        assert "and HELD: Carl does not get a robot's answer." in out
        assert "support      <> -> carl@customer.example" in out  # held list
        assert "reason:      customer escalated (frustration)" in out  # held show
        assert "Subject:     Auto-Reply: we received your message" in out
        assert "support@example.test / Held: 1 message(s)" in out
        assert "deferred replies: 0" in out  # status, after it was decided
        assert "<> -> carl@customer.example" not in out.split("What the upstream relay")[1]
        for rule in ("automated_streak", "referral_ring", "frustration"):
            assert f"rule {rule}" in out
        assert "anna@customer.example  rule automated_streak" in out
        assert "resolved" in out and "human_reply:" in out
        assert "agent@example.test -> carl@customer.example" in out
        assert out.rstrip().endswith("The story played as expected.")
        # Nothing left: no temporary directory, no Dovecot of the demo's.
        assert list(tmp.iterdir()) == []
        assert _dovecot_masters(str(tmp)) == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
