"""Deferred replies: held_messages gains the state "deferred" and what a deferral waits for.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:40:00.000000

The state is VARCHAR plus the named CHECK ``ck_held_messages_held_state`` (no native
PostgreSQL ENUM, see ``mailguard.store.models._enum``): adding a value swaps the CHECK. On
SQLite the batch operation rebuilds the table. A downgrade turns every deferred reply into a
held one first, so nothing the proxy accepted is lost: a person can release it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_OLD = ("held", "released", "discarded")
_NEW = (*_OLD, "deferred")
_CHECK = "ck_held_messages_held_state"


def _values(values: tuple[str, ...]) -> str:
    listed = ", ".join(f"'{value}'" for value in values)
    return f"state IN ({listed})"


def upgrade() -> None:
    with op.batch_alter_table("held_messages") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(op.f(_CHECK), _values(_NEW))
        batch.add_column(sa.Column("awaits", sa.String(length=998), nullable=True))
        batch.add_column(sa.Column("decide_by", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.execute(
        "UPDATE held_messages SET state = 'held', "
        "reason = 'deferred when mailguard was downgraded: ' || reason "
        "WHERE state = 'deferred'"
    )
    with op.batch_alter_table("held_messages") as batch:
        batch.drop_column("claimed_until")
        batch.drop_column("decide_by")
        batch.drop_column("awaits")
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(op.f(_CHECK), _values(_OLD))
