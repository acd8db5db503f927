"""Delegations of a mailbox to other people of the same server.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from webmail.models.base import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=320), nullable=False),
        sa.Column("delegate", sa.String(length=320), nullable=False),
        sa.Column("rights", sa.String(length=16), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("ends_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("acl_applied", sa.Boolean(), nullable=False),
        sa.Column("folder_roles", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegation")),
        sa.UniqueConstraint("owner", "delegate", name=op.f("uq_delegation_owner")),
    )
    op.create_index(op.f("ix_delegation_owner"), "delegation", ["owner"])
    op.create_index(op.f("ix_delegation_delegate"), "delegation", ["delegate"])


def downgrade() -> None:
    op.drop_index(op.f("ix_delegation_delegate"), table_name="delegation")
    op.drop_index(op.f("ix_delegation_owner"), table_name="delegation")
    op.drop_table("delegation")
