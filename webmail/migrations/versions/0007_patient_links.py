"""Secure links for patients.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from webmail.models.base import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("mailbox", sa.String(length=320), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("patient_address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("code_check", sa.String(length=64), nullable=False),
        sa.Column("failed_codes", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("first_opened_at", UtcDateTime(), nullable=True),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_link_token_hash")),
    )
    op.create_index(op.f("ix_patient_link_mailbox"), "patient_link", ["mailbox"])
    op.create_index(op.f("ix_patient_link_expires_at"), "patient_link", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_patient_link_expires_at"), table_name="patient_link")
    op.drop_index(op.f("ix_patient_link_mailbox"), table_name="patient_link")
    op.drop_table("patient_link")
