"""One-time VC-API exchanges through which a learner's wallet collects a credential.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lti_badger.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_exchange",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("created_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("collected_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("holder", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["credential_id"], ["credential.id"],
                                name=op.f("fk_wallet_exchange_credential_id_credential"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_exchange")),
    )
    op.create_index(op.f("ix_wallet_exchange_credential_id"), "wallet_exchange", ["credential_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_wallet_exchange_credential_id"), table_name="wallet_exchange")
    op.drop_table("wallet_exchange")
