"""Compose: signatures per identity and recent correspondents.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from webmail.models.base import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compose_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("identity", sa.String(length=320), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compose_signature")),
        sa.UniqueConstraint("actor", "identity", name=op.f("uq_compose_signature_actor")),
    )
    op.create_table(
        "compose_correspondent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compose_correspondent")),
        sa.UniqueConstraint("mailbox", "address", name=op.f("uq_compose_correspondent_mailbox")),
    )
    op.create_index(op.f("ix_compose_correspondent_mailbox"), "compose_correspondent",
                    ["mailbox"])


def downgrade() -> None:
    op.drop_index(op.f("ix_compose_correspondent_mailbox"), table_name="compose_correspondent")
    op.drop_table("compose_correspondent")
    op.drop_table("compose_signature")
