"""The models' tables as Core :class:`~sqlalchemy.Table` objects, for bulk statements.

The repository writes with Core (executemany, ``ON CONFLICT``) because the ORM unit of
work costs more per row than a 1000 msgs/s replay can afford; these names keep those
statements typed and short.
"""

from __future__ import annotations

from sqlalchemy import Table

from mailguard.store.models import Base

customers: Table = Base.metadata.tables["customers"]
threads: Table = Base.metadata.tables["threads"]
thread_message_ids: Table = Base.metadata.tables["thread_message_ids"]
messages: Table = Base.metadata.tables["messages"]
escalations: Table = Base.metadata.tables["escalations"]
outbox_actions: Table = Base.metadata.tables["outbox_actions"]
held_messages: Table = Base.metadata.tables["held_messages"]
failed_messages: Table = Base.metadata.tables["failed_messages"]
decisions: Table = Base.metadata.tables["decisions"]
sync_checkpoints: Table = Base.metadata.tables["sync_checkpoints"]
relay_receipts: Table = Base.metadata.tables["relay_receipts"]
server_limits: Table = Base.metadata.tables["server_limits"]

tables_by_name: dict[str, Table] = dict(Base.metadata.tables)
"""Every table by its name (for code that walks all of them: the privacy export and erasure)."""
