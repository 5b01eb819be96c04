"""Helpers for engine tests: a store on a migrated database, message builders, counts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from sqlalchemy import func, select

from mailguard.domain.identity import CompanyIdentity
from mailguard.domain.policy import Policy
from mailguard.engine import factory
from mailguard.engine.factory import EngineSettings
from mailguard.engine.service import Engine
from mailguard.store import tables as t
from mailguard.store.repository import SqlStore
from mailguard.store.schema import upgrade

IDENTITY = CompanyIdentity(
    own_domains=frozenset({"example.com"}),
    own_addresses=frozenset(),
    mailboxes=(
        ("support", frozenset({"support@example.com"})),
        ("vouchers", frozenset({"vouchers@example.com"})),
    ),
)


def build_engine(store: SqlStore, policy: Policy | None = None) -> Engine:
    """The engine with the real parser and classifier, built as the daemon builds it."""
    return factory.build_engine(store, EngineSettings(IDENTITY, policy or Policy()))


@asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[SqlStore]:
    """A store on ``url`` upgraded to the newest schema, closed afterwards."""
    await upgrade(url)
    store = SqlStore.from_url(url)
    try:
        yield store
    finally:
        await store.close()


def mail(
    *,
    sender: str,
    to: str,
    subject: str,
    at: datetime,
    message_id: str | None,
    body: str = "Hello,\n\nplease help.\n",
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain RFC 5322 message."""
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(at)}",
    ]
    if message_id:
        lines.append(f"Message-ID: <{message_id}>")
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body]
    return "\r\n".join(lines).encode("utf-8")


AUTO = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}


async def count(store: SqlStore, table: Any, *where: Any) -> int:
    """Rows in ``table`` matching ``where``."""
    async with store.engine.connect() as conn:
        result = await conn.execute(select(func.count()).select_from(table).where(*where))
        return int(result.scalar_one())


async def rows(store: SqlStore, table: Any, *where: Any) -> list[Any]:
    """Rows of ``table`` matching ``where``, by id."""
    async with store.engine.connect() as conn:
        result = await conn.execute(select(table).where(*where).order_by(table.c.id))
        return list(result)


async def customer_state(store: SqlStore, mailbox: str, address: str) -> dict[str, Any] | None:
    """The saved policy state of one customer."""
    c = t.customers.c
    found = await rows(store, t.customers, c.mailbox == mailbox, c.address == address)
    return found[0].policy_state if found else None
