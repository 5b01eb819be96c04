"""Relay receipts: the upstream's 250 recorded before the proxy answers its client.

Revision ID: 0005_i19_relay_receipts
Revises: 0004_i20_server_limits
Create Date: 2026-12-07 06:00:00.000000

A client's retry of a message the proxy relayed already is answered from this table, not
relayed twice; recipients the upstream refused wait here for their delivery status
notification. A downgrade drops the table: retries are then relayed again (as before this
revision), and pending notifications are lost, which the log line of each refusal names.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_i19_relay_receipts"
down_revision: str | None = "0004_i20_server_limits"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "relay_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("envelope", sa.String(length=64), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("refused", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dsn", sa.LargeBinary(), nullable=True),
        sa.Column("dsn_to", sa.String(length=320), nullable=True),
        sa.Column("dsn_state", sa.String(length=16), nullable=True),
        sa.Column("dsn_attempts", sa.Integer(), nullable=False),
        # Spelt out (no native ENUM), so this revision never changes when the models do.
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_relay_receipts_direction")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_receipts")),
        sa.UniqueConstraint(
            "mailbox",
            "message_id",
            "direction",
            "envelope",
            name=op.f("uq_relay_receipts_mailbox_message_id_direction_envelope"),
        ),
    )
    op.create_index("ix_relay_receipts_dsn_state", "relay_receipts", ["dsn_state"])
    op.create_index("ix_relay_receipts_relayed_at", "relay_receipts", ["relayed_at"])


def downgrade() -> None:
    op.drop_index("ix_relay_receipts_relayed_at", table_name="relay_receipts")
    op.drop_index("ix_relay_receipts_dsn_state", table_name="relay_receipts")
    op.drop_table("relay_receipts")
