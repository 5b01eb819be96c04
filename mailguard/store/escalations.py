"""Escalation writes of a unit of work or batch: open, link, notify, resolve.

A unit of work (and a batch on a database that already held data) writes them at
once, selecting open escalations by customer in SQL. A batch on a fresh database knows
every escalation it opened, so it allocates their ids, keeps the open ones per customer
in memory and buffers everything for :meth:`Escalations.flush`: an audit that opens
thousands of escalations then spends no round trip on them per event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from mailguard.engine.ports import EscalationOpen
from mailguard.store import sql


class Escalations:
    """Writes escalations for one :class:`~mailguard.store.work.Work`."""

    def __init__(
        self, conn: sql.Db, statements: sql.Statements, *, buffered: bool, next_id: int
    ) -> None:
        self._conn = conn
        self._sql = statements
        self._buffered = buffered
        self._next_id = next_id
        # link key -> id of the latest escalation opened with it by this work.
        self._links: dict[str, int] = {}
        # Buffered mode only: open escalation ids per customer id, rows not yet inserted
        # (by id, so a later notify or resolve can still change them) and updates of
        # rows already inserted.
        self._open: dict[int, list[int]] = {}
        self._unwritten: dict[int, dict[str, Any]] = {}
        self._link_updates: list[dict[str, Any]] = []
        self._notify_updates: list[dict[str, Any]] = []
        self._resolve_updates: list[dict[str, Any]] = []

    async def open(self, opening: EscalationOpen, customer_id: int, thread_id: int | None) -> None:
        """Open an escalation and link it to the latest one with the same link key."""
        partner = await self._partner(opening.link_key)
        row = sql.escalation_row(opening, customer_id, thread_id, partner)
        if self._buffered:
            new_id = self._next_id
            self._next_id += 1
            self._unwritten[new_id] = {"id": new_id, **row}
            self._open.setdefault(customer_id, []).append(new_id)
        else:
            new_id = (await self._conn.execute(self._sql.insert_escalation, row)).scalar_one()
        if opening.link_key is not None:
            self._links[opening.link_key] = new_id
        if partner is not None:
            # Point the earlier escalation back at this one (unless it is linked
            # already) once both rows exist.
            link = {"b_id": partner, "b_link": new_id}
            if self._buffered:
                self._link_updates.append(link)
            else:
                await self._conn.execute(self._sql.link_back, link)

    async def resolve(self, customer_id: int, at: datetime, by: str) -> None:
        """Resolve every open escalation of the customer."""
        if not self._buffered:
            params = {"b_customer": customer_id, "b_at": at, "b_by": by}
            await self._conn.execute(self._sql.resolve, params)
            return
        for esc_id in self._open.pop(customer_id, []):
            row = self._unwritten.get(esc_id)
            if row is not None:
                row["resolved_at"], row["resolved_by"] = at, by
            else:
                self._resolve_updates.append({"b_id": esc_id, "b_at": at, "b_by": by})

    async def notify(self, customer_id: int, level: str, at: datetime) -> None:
        """Record a (re-)notification on every open escalation of the customer."""
        if not self._buffered:
            params = {"b_customer": customer_id, "b_level": level, "b_at": at}
            await self._conn.execute(self._sql.notify, params)
            return
        for esc_id in self._open.get(customer_id, []):
            row = self._unwritten.get(esc_id)
            if row is not None:
                row["notify_level"], row["last_notified_at"] = level, at
            else:
                self._notify_updates.append({"b_id": esc_id, "b_level": level, "b_at": at})

    async def flush(self) -> None:
        """Write buffered escalations and updates (after their customers and threads)."""
        if not self._unwritten and not (
            self._link_updates or self._notify_updates or self._resolve_updates
        ):
            return
        await sql.executemany(
            self._conn, self._sql.insert_escalations, list(self._unwritten.values())
        )
        if self._unwritten and self._conn.dialect.name == "postgresql":
            # The batch chose these ids itself; move the sequence past them.
            await self._conn.execute(
                text("SELECT setval(pg_get_serial_sequence('escalations', 'id'), :v, false)"),
                {"v": self._next_id},
            )
        self._unwritten.clear()
        # Notifications only ever reach open escalations and resolving closes them, so
        # applying every notify before every resolve keeps the order that matters.
        for statement, rows in (
            (self._sql.link_back, self._link_updates),
            (self._sql.notify_by_id, self._notify_updates),
            (self._sql.resolve_by_id, self._resolve_updates),
        ):
            await sql.executemany(self._conn, statement, rows)
            rows.clear()

    async def _partner(self, link_key: str | None) -> int | None:
        if link_key is None:
            return None
        partner = self._links.get(link_key)
        if partner is not None or self._buffered:
            return partner
        found: int | None = (
            await self._conn.execute(self._sql.link_partner, {"b_key": link_key})
        ).scalar()
        return found
