"""Helpers for IMAP tests on the Dovecot fixture: kick, restart, UIDVALIDITY change, config."""

from __future__ import annotations

import asyncio
import shutil
import smtplib
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from mailguard.app.daemon import utc_now
from mailguard.app.mailwatch import MailWatch
from mailguard.config.model import Config, parse_config
from mailguard.config.settings import engine_settings_of
from mailguard.engine.factory import build_engine
from mailguard.engine.service import Engine
from mailguard.imap.connection import ConnectParams, ImapConnection
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade
from tests.dovecot.fixture import (
    PASSWORDS,
    START_SCRIPT,
    STOP_SCRIPT,
    SUPPORT,
    Dovecot,
    _privilege_drop,
    make_message,
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
    dovecot: Dovecot,
    data_dir: Path,
    *,
    extra_imap: str = "",
    top: str = "",
    tls: str = "implicit",
    poll_interval: str = "0.3s",
    port: int | None = None,
    credentials: str | None = None,
) -> Config:
    """A config guarding support@ on the instance, polling fast for tests.

    ``port`` overrides the instance's (a proxy in front of it); ``credentials`` replaces the
    password line (e.g. ``auth: oauth2`` and its block, indented for the imap section).
    """
    port = port or (dovecot.imaps_port if tls == "implicit" else dovecot.imap_port)
    credentials = credentials or f"      password: {PASSWORDS[SUPPORT]}"
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
      port: {port}
      tls: {tls}
      ca_file: {dovecot.cafile}
      user: {SUPPORT}
{credentials}
      poll_interval: {poll_interval}
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


@dataclass
class Harness:
    """mailguard's mailbox side running in this event loop on a SQLite store."""

    store: SqlStore
    mail: MailWatch
    config: Config
    engine: Engine

    async def decisions(self, message_id: str) -> int:
        return len(await self.store.decisions_for("support", message_id))

    async def processed(self, message_id: str, within: float = 10.0) -> None:
        async def seen() -> bool:
            return await self.decisions(message_id) > 0

        await wait_until(seen, within, f"{message_id} processed")

    async def open_escalations(self) -> int:
        async with self.store.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(t.escalations)
                        .where(t.escalations.c.resolved_at.is_(None))
                    )
                ).scalar_one()
            )

    async def pending_actions(self) -> list[str]:
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(
                select(t.outbox_actions.c.kind).where(t.outbox_actions.c.state == "pending")
            )
            return sorted(str(r[0]) for r in rows)


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_mailguard(config: Config) -> AsyncIterator[Harness]:
    """Migrate the config's database and run watchers and executor until the block ends."""
    await upgrade(config.storage_url)
    store = SqlStore.from_url(config.storage_url)
    engine = build_engine(store, engine_settings_of(config))
    mail = MailWatch(config, store, engine, utc_now, executor_interval=0.2)
    stop = asyncio.Event()
    task = asyncio.create_task(mail.run(stop))
    try:
        yield Harness(store, mail, config, engine)
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 15)
        finally:
            await store.close()


def customer_mail(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str = SUPPORT,
    in_reply_to: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    domain: str = "customer.example",
) -> EmailMessage:
    extra = list(headers)
    if in_reply_to:
        extra += [("In-Reply-To", f"<{in_reply_to}>"), ("References", f"<{in_reply_to}>")]
    msg = make_message(sender=sender, to=to, subject=subject, body=body, headers=extra)
    msg.replace_header("Message-ID", make_msgid(domain=domain))
    msg["Date"] = format_datetime(datetime.now(UTC))
    return msg


def mid(msg: EmailMessage) -> str:
    return str(msg["Message-ID"]).strip("<>")


def ticket_ack(customer: str, answering: EmailMessage, number: int) -> EmailMessage:
    """The helpdesk's automated acknowledgement, as it appears in Sent."""
    return customer_mail(
        SUPPORT,
        f"[Ticket #{number}] {answering['Subject']}",
        "Thank you for contacting us. This is an automated confirmation: your request has "
        f"been received and given ticket number {number}. Please do not reply to this "
        "message.\n",
        to=customer,
        in_reply_to=mid(answering),
        headers=[("Auto-Submitted", "auto-replied")],
        domain=OWN_DOMAIN,
    )


ANGRY = (
    "This is the third time I am writing to you about this and nobody has bothered to\n"
    "answer. You charged my card twice after I had already cancelled. This is\n"
    "unacceptable. If I do not get my money back this week I will cancel everything,\n"
    "dispute the charges with my bank and report you.\n"
)


async def deliver_when_up(dovecot: Dovecot, msg: EmailMessage, sender: str) -> None:
    """Deliver over LMTP, retrying while a just restarted instance is not accepting yet."""
    for _ in range(50):
        try:
            await dovecot.deliver_async(msg, mail_from=sender, rcpt=SUPPORT)
            return
        except (smtplib.SMTPServerDisconnected, ConnectionRefusedError):
            await asyncio.sleep(0.1)
    raise AssertionError("LMTP did not come back")
