"""An index on customers.address: a customer looked up across the mailboxes.

Revision ID: 0006_i23_customers_address
Revises: 0005_i19_relay_receipts
Create Date: 2026-12-07 10:15:00.000000

The engine keeps a customer row per guarded mailbox, so with 100 mailboxes and 100,000
customers the table holds 10 million rows; ``mailguard status --customer ADDRESS`` (and any
lookup of an address in every mailbox) scanned them all (bench/scale_bench.py). The unique
(mailbox, address) index cannot serve a lookup by address alone.
"""

from __future__ import annotations

from alembic import op

revision: str = "0006_i23_customers_address"
down_revision: str | None = "0005_i19_relay_receipts"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_customers_address", "customers", ["address"])


def downgrade() -> None:
    op.drop_index("ix_customers_address", table_name="customers")
