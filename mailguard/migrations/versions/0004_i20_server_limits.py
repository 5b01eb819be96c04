"""server_limits: what each mailbox's IMAP server lacks, for ``mailguard status``.

Revision ID: 0004_i20_server_limits
Revises: 0003_i21_retention
Create Date: 2026-12-07 06:00:00.000000

A handful of rows per mailbox (no custom keywords, no IDLE, no MOVE, where Sent was
found), replaced by the watcher whenever it learns something new about the server.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_i20_server_limits"
down_revision: str | None = "0003_i21_retention"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "server_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("feature", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_limits")),
        sa.UniqueConstraint("mailbox", "feature", name=op.f("uq_server_limits_mailbox_feature")),
    )


def downgrade() -> None:
    op.drop_table("server_limits")
