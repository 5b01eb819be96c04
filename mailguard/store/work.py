"""The unit of work behind :class:`mailguard.engine.ports.UnitOfWork`, for one event or a batch.

One class serves both modes. It keeps what it loaded and wrote in memory (a
:class:`~mailguard.store.cache.WorkCache`) for the life of the transaction (a unit of
work) or the whole replay (a batch), so repeated reads of one customer cost nothing.
The high-volume rows (messages, decisions, thread ids, outbox actions, counter and
state updates) are buffered and written with one executemany per table by
:meth:`Work.flush`: a unit of work's store flushes it once before the commit (every event
of the transaction together), a batch every ``flush_every`` events and commits each flush.

A batch is for offline replay, where nothing else writes the database. It therefore
allocates the ids of new customers and threads itself and buffers those rows too, and
if it starts on an empty database it skips the database for reads entirely: every row
it may need is in its memory. That is what lets an audit replay 100,000 messages on
SQLite at thousands of messages a second. A unit of work, in contrast, inserts
customers with ``ON CONFLICT DO NOTHING`` and row-locks them, because other writers
(the SMTP proxy, the IMAP watcher, other replicas) run at the same time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import Executable, text
from sqlalchemy.ext.asyncio import AsyncConnection

from mailguard.domain.model import Direction
from mailguard.engine.ports import (
    CustomerRef,
    DeferredMessage,
    EscalationOpen,
    EventWrite,
    LockedCustomers,
    MessageKey,
    MessageRecord,
    ThreadWrite,
)
from mailguard.store import sql
from mailguard.store.cache import CustomerEntry, ThreadEntry, WorkCache
from mailguard.store.escalations import Escalations
from mailguard.store.locks import lock_in_mailboxes


class Work:
    """Implements :class:`mailguard.engine.ports.UnitOfWork` on one open database connection."""

    def __init__(self, conn: sql.Db, *, buffered: bool = False, flush_every: int = 1) -> None:
        self._conn = conn
        self._sql = sql.statements(conn.dialect.name)
        self._buffered = buffered
        self._flush_every = flush_every
        self._fresh = False
        self._cache = WorkCache()
        self._escalations = Escalations(conn, self._sql, buffered=False, next_id=1)
        self._pending_events = 0
        # A batch commits each flush; a unit of work leaves committing to its store.
        self._commit: Callable[[], Awaitable[None]] | None = None

    @classmethod
    async def batch(cls, conn: AsyncConnection, flush_every: int) -> Work:
        """A buffered work for a replay; it must be the database's only writer."""
        work = cls(conn, buffered=True, flush_every=flush_every)
        work._commit = conn.commit
        max_customer, max_thread, max_escalation = (await conn.execute(work._sql.max_ids)).one()
        work._cache.next_customer_id = max_customer + 1
        work._cache.next_thread_id = max_thread + 1
        work._fresh = await sql.is_empty(conn)
        # Only a batch that saw an empty database knows every open escalation.
        work._escalations = Escalations(
            conn, work._sql, buffered=work._fresh, next_id=max_escalation + 1
        )
        return work

    # -- reads -------------------------------------------------------------------------

    async def lock_customers(
        self, address: str, mailboxes: Sequence[str], now: datetime
    ) -> LockedCustomers:
        # Ascending (mailbox, address) order: two transactions that lock the same set
        # of rows always queue in the same order and cannot deadlock.
        wanted = sorted(set(mailboxes))
        cached = self._cache.customers
        missing = [mb for mb in wanted if (mb, address) not in cached]
        if len(missing) > 1 and not self._buffered and self._conn.dialect.name == "postgresql":
            for entry in await lock_in_mailboxes(self._conn, address, missing, now):
                self._cache.add_customer(entry)
        for mailbox in wanted:
            await self._customer(mailbox, address, now)
        states = {mb: self._cache.customers[(mb, address)].state for mb in mailboxes}
        return LockedCustomers(address=address, states=states)

    async def read_customers(self, address: str, mailboxes: Sequence[str]) -> LockedCustomers:
        """What :meth:`lock_customers` returns, without creating or locking any row."""
        states = {}
        for mailbox in mailboxes:
            entry = await self._existing_customer(mailbox, address)
            states[mailbox] = entry.state if entry is not None else None
        return LockedCustomers(address=address, states=states)

    async def is_recorded(self, key: MessageKey) -> bool:
        if self._cache.is_recorded(key.mailbox, key.message_id, key.direction.value):
            return True
        if self._fresh:
            return False
        params = {
            "b_mailbox": key.mailbox,
            "b_message_id": key.message_id,
            "b_direction": key.direction,
        }
        return (await self._conn.execute(self._sql.is_recorded, params)).first() is not None

    async def is_seen(self, mailbox: str, message_id: str) -> bool:
        if self._cache.is_recorded(mailbox, message_id, "in") or self._cache.is_recorded(
            mailbox, message_id, "out"
        ):
            return True
        if self._fresh:
            return False
        params = {"b_mailbox": mailbox, "b_message_id": message_id}
        return (await self._conn.execute(self._sql.is_seen, params)).first() is not None

    async def is_deferred(self, key: MessageKey) -> bool:
        params = {
            "b_mailbox": key.mailbox,
            "b_message_id": key.message_id,
            "b_direction": key.direction,
        }
        return (await self._conn.execute(self._sql.is_deferred, params)).first() is not None

    async def defer(self, deferred: DeferredMessage) -> None:
        # Written at once, not buffered: the proxy answers 250 after the commit, and only
        # for what the database holds.
        await self._conn.execute(self._sql.insert_deferred, sql.deferred_row(deferred))

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
        wanted = list(dict.fromkeys(message_ids))
        indexed = self._cache.ids.get(entry.id, {})
        by_id = {mid: indexed[mid] for mid in wanted if mid in indexed}
        by_subject = [
            th
            for th in self._cache.by_subject.get((entry.id, subject_key), ())
            if th.last_activity >= active_since
        ]
        if not self._fresh and (wanted or subject_key):
            # One round trip for both lookups; the subject's row comes with a NULL id.
            params: dict[str, object] = {"b_customer": entry.id, "b_ids": wanted}
            statement: Executable = self._sql.threads_by_ids
            if subject_key:
                params |= {"b_subject": subject_key, "b_since": active_since}
                statement = self._sql.threads_by_ids_or_subject
                if not wanted:
                    statement = self._sql.thread_by_subject_row
            for row in await self._conn.execute(statement, params):
                thread = self._cache.adopt_thread(ThreadEntry.from_row(row[1:]))
                if row[0] is None:
                    by_subject.append(thread)
                else:
                    # The table is the authority: an id this work indexed in memory may
                    # have lost to an older row (ON CONFLICT DO NOTHING) at flush.
                    by_id[row[0]] = thread
        if by_id:
            return max(by_id.values(), key=_recency).root
        if not subject_key or not by_subject:
            return None
        return max(by_subject, key=_recency).root

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
            self._cache.record(key.mailbox, key.message_id, key.direction.value)
        if write.thread is not None:
            await self._apply_thread(write.thread)
        if message is not None:
            await self._record_message(message, inserted)
        await self._apply_decision_effects(write)
        self._pending_events += 1
        # A unit of work writes its buffered rows once, when its store commits it.
        if self._buffered and self._pending_events >= self._flush_every:
            await self.flush()
            # A batch commits what it flushed: an exception later loses only the rest.
            if self._commit is not None:
                await self._commit()
        return True

    async def _apply_decision_effects(self, write: EventWrite) -> None:
        at = write.decision.at
        for state in write.states:
            entry = await self._customer(state.customer.mailbox, state.customer.address, at)
            entry.state = state.state
            entry.next_due = state.next_due
            entry.last_seen = at
            self._cache.customer_changed(entry)
        for resolve in write.resolved:
            await self._resolve(resolve.customer, resolve.resolved_at, resolve.resolved_by)
        for opening in write.opened:
            await self._open(opening)
        for notify in write.notified:
            entry = await self._customer(notify.customer.mailbox, notify.customer.address, at)
            await self._escalations.notify(entry.id, notify.level, notify.at)
        for action in write.actions:
            if action.idempotency_key not in self._cache.action_keys:
                self._cache.action_keys.add(action.idempotency_key)
                self._cache.actions.append(sql.action_row(action))
        if write.held is not None:
            self._cache.held.append(sql.held_row(write.held))
        customer_id = None
        if write.decision.customer is not None:
            ref = write.decision.customer
            customer_id = (await self._customer(ref.mailbox, ref.address, at)).id
        self._cache.decisions.append(sql.decision_row(write.decision, customer_id))

    async def flush(self) -> None:
        """Write every buffered row and update, parents first; the caller commits.

        A batch flushes every ``flush_every`` events; a unit of work's store flushes it
        once, before committing it, so several events' rows share one statement.
        """
        await self._flush_new_rows()
        await self._escalations.flush()
        cache = self._cache
        await sql.executemany(
            self._conn,
            self._sql.update_customers,
            [c.update_params() for c in cache.changed_customers.values()],
        )
        await sql.executemany(
            self._conn,
            self._sql.update_threads,
            [{"b_id": th.id, "b_last": th.last_activity} for th in cache.changed_threads.values()],
        )
        for statement, rows in (
            (self._sql.insert_thread_ids, cache.thread_ids),
            (self._sql.insert_messages, cache.messages),
            (self._sql.insert_actions, cache.actions),
            (self._sql.insert_decisions, cache.decisions),
            (self._sql.insert_held, cache.held),
        ):
            await sql.executemany(self._conn, statement, rows)
        cache.clear_buffers()
        self._pending_events = 0

    async def _flush_new_rows(self) -> None:
        """Insert the customers and threads a batch created, which other rows refer to."""
        cache = self._cache
        if not (cache.new_customers or cache.new_threads):
            return
        if cache.new_customers:
            await sql.executemany(self._conn, self._sql.insert_customers, cache.new_customers)
        if cache.new_threads:
            await sql.executemany(self._conn, self._sql.insert_threads, cache.new_threads)
        cache.new_customers.clear()
        cache.new_threads.clear()
        if self._conn.dialect.name == "postgresql":
            # The batch chose these ids itself; move the sequences past them so the
            # daemon's later inserts do not collide.
            for table, next_id in (
                ("customers", cache.next_customer_id),
                ("threads", cache.next_thread_id),
            ):
                await self._conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :v, false)"),
                    {"v": next_id},
                )

    # -- customers -----------------------------------------------------------------------

    async def _customer(self, mailbox: str, address: str, now: datetime) -> CustomerEntry:
        """The customer's entry, creating and (in a unit of work) row-locking it first."""
        entry = self._cache.customers.get((mailbox, address))
        if entry is not None:
            return entry
        if self._buffered:
            entry = await self._existing_customer(mailbox, address)
            if entry is None:
                entry = self._cache.new_customer(mailbox, address, now)
            return entry
        params = {"b_mailbox": mailbox, "b_address": address}
        # Lock an existing row first and insert only when there is none: an INSERT …
        # ON CONFLICT DO NOTHING on every event would burn a sequence value per event
        # on PostgreSQL. A concurrent insert of the same customer makes ours do
        # nothing; the second SELECT … FOR UPDATE then waits for and locks that row.
        row = (await self._conn.execute(self._sql.lock_customer, params)).first()
        if row is None:
            row_values = CustomerEntry.insert_values(mailbox, address, now)
            new_id = (await self._conn.execute(self._sql.insert_customer, row_values)).scalar()
            if new_id is not None:
                # A row this transaction inserted is locked by it until commit.
                entry = CustomerEntry.new(new_id, mailbox, address, now)
                self._cache.add_customer(entry)
                return entry
            row = (await self._conn.execute(self._sql.lock_customer, params)).one()
        entry = CustomerEntry.from_row(row)
        self._cache.add_customer(entry)
        return entry

    async def _existing_customer(self, mailbox: str, address: str) -> CustomerEntry | None:
        entry = self._cache.customers.get((mailbox, address))
        if entry is not None or self._fresh:
            return entry
        params = {"b_mailbox": mailbox, "b_address": address}
        row = (await self._conn.execute(self._sql.select_customer, params)).first()
        if row is None:
            return None
        entry = CustomerEntry.from_row(row)
        self._cache.add_customer(entry)
        return entry

    # -- threads -------------------------------------------------------------------------

    async def _thread(self, customer_id: int, root: str) -> ThreadEntry | None:
        entry = self._cache.threads.get((customer_id, root))
        if entry is not None or self._fresh:
            return entry
        params = {"b_customer": customer_id, "b_root": root}
        row = (await self._conn.execute(self._sql.thread_by_root, params)).first()
        return None if row is None else self._cache.adopt_thread(ThreadEntry.from_row(row))

    async def _apply_thread(self, write: ThreadWrite) -> None:
        customer = await self._customer(write.mailbox, write.customer, write.at)
        if self._buffered:
            entry = await self._thread(customer.id, write.root)
        else:
            # A unit of work knows the threads find_thread saw; any other root is new
            # unless the insert below says otherwise.
            entry = self._cache.threads.get((customer.id, write.root))
        if entry is None:
            entry = await self._create_thread(customer.id, write)
        elif write.at > entry.last_activity:
            entry.last_activity = write.at
            self._cache.thread_changed(entry)
        indexed = self._cache.ids.setdefault(customer.id, {})
        for mid in dict.fromkeys((write.root, *write.message_ids)):
            if mid not in indexed:
                # First writer wins, in memory as in the table (ON CONFLICT DO NOTHING).
                indexed[mid] = entry
                self._cache.thread_ids.append(
                    {"customer_id": customer.id, "message_id": mid, "thread_id": entry.id}
                )

    async def _create_thread(self, customer_id: int, write: ThreadWrite) -> ThreadEntry:
        values = {
            "customer_id": customer_id,
            "root_message_id": write.root,
            "subject_key": write.subject_key,
            "created_at": write.at,
            "last_activity_at": write.at,
        }
        if self._buffered:
            new_id: int | None = self._cache.allocate_thread(values)
        else:
            new_id = (await self._conn.execute(self._sql.insert_new_thread, values)).scalar()
        if new_id is None:
            # The thread exists after all (its ids were purged, or another writer made
            # it): touch that row like any known thread.
            row = await self._conn.execute(
                self._sql.thread_by_root, {"b_customer": customer_id, "b_root": write.root}
            )
            entry = self._cache.adopt_thread(ThreadEntry.from_row(row.one()))
            if write.at > entry.last_activity:
                entry.last_activity = write.at
                self._cache.thread_changed(entry)
            return entry
        return self._cache.adopt_thread(
            ThreadEntry(new_id, customer_id, write.root, write.subject_key, write.at)
        )

    # -- messages ------------------------------------------------------------------------

    async def _message_ids(
        self, message: MessageRecord, *, known: bool = False
    ) -> tuple[int | None, int | None]:
        """The customer and thread ids of the message's row (``known``: without a query)."""
        if message.customer is None:
            return None, None
        customer = await self._customer(message.key.mailbox, message.customer, message.at)
        thread = None
        if message.thread_root is not None:
            key = (customer.id, message.thread_root)
            thread = self._cache.threads.get(key) if known else await self._thread(*key)
        return customer.id, None if thread is None else thread.id

    async def _insert_message_now(self, message: MessageRecord) -> tuple[int, int | None] | None:
        """Insert the message row now; its (id, thread id), or None for a duplicate.

        A thread this event is about to create has no id yet: the row gets it afterwards.
        """
        customer_id, thread_id = await self._message_ids(message, known=True)
        row = sql.message_row(message, customer_id, thread_id)
        pk = (await self._conn.execute(self._sql.insert_message, row)).scalar()
        return None if pk is None else (pk, thread_id)

    async def _record_message(
        self, message: MessageRecord, inserted: tuple[int, int | None] | None
    ) -> None:
        """Queue (batch) or complete (unit of work) the message row; count it."""
        customer_id, thread_id = await self._message_ids(message)
        if inserted is None:
            self._cache.messages.append(sql.message_row(message, customer_id, thread_id))
        elif thread_id != inserted[1]:
            # The message starts a thread this very event created after inserting it.
            params = {"b_id": inserted[0], "b_thread": thread_id}
            await self._conn.execute(self._sql.set_message_thread, params)
        if message.customer is None:
            return
        entry = self._cache.customers[(message.key.mailbox, message.customer)]
        entry.count(inbound=message.key.direction is Direction.INBOUND, automated=message.automated)
        entry.last_seen = max(entry.last_seen, message.at)
        self._cache.customer_changed(entry)

    # -- escalations ---------------------------------------------------------------------

    async def _resolve(self, customer: CustomerRef, at: datetime, by: str) -> None:
        entry = await self._customer(customer.mailbox, customer.address, at)
        if not entry.escalated:
            return  # the summary column says there is nothing open to resolve
        await self._escalations.resolve(entry.id, at, by)
        entry.escalated = False
        self._cache.customer_changed(entry)

    async def _open(self, opening: EscalationOpen) -> None:
        ref = opening.customer
        entry = await self._customer(ref.mailbox, ref.address, opening.opened_at)
        thread = None
        if opening.thread_root is not None:
            thread = await self._thread(entry.id, opening.thread_root)
        if not self._fresh:
            # Written at once, the row needs the customer and thread rows a batch may
            # still be holding back.
            await self._flush_new_rows()
        await self._escalations.open(opening, entry.id, None if thread is None else thread.id)
        entry.escalated = True
        entry.escalations += 1
        self._cache.customer_changed(entry)


def _recency(thread: ThreadEntry) -> tuple[datetime, int]:
    # Latest activity first; on a tie the newer thread, as the SQL lookup orders.
    return thread.last_activity, thread.id
