"""The unit of work behind :class:`mailguard.ports.UnitOfWork`, for one event or a batch.

One class serves both modes. It keeps what it loaded and wrote in memory for the life
of the transaction (a unit of work) or the whole replay (a batch), so repeated reads
of one customer's rows cost nothing. Writes that later rows refer to by id (customers,
threads, escalations) go to the database at once; the high-volume rows (messages,
decisions, thread ids, outbox actions, counter and state updates) are buffered and
written with one executemany per table by :meth:`Work.flush`. A unit of work flushes
after every ``apply``; a batch every ``flush_every`` events, which is what makes an
offline replay of 100,000 messages on SQLite run at thousands of messages a second.

A batch that starts on an empty database (``fresh``) knows that every row it may need
is in its memory, and skips the database for reads entirely.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from mailguard.domain.model import Direction
from mailguard.ports import (
    CustomerRef,
    EscalationOpen,
    EventWrite,
    HeldMessage,
    LockedCustomers,
    MessageKey,
    MessageRecord,
    OutboxAction,
    ThreadWrite,
)
from mailguard.store import tables as t
from mailguard.store.cache import CustomerEntry, ThreadEntry, WorkCache


def insert_ignore(conn: AsyncConnection, table: Table, *index_elements: str) -> Any:
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING`` for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


class Work:
    """Implements :class:`mailguard.ports.UnitOfWork` on one open database transaction."""

    def __init__(
        self, conn: AsyncConnection, *, buffered: bool, fresh: bool, flush_every: int = 1
    ) -> None:
        self._conn = conn
        self._buffered = buffered
        self._flush_every = flush_every
        # Only a batch may trust its memory to be the whole database.
        self._fresh = fresh and buffered
        self._cache = WorkCache()
        self._pending_events = 0

    @property
    def pending_events(self) -> int:
        """Events applied since the last flush."""
        return self._pending_events

    # -- reads -------------------------------------------------------------------------

    async def lock_customers(
        self, address: str, mailboxes: Sequence[str], now: datetime
    ) -> LockedCustomers:
        # Ascending (mailbox, address) order: two transactions that lock the same set
        # of rows always queue in the same order and cannot deadlock.
        for mailbox in sorted(set(mailboxes)):
            await self._customer(mailbox, address, now)
        states = {mb: self._cache.customers[(mb, address)].state for mb in mailboxes}
        return LockedCustomers(address=address, states=states)

    async def is_recorded(self, key: MessageKey) -> bool:
        if (key.mailbox, key.message_id, key.direction.value) in self._cache.recorded:
            return True
        if self._fresh:
            return False
        row = await self._conn.execute(
            select(t.messages.c.id)
            .where(
                t.messages.c.mailbox == key.mailbox,
                t.messages.c.message_id == key.message_id,
                t.messages.c.direction == key.direction,
            )
            .limit(1)
        )
        return row.first() is not None

    async def find_thread(
        self,
        customer: CustomerRef,
        message_ids: Sequence[str],
        subject_key: str,
        active_since: datetime,
    ) -> str | None:
        entry = await self._existing_customer(customer.mailbox, customer.address)
        if entry is None:
            return None
        by_id = await self._threads_by_ids(entry.id, message_ids)
        if by_id:
            return max(by_id, key=lambda th: th.last_activity).root
        if not subject_key:
            return None
        candidates = [
            th
            for th in self._cache.by_subject.get((entry.id, subject_key), ())
            if th.last_activity >= active_since
        ]
        if not self._fresh:
            candidates.extend(await self._db_thread_by_subject(entry.id, subject_key, active_since))
        if not candidates:
            return None
        return max(candidates, key=lambda th: th.last_activity).root

    # -- writes ------------------------------------------------------------------------

    async def apply(self, write: EventWrite) -> bool:
        message = write.message
        inserted: tuple[int, int | None] | None = None
        if message is not None:
            if self._buffered:
                if await self.is_recorded(message.key):
                    return False
            else:
                # Insert first: a duplicate must change nothing, and for mail without a
                # customer there is no row lock that would have made is_recorded final.
                inserted = await self._insert_message_now(message)
                if inserted is None:
                    return False
            key = message.key
            self._cache.recorded.add((key.mailbox, key.message_id, key.direction.value))
        if write.thread is not None:
            await self._apply_thread(write.thread)
        if message is not None:
            await self._record_message(message, inserted)
        await self._apply_decision_effects(write)
        self._pending_events += 1
        if not self._buffered:
            await self.flush()
        elif self._pending_events >= self._flush_every:
            await self.flush()
            # A batch commits what it flushed: an exception later loses only the rest.
            await self._conn.commit()
        return True

    async def _apply_decision_effects(self, write: EventWrite) -> None:
        at = write.decision.at
        for state in write.states:
            entry = await self._customer(state.customer.mailbox, state.customer.address, at)
            entry.state = state.state
            entry.next_due = state.next_due
            entry.last_seen = at
            entry.dirty = True
        for resolve in write.resolved:
            await self._resolve(resolve.customer, resolve.resolved_at, resolve.resolved_by)
        for opening in write.opened:
            await self._open(opening)
        for notify in write.notified:
            await self._notify(notify.customer, notify.level, notify.at)
        for action in write.actions:
            self._enqueue(action)
        if write.held is not None:
            await self._hold(write.held)
        await self._log_decision(write)

    def _enqueue(self, action: OutboxAction) -> None:
        if action.idempotency_key in self._cache.action_keys:
            return
        self._cache.action_keys.add(action.idempotency_key)
        self._cache.actions.append(
            {
                "kind": action.kind,
                "target": action.target,
                "idempotency_key": action.idempotency_key,
                "payload": action.payload,
                "state": "pending",
                "attempts": 0,
                "created_at": action.created_at,
                "updated_at": action.created_at,
            }
        )

    async def flush(self) -> None:
        """Write every buffered row and update; the caller commits."""
        cache = self._cache
        dirty = [c for c in cache.customers.values() if c.dirty]
        if dirty:
            await self._conn.execute(_UPDATE_CUSTOMER, [c.update_params() for c in dirty])
            for c in dirty:
                c.dirty = False
        touched = [th for th in cache.threads.values() if th.dirty]
        if touched:
            await self._conn.execute(
                _UPDATE_THREAD, [{"b_id": th.id, "b_last": th.last_activity} for th in touched]
            )
            for th in touched:
                th.dirty = False
        if cache.thread_ids:
            stmt = insert_ignore(self._conn, t.thread_message_ids, "customer_id", "message_id")
            await self._conn.execute(stmt, cache.thread_ids)
        if cache.messages:
            await self._conn.execute(t.messages.insert(), cache.messages)
        if cache.actions:
            stmt = insert_ignore(self._conn, t.outbox_actions, "idempotency_key")
            await self._conn.execute(stmt, cache.actions)
        if cache.decisions:
            await self._conn.execute(t.decisions.insert(), cache.decisions)
        cache.clear_buffers()
        self._pending_events = 0

    # -- customers -----------------------------------------------------------------------

    async def _customer(self, mailbox: str, address: str, now: datetime) -> CustomerEntry:
        """The customer's entry, creating and (on PostgreSQL) row-locking it on first use."""
        entry = self._cache.customers.get((mailbox, address))
        if entry is not None:
            return entry
        inserted = await self._conn.execute(
            insert_ignore(self._conn, t.customers, "mailbox", "address")
            .values(
                mailbox=mailbox,
                address=address,
                state="ok",
                human_in=0,
                automated_in=0,
                human_out=0,
                automated_out=0,
                escalations=0,
                first_seen_at=now,
                last_seen_at=now,
            )
            .returning(t.customers.c.id)
        )
        new_id = inserted.scalar_one_or_none()
        if new_id is not None:
            # A row this transaction inserted is locked by it until commit.
            entry = CustomerEntry.new(new_id, mailbox, address, now)
        else:
            entry = await self._select_customer(mailbox, address, lock=True)
            if entry is None:  # pragma: no cover - the insert conflicted, so it exists
                raise LookupError(f"customer {mailbox}/{address} vanished")
        self._cache.add_customer(entry)
        return entry

    async def _existing_customer(self, mailbox: str, address: str) -> CustomerEntry | None:
        entry = self._cache.customers.get((mailbox, address))
        if entry is not None or self._fresh:
            return entry
        entry = await self._select_customer(mailbox, address, lock=False)
        if entry is not None:
            self._cache.add_customer(entry)
        return entry

    async def _select_customer(
        self, mailbox: str, address: str, *, lock: bool
    ) -> CustomerEntry | None:
        stmt = select(*CustomerEntry.columns()).where(
            t.customers.c.mailbox == mailbox, t.customers.c.address == address
        )
        if lock:
            # SELECT … FOR UPDATE serialises events for one customer on PostgreSQL;
            # SQLite renders no lock clause: its writer holds the database lock.
            stmt = stmt.with_for_update()
        row = (await self._conn.execute(stmt)).first()
        return None if row is None else CustomerEntry.from_row(row)

    # -- threads -------------------------------------------------------------------------

    async def _threads_by_ids(
        self, customer_id: int, message_ids: Sequence[str]
    ) -> list[ThreadEntry]:
        wanted = list(dict.fromkeys(message_ids))
        roots: dict[str, str] = {}
        for mid in wanted:
            root = self._cache.ids.get((customer_id, mid))
            if root is not None:
                roots[mid] = root
        if wanted and not self._fresh:
            rows = await self._conn.execute(
                select(t.thread_message_ids.c.message_id, *ThreadEntry.columns())
                .join(t.threads, t.thread_message_ids.c.thread_id == t.threads.c.id)
                .where(
                    t.thread_message_ids.c.customer_id == customer_id,
                    t.thread_message_ids.c.message_id.in_(wanted),
                )
            )
            for row in rows:
                # The table is the authority: an id this work indexed in memory may
                # have lost to an older row (ON CONFLICT DO NOTHING) at flush.
                entry = self._cache.adopt_thread(ThreadEntry.from_row(row[1:]))
                roots[row[0]] = entry.root
        threads = {root: self._cache.threads[(customer_id, root)] for root in roots.values()}
        return list(threads.values())

    async def _db_thread_by_subject(
        self, customer_id: int, subject_key: str, since: datetime
    ) -> list[ThreadEntry]:
        row = (
            await self._conn.execute(
                select(*ThreadEntry.columns())
                .where(
                    t.threads.c.customer_id == customer_id,
                    t.threads.c.subject_key == subject_key,
                    t.threads.c.last_activity_at >= since,
                )
                .order_by(t.threads.c.last_activity_at.desc(), t.threads.c.id.desc())
                .limit(1)
            )
        ).first()
        return [] if row is None else [self._cache.adopt_thread(ThreadEntry.from_row(row))]

    async def _thread(self, customer_id: int, root: str) -> ThreadEntry | None:
        entry = self._cache.threads.get((customer_id, root))
        if entry is not None or self._fresh:
            return entry
        row = (
            await self._conn.execute(
                select(*ThreadEntry.columns()).where(
                    t.threads.c.customer_id == customer_id, t.threads.c.root_message_id == root
                )
            )
        ).first()
        return None if row is None else self._cache.adopt_thread(ThreadEntry.from_row(row))

    async def _apply_thread(self, write: ThreadWrite) -> None:
        customer = await self._customer(write.mailbox, write.customer, write.at)
        entry = await self._thread(customer.id, write.root)
        if entry is None:
            new_id = (
                await self._conn.execute(
                    t.threads.insert()
                    .values(
                        customer_id=customer.id,
                        root_message_id=write.root,
                        subject_key=write.subject_key,
                        created_at=write.at,
                        last_activity_at=write.at,
                    )
                    .returning(t.threads.c.id)
                )
            ).scalar_one()
            entry = self._cache.adopt_thread(
                ThreadEntry(new_id, customer.id, write.root, write.subject_key, write.at)
            )
        elif write.at > entry.last_activity:
            entry.last_activity = write.at
            entry.dirty = True
        for mid in dict.fromkeys((write.root, *write.message_ids)):
            if (customer.id, mid) not in self._cache.ids:
                # First writer wins, in memory as in the table (ON CONFLICT DO NOTHING).
                self._cache.ids[(customer.id, mid)] = write.root
                self._cache.thread_ids.append(
                    {"customer_id": customer.id, "message_id": mid, "thread_id": entry.id}
                )

    # -- messages ------------------------------------------------------------------------

    async def _message_ids(self, message: MessageRecord) -> tuple[int | None, int | None]:
        if message.customer is None:
            return None, None
        customer = await self._customer(message.key.mailbox, message.customer, message.at)
        thread = None
        if message.thread_root is not None:
            thread = await self._thread(customer.id, message.thread_root)
        return customer.id, None if thread is None else thread.id

    def _message_row(
        self, message: MessageRecord, customer_id: int | None, thread_id: int | None
    ) -> dict[str, Any]:
        return {
            "mailbox": message.key.mailbox,
            "message_id": message.key.message_id,
            "direction": message.key.direction,
            "source": message.source,
            "customer_id": customer_id,
            "thread_id": thread_id,
            "kind": message.kind,
            "automated": message.automated,
            "evidence": message.evidence,
            "frustration": message.frustration,
            "sender": message.sender,
            "subject": message.subject,
            "sent_at": message.at,
            "size": message.size,
        }

    async def _insert_message_now(self, message: MessageRecord) -> tuple[int, int | None] | None:
        """Insert the message row now; its (id, thread id), or None for a duplicate."""
        customer_id, thread_id = await self._message_ids(message)
        result = await self._conn.execute(
            insert_ignore(self._conn, t.messages, "mailbox", "message_id", "direction")
            .values(self._message_row(message, customer_id, thread_id))
            .returning(t.messages.c.id)
        )
        pk = result.scalar_one_or_none()
        return None if pk is None else (pk, thread_id)

    async def _record_message(
        self, message: MessageRecord, inserted: tuple[int, int | None] | None
    ) -> None:
        """Queue (batch) or complete (unit of work) the message row; count it."""
        customer_id, thread_id = await self._message_ids(message)
        if inserted is None:
            self._cache.messages.append(self._message_row(message, customer_id, thread_id))
        elif thread_id != inserted[1]:
            # The message starts a thread this very event created after inserting it.
            await self._conn.execute(
                update(t.messages).where(t.messages.c.id == inserted[0]).values(thread_id=thread_id)
            )
        if customer_id is None or message.customer is None:
            return
        entry = self._cache.customers[(message.key.mailbox, message.customer)]
        entry.count(inbound=message.key.direction is Direction.INBOUND, automated=message.automated)
        entry.last_seen = max(entry.last_seen, message.at)
        entry.dirty = True

    # -- escalations, held mail, decisions -----------------------------------------------

    async def _resolve(self, customer: CustomerRef, at: datetime, by: str) -> None:
        entry = await self._customer(customer.mailbox, customer.address, at)
        if not entry.escalated:
            return  # the summary column says there is nothing open to resolve
        await self._conn.execute(
            update(t.escalations)
            .where(t.escalations.c.customer_id == entry.id, t.escalations.c.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=by)
        )
        entry.escalated = False
        entry.dirty = True

    async def _open(self, opening: EscalationOpen) -> None:
        entry = await self._customer(
            opening.customer.mailbox, opening.customer.address, opening.opened_at
        )
        thread = None
        if opening.thread_root is not None:
            thread = await self._thread(entry.id, opening.thread_root)
        partner = await self._link_partner(opening.link_key)
        new_id = (
            await self._conn.execute(
                t.escalations.insert()
                .values(
                    customer_id=entry.id,
                    thread_id=None if thread is None else thread.id,
                    rule=opening.rule,
                    reason=opening.reason,
                    evidence=opening.evidence,
                    opened_at=opening.opened_at,
                    link_key=opening.link_key,
                    linked_escalation_id=partner,
                    notify_level=opening.notify_level,
                )
                .returning(t.escalations.c.id)
            )
        ).scalar_one()
        if opening.link_key is not None:
            self._cache.links[opening.link_key] = new_id
        if partner is not None:
            # Point the earlier escalation back at this one unless it is linked already.
            await self._conn.execute(
                update(t.escalations)
                .where(
                    t.escalations.c.id == partner,
                    t.escalations.c.linked_escalation_id.is_(None),
                )
                .values(linked_escalation_id=new_id)
            )
        entry.escalated = True
        entry.escalations += 1
        entry.dirty = True

    async def _link_partner(self, link_key: str | None) -> int | None:
        if link_key is None:
            return None
        partner = self._cache.links.get(link_key)
        if partner is not None or self._fresh:
            return partner
        found: int | None = (
            await self._conn.execute(
                select(func.max(t.escalations.c.id)).where(t.escalations.c.link_key == link_key)
            )
        ).scalar_one_or_none()
        return found

    async def _notify(self, customer: CustomerRef, level: str, at: datetime) -> None:
        entry = await self._customer(customer.mailbox, customer.address, at)
        await self._conn.execute(
            update(t.escalations)
            .where(t.escalations.c.customer_id == entry.id, t.escalations.c.resolved_at.is_(None))
            .values(notify_level=level, last_notified_at=at)
        )

    async def _hold(self, held: HeldMessage) -> None:
        await self._conn.execute(
            insert_ignore(self._conn, t.held_messages, "mailbox", "message_id", "direction").values(
                mailbox=held.key.mailbox,
                message_id=held.key.message_id,
                direction=held.key.direction,
                raw=held.raw,
                envelope_sender=held.mail_from,
                envelope_recipients=list(held.rcpt_tos),
                mail_options=list(held.mail_options),
                rcpt_options=list(held.rcpt_options),
                reason=held.reason,
                state="held",
                held_at=held.held_at,
                updated_at=held.held_at,
            )
        )

    async def _log_decision(self, write: EventWrite) -> None:
        decision = write.decision
        customer_id = None
        if decision.customer is not None:
            ref = decision.customer
            customer_id = (await self._customer(ref.mailbox, ref.address, decision.at)).id
        key = decision.message
        mailbox = key.mailbox if key is not None else None
        if mailbox is None and decision.customer is not None:
            mailbox = decision.customer.mailbox
        self._cache.decisions.append(
            {
                "mailbox": mailbox,
                "customer_id": customer_id,
                "message_id": None if key is None else key.message_id,
                "direction": None if key is None else key.direction,
                "rule_hits": decision.rule_hits,
                "explain": decision.explain,
                "decided_at": decision.at,
            }
        )


_UPDATE_CUSTOMER = (
    update(t.customers)
    .where(t.customers.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        human_in=bindparam("b_human_in"),
        automated_in=bindparam("b_automated_in"),
        human_out=bindparam("b_human_out"),
        automated_out=bindparam("b_automated_out"),
        escalations=bindparam("b_escalations"),
        policy_state=bindparam("b_policy_state"),
        next_due=bindparam("b_next_due"),
        last_seen_at=bindparam("b_last_seen"),
    )
)

_UPDATE_THREAD = (
    update(t.threads)
    .where(t.threads.c.id == bindparam("b_id"))
    .values(last_activity_at=bindparam("b_last"))
)
