"""``mailguard try`` as an operator runs it, on the real .eml files of tests/data, against a
real SQLite file and a real PostgreSQL database: what the daemon would do, and that the
database is byte for byte the same afterwards (full dumps before and after).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url

from mailguard.config import load_config
from mailguard.config.settings import engine_settings_of
from mailguard.domain.model import Direction, Source
from mailguard.engine.factory import build_engine
from mailguard.store import schema
from mailguard.store.repository import SqlStore

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "tests" / "data" / "scenarios" / "frustration_en"
ANGRY = SCENARIO / "01-customer.eml"  # the angry first message
ACK = SCENARIO / "02-ack.eml"  # the helpdesk robot's acknowledgement of it

pytestmark = pytest.mark.slow


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / f"mailguard{len(list(tmp_path.glob('*.yaml')))}.yaml"
    path.write_text(
        f"storage: {{url: '{url}'}}\n"
        f"data_dir: {tmp_path / 'data'}\n"
        "company: {domains: [example.com]}\n"
        "notify: {agents: agents@example.com}\n"
        "mailboxes:\n"
        "  - name: support\n"
        "    addresses: [support@example.com]\n"
        "    imap: {host: 127.0.0.1, tls: plain, user: support@example.com, password: x}\n"
        f"{extra}",
        encoding="utf-8",
    )
    return path


def run_try(config: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """``mailguard try -c CONFIG ...`` in a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "mailguard", "try", "-c", str(config), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def mailguard_try(config: Path, *args: str | Path) -> str:
    """The standard output of a ``mailguard try`` that succeeded."""
    done = run_try(config, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def dump(url: str) -> str:
    """Everything in the database: SQLite's iterdump, or pg_dump's full plain dump (schema,
    rows and sequence values: a rolled-back INSERT would show there)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "")
        try:
            return "\n".join(connection.iterdump())
        finally:
            connection.close()
    plain = make_url(url).set(drivername="postgresql")
    done = subprocess.run(
        ["pg_dump", "--no-owner", "-d", plain.render_as_string(hide_password=False)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # pg_dump (since 15.14) fences the dump with a random \restrict key, new for every run.
    lines = done.stdout.splitlines()
    return "\n".join(line for line in lines if not line.startswith(("\\restrict", "\\unrestrict")))


async def process(config: Path, raw: bytes, direction: Direction) -> None:
    """What the running daemon does with the message (the watcher's path)."""
    cfg = load_config(config)
    store = SqlStore.from_url(cfg.storage_url)
    try:
        engine = build_engine(store, engine_settings_of(cfg))
        await engine.process(raw, source=Source.IMAP, now=datetime.now(UTC), direction=direction)
    finally:
        await store.close()


async def test_try_shows_the_decision_and_the_actions_and_changes_nothing(
    db_url: str, tmp_path: Path
) -> None:
    await schema.upgrade(db_url)
    config = write_config(tmp_path, db_url)
    empty = dump(db_url)

    # An angry first message: escalated at once, moved for the agents, the agents told.
    out = mailguard_try(config, ANGRY)
    assert "frustration: 1.00" in out  # explain's own lines
    assert "decision:    frustration" in out
    assert "evidence frustration:repeat_contact_en: third time I am writing" in out
    assert "escalate (frustration): move the thread's messages to Escalated" in out
    assert "notify (frustration): mail agents@example.com" in out
    assert dump(db_url) == empty

    # The daemon really escalates it; the robot's acknowledgement then goes to a customer
    # who is with a person: the proxy holds it.
    await process(config, ANGRY.read_bytes(), Direction.INBOUND)
    escalated = dump(db_url)
    assert escalated != empty
    out = mailguard_try(config, ACK)
    assert "mailbox:     support (outbound, as the proxy sees it)" in out
    assert "kind:        ticket_ack (automated" in out
    assert "automated reply held: customer is with a person" in out
    assert "proxy:       hold: stored, answered 250, not relayed; a copy goes to Held" in out
    assert "hold_outbound: a copy of the held reply is appended to Held" in out
    assert dump(db_url) == escalated

    # With rewrite configured, the same reply would be rewritten instead.
    rewrite = write_config(tmp_path, db_url, "proxy: {escalated: rewrite}\n")
    out = mailguard_try(rewrite, ACK)
    assert "proxy:       rewrite: relayed to 127.0.0.1:25 with the handover sentence" in out

    # The message the daemon has seen is a duplicate: decided once, never again.
    out = mailguard_try(config, ANGRY, "--mailbox", "support", "--direction", "inbound")
    assert "decision:    already recorded" in out
    assert dump(db_url) == escalated


async def test_a_robot_reply_to_mail_not_seen_yet_is_deferred_and_a_dry_run_says_so(
    db_url: str, tmp_path: Path
) -> None:
    await schema.upgrade(db_url)
    before = dump(db_url)
    config = write_config(tmp_path, db_url, "    dry_run: true\n")
    out = mailguard_try(config, ACK)
    assert "decision:    deferred until the watcher records <fb972ab0b6146a4d.1@example.net>" in out
    assert "proxy:       defer: stored and answered 250" in out
    assert "dry run:     on for support" in out
    assert dump(db_url) == before


def test_a_sqlite_file_that_does_not_exist_is_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'mailguard.sqlite3'}"
    out = mailguard_try(write_config(tmp_path, url), ANGRY)
    assert "yet: tried against an empty one" in out and "decision:    frustration" in out
    assert not (tmp_path / "data").exists()


async def test_bad_input_is_named(tmp_path: Path, sqlite_url: str) -> None:
    Path(sqlite_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    await schema.upgrade(sqlite_url, "0001")
    config = write_config(tmp_path, sqlite_url)
    for args, problem in (
        ((ANGRY,), "the database is at revision 0001"),
        ((tmp_path / "missing.eml",), "cannot read"),
        ((ANGRY, "--mailbox", "sales"), "--mailbox sales: no such mailbox (known: support)"),
    ):
        done = run_try(config, *args)
        assert done.returncode == 1, done
        assert problem in done.stderr
