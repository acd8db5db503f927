"""Functional traces (hash-chained), technical events, usage statistics; account deletion
date and administrator role.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from webmail.models.base import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("deleted_at", UtcDateTime(), nullable=True))
        batch.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "functional_trace",
        sa.Column("id", BigKey, nullable=False),
        sa.Column("chain", sa.String(length=320), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_functional_trace")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_functional_trace_chain")),
    )
    op.create_index(op.f("ix_functional_trace_actor"), "functional_trace", ["actor"])
    op.create_index(op.f("ix_functional_trace_mailbox"), "functional_trace", ["mailbox"])
    op.create_table(
        "trace_chain",
        sa.Column("chain", sa.String(length=320), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("mailbox_deleted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_trace_chain")),
    )
    op.create_table(
        "technical_event",
        sa.Column("id", BigKey, nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("logger", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technical_event")),
    )
    op.create_index(op.f("ix_technical_event_occurred_at"), "technical_event", ["occurred_at"])
    op.create_table(
        "usage_counter",
        sa.Column("id", BigKey, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_counter")),
        sa.UniqueConstraint("day", "actor", "metric", name=op.f("uq_usage_counter_day")),
    )
    op.create_index(op.f("ix_usage_counter_day"), "usage_counter", ["day"])
    op.create_index(op.f("ix_usage_counter_actor"), "usage_counter", ["actor"])
    op.create_table(
        "anonymous_counter",
        sa.Column("id", BigKey, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anonymous_counter")),
        sa.UniqueConstraint("day", "metric", name=op.f("uq_anonymous_counter_day")),
    )
    op.create_index(op.f("ix_anonymous_counter_day"), "anonymous_counter", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_anonymous_counter_day"), table_name="anonymous_counter")
    op.drop_table("anonymous_counter")
    op.drop_index(op.f("ix_usage_counter_actor"), table_name="usage_counter")
    op.drop_index(op.f("ix_usage_counter_day"), table_name="usage_counter")
    op.drop_table("usage_counter")
    op.drop_index(op.f("ix_technical_event_occurred_at"), table_name="technical_event")
    op.drop_table("technical_event")
    op.drop_table("trace_chain")
    op.drop_index(op.f("ix_functional_trace_mailbox"), table_name="functional_trace")
    op.drop_index(op.f("ix_functional_trace_actor"), table_name="functional_trace")
    op.drop_table("functional_trace")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("is_admin")
        batch.drop_column("deleted_at")
