"""Helpers for IMAP tests on the Dovecot fixture: kick, restart, UIDVALIDITY change, config."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from mailguard.config.model import Config, parse_config
from mailguard.imap.connection import ConnectParams, ImapConnection
from tests.dovecot.fixture import (
    PASSWORDS,
    START_SCRIPT,
    STOP_SCRIPT,
    SUPPORT,
    Dovecot,
    _privilege_drop,
)

OWN_DOMAIN = "example.test"


def doveadm(dovecot: Dovecot, *args: str) -> str:
    """Run doveadm against the instance (as its user); returns stdout."""
    binary = shutil.which("doveadm") or "/usr/bin/doveadm"
    done = subprocess.run(
        [*_privilege_drop(), binary, "-c", str(dovecot.config), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(f"doveadm {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def kick(dovecot: Dovecot, user: str = SUPPORT) -> None:
    """Disconnect every IMAP session of ``user`` (``doveadm kick``)."""
    doveadm(dovecot, "kick", user)


def restart(dovecot: Dovecot) -> Dovecot:
    """Stop the instance hard and start it again on the same ports and mail directory."""
    subprocess.run(["bash", str(STOP_SCRIPT), str(dovecot.base), "--fast"], check=True, timeout=30)
    for _ in range(50):
        done = subprocess.run(
            ["bash", str(START_SCRIPT), str(dovecot.base), str(dovecot.port_base)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode == 0:
            return Dovecot(dovecot.base, dovecot.port_base, int(done.stdout.strip()))
        time.sleep(0.1)
    raise RuntimeError(f"restart failed: {done.stderr}")


def change_uidvalidity(dovecot: Dovecot, folder: str = "INBOX", user: str = SUPPORT) -> None:
    """Give ``folder`` a new UIDVALIDITY, as a server restore or migration would."""
    status = doveadm(dovecot, "-f", "flow", "mailbox", "status", "-u", user, "uidvalidity", folder)
    current = int(status.split("=", 1)[1])
    doveadm(dovecot, "mailbox", "update", "-u", user, "--uid-validity", str(current + 7), folder)


def imap_params(dovecot: Dovecot, user: str = SUPPORT) -> ConnectParams:
    return ConnectParams(
        host=dovecot.host,
        port=dovecot.imaps_port,
        tls="implicit",
        user=user,
        password=PASSWORDS[user],
        ca_file=str(dovecot.cafile),
        timeout=5.0,
    )


async def open_imap(dovecot: Dovecot, user: str = SUPPORT) -> ImapConnection:
    return await ImapConnection.open(imap_params(dovecot, user))


def mailguard_config(
    dovecot: Dovecot, data_dir: Path, *, extra_imap: str = "", top: str = ""
) -> Config:
    """A config guarding support@ on the instance, polling fast for tests."""
    text = f"""
data_dir: {data_dir}
{top}
company:
  domains: [{OWN_DOMAIN}]
mailboxes:
  - name: support
    addresses: [{SUPPORT}]
    imap:
      host: {dovecot.host}
      port: {dovecot.imaps_port}
      tls: implicit
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
      password: {PASSWORDS[SUPPORT]}
      poll_interval: 0.3s
      command_timeout: 5s
      reconnect_max: 1s
{extra_imap}
"""
    return parse_config(text, "test.yaml", env={})


async def folder_messages(dovecot: Dovecot, folder: str) -> list[dict[str, Any]]:
    """Each message of ``folder``: its Message-ID, subject, flags (not marking anything seen)."""
    from email import message_from_bytes

    conn = await open_imap(dovecot)
    try:
        await conn.select(folder)
        uids = await conn.search("ALL")
        found: list[dict[str, Any]] = []
        if not uids:
            return found
        async for batch in conn.fetch(uids, "BODY.PEEK[HEADER]"):
            for uid, raw in batch:
                msg = message_from_bytes(raw)
                found.append(
                    {
                        "uid": uid,
                        "message_id": str(msg["Message-ID"] or "").strip("<>"),
                        "subject": str(msg["Subject"] or ""),
                        "from": str(msg["From"] or ""),
                        "note": msg["X-Mailguard-Note"] is not None,
                    }
                )
        for entry in found:
            flags = await conn.uid("FETCH", str(entry["uid"]), "(FLAGS)")
            entry["flags"] = b" ".join(bytes(x) for x in flags.lines[:-1]).decode()
        return found
    finally:
        await conn.close()
