"""Retention notices: held_messages, failed_messages and outbox_actions gain ``noticed_at``.

Revision ID: 0003_i21_retention
Revises: 0002
Create Date: 2026-12-08 09:00:00.000000

Held mail waiting for a decision, failed messages and given-up actions expire after their
retention period (``retention:``); the agents are told ``retention.notice`` before. The
column records when they were told, so each item is announced once and never removed before
its notice had its time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_i21_retention"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = ("held_messages", "failed_messages", "outbox_actions")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("noticed_at")
