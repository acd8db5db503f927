"""Privacy: professional details and communication choices, privacy requests, consent records.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from webmail.models.base import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("profession", sa.String(length=120), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("rpps", sa.String(length=11), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("organisation", sa.String(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("newsletter", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("service_messages", sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    op.create_table(
        "privacy_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("handled_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE",
                                name=op.f("fk_privacy_request_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_request")),
    )
    op.create_index(op.f("ix_privacy_request_account_id"), "privacy_request", ["account_id"])
    op.create_index(op.f("ix_privacy_request_address"), "privacy_request", ["address"])
    op.create_index(op.f("ix_privacy_request_status"), "privacy_request", ["status"])
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="SET NULL",
                                name=op.f("fk_consent_record_account_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    op.create_index(op.f("ix_consent_record_subject"), "consent_record", ["subject"])
    op.create_index(op.f("ix_consent_record_account_id"), "consent_record", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_consent_record_account_id"), table_name="consent_record")
    op.drop_index(op.f("ix_consent_record_subject"), table_name="consent_record")
    op.drop_table("consent_record")
    op.drop_index(op.f("ix_privacy_request_status"), table_name="privacy_request")
    op.drop_index(op.f("ix_privacy_request_address"), table_name="privacy_request")
    op.drop_index(op.f("ix_privacy_request_account_id"), table_name="privacy_request")
    op.drop_table("privacy_request")
    with op.batch_alter_table("account") as batch:
        for column in ("service_messages", "newsletter", "organisation", "rpps", "profession"):
            batch.drop_column(column)
