"""The upgrade and downgrade paths of docs/deployment.md, through the ``mailguard db`` commands."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from mailguard.store import schema


def mailguard_db(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailguard", "db", *args, "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_down_one_revision_and_up_again_and_a_newer_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "mailguard.sqlite3"
    config = tmp_path / "mailguard.yaml"
    config.write_text(f"storage: {{url: 'sqlite:///{db}'}}\n", encoding="utf-8")
    head = schema.head_revision()
    assert mailguard_db(config, "upgrade").returncode == 0
    assert mailguard_db(config, "current").stdout.strip() == head
    previous = "0004_i20_server_limits"
    done = mailguard_db(config, "downgrade", previous)
    assert done.returncode == 0, done.stderr
    assert mailguard_db(config, "current").stdout.strip() == previous
    assert mailguard_db(config, "upgrade").returncode == 0
    assert mailguard_db(config, "current").stdout.strip() == head

    # What an older mailguard meets on a database a newer one migrated: a clear refusal.
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_newer'")
    done = mailguard_db(config, "upgrade")
    assert done.returncode == 1
    assert "Can't locate revision identified by '0099_newer'" in done.stderr
    assert "downgrade it with that version" in done.stderr
    assert "Traceback" not in done.stderr
