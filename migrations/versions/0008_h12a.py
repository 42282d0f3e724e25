"""One-time invites that open LTI Dynamic Registration (`lti-badger platform invite`).

Revision ID: 0008_h12a
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lti_badger.models.base

revision = "0008_h12a"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registration_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["platform_id"], ["platform.id"],
                                name=op.f("fk_registration_invite_platform_id_platform"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_invite")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_registration_invite_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("registration_invite")
