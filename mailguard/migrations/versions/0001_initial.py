"""Initial schema: every table mailguard 0.1 needs.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:02:52.511091
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _check_in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    # The models store enums as VARCHAR plus a CHECK (no native PostgreSQL ENUM type),
    # spelt out here so this revision never changes when the models do.
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("human_in", sa.Integer(), nullable=False),
        sa.Column("automated_in", sa.Integer(), nullable=False),
        sa.Column("human_out", sa.Integer(), nullable=False),
        sa.Column("automated_out", sa.Integer(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("policy_state", sa.JSON(), nullable=True),
        sa.Column("next_due", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("mailbox", "address", name=op.f("uq_customers_mailbox_address")),
    )
    op.create_index(op.f("ix_customers_next_due"), "customers", ["next_due"], unique=False)
    op.create_table(
        "failed_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        _check_in("direction", ("in", "out"), "ck_failed_messages_direction"),
        _check_in("source", ("imap", "smtp", "audit"), "ck_failed_messages_source"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_messages")),
        sa.UniqueConstraint(
            "mailbox",
            "message_id",
            "direction",
            name=op.f("uq_failed_messages_mailbox_message_id_direction"),
        ),
    )
    op.create_table(
        "held_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("envelope_sender", sa.String(length=320), nullable=True),
        sa.Column("envelope_recipients", sa.JSON(), nullable=False),
        sa.Column("mail_options", sa.JSON(), nullable=False),
        sa.Column("rcpt_options", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _check_in("direction", ("in", "out"), "ck_held_messages_direction"),
        _check_in("state", ("held", "released", "discarded"), "ck_held_messages_held_state"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_messages")),
        sa.UniqueConstraint(
            "mailbox",
            "message_id",
            "direction",
            name=op.f("uq_held_messages_mailbox_message_id_direction"),
        ),
    )
    op.create_index(
        "ix_held_messages_state_held", "held_messages", ["state", "held_at"], unique=False
    )
    op.create_table(
        "outbox_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=998), nullable=False),
        sa.Column("idempotency_key", sa.String(length=998), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _check_in("state", ("pending", "done", "failed"), "ck_outbox_actions_outbox_state"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_actions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_actions_idempotency_key")),
    )
    op.create_index(
        "ix_outbox_actions_state_created", "outbox_actions", ["state", "created_at"], unique=False
    )
    op.create_table(
        "sync_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("folder", sa.String(length=998), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("highestmodseq", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_checkpoints")),
        sa.UniqueConstraint("mailbox", "folder", name=op.f("uq_sync_checkpoints_mailbox_folder")),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=True,
        ),
        sa.Column("rule_hits", sa.JSON(), nullable=False),
        sa.Column("explain", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_decisions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        _check_in("direction", ("in", "out"), "ck_decisions_direction"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(
        "ix_decisions_customer_decided", "decisions", ["customer_id", "decided_at"], unique=False
    )
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"], unique=False)
    op.create_index(
        "ix_decisions_mailbox_message", "decisions", ["mailbox", "message_id"], unique=False
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("root_message_id", sa.String(length=998), nullable=False),
        sa.Column("subject_key", sa.String(length=998), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_threads_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint(
            "customer_id", "root_message_id", name=op.f("uq_threads_customer_id_root_message_id")
        ),
    )
    op.create_index(
        "ix_threads_customer_subject",
        "threads",
        ["customer_id", "subject_key", "last_activity_at"],
        unique=False,
    )
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=998), nullable=True),
        sa.Column("link_key", sa.String(length=998), nullable=True),
        sa.Column("linked_escalation_id", sa.Integer(), nullable=True),
        sa.Column("notify_level", sa.String(length=16), nullable=False),
        sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_escalations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalations_linked_escalation_id_escalations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_escalations_thread_id_threads"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    op.create_index(
        "ix_escalations_customer_resolved",
        "escalations",
        ["customer_id", "resolved_at"],
        unique=False,
    )
    op.create_index(op.f("ix_escalations_link_key"), "escalations", ["link_key"], unique=False)
    op.create_index(
        "ix_escalations_resolved_opened", "escalations", ["resolved_at", "opened_at"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.String(length=16),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("frustration", sa.Float(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_messages_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_messages_thread_id_threads"),
            ondelete="SET NULL",
        ),
        _check_in("direction", ("in", "out"), "ck_messages_direction"),
        _check_in("source", ("imap", "smtp", "audit"), "ck_messages_source"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "mailbox",
            "message_id",
            "direction",
            name=op.f("uq_messages_mailbox_message_id_direction"),
        ),
    )
    op.create_index(
        "ix_messages_customer_sent", "messages", ["customer_id", "sent_at"], unique=False
    )
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"], unique=False)
    op.create_index(op.f("ix_messages_thread_id"), "messages", ["thread_id"], unique=False)
    op.create_table(
        "thread_message_ids",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=998), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_thread_message_ids_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_message_ids_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", "message_id", name=op.f("pk_thread_message_ids")),
    )
    op.create_index(
        op.f("ix_thread_message_ids_thread_id"), "thread_message_ids", ["thread_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_thread_message_ids_thread_id"), table_name="thread_message_ids")
    op.drop_table("thread_message_ids")
    op.drop_index(op.f("ix_messages_thread_id"), table_name="messages")
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.drop_index("ix_messages_customer_sent", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_escalations_resolved_opened", table_name="escalations")
    op.drop_index(op.f("ix_escalations_link_key"), table_name="escalations")
    op.drop_index("ix_escalations_customer_resolved", table_name="escalations")
    op.drop_table("escalations")
    op.drop_index("ix_threads_customer_subject", table_name="threads")
    op.drop_table("threads")
    op.drop_index("ix_decisions_mailbox_message", table_name="decisions")
    op.drop_index("ix_decisions_decided_at", table_name="decisions")
    op.drop_index("ix_decisions_customer_decided", table_name="decisions")
    op.drop_table("decisions")
    op.drop_table("sync_checkpoints")
    op.drop_index("ix_outbox_actions_state_created", table_name="outbox_actions")
    op.drop_table("outbox_actions")
    op.drop_index("ix_held_messages_state_held", table_name="held_messages")
    op.drop_table("held_messages")
    op.drop_table("failed_messages")
    op.drop_index(op.f("ix_customers_next_due"), table_name="customers")
    op.drop_table("customers")
