"""Issuer profile per LMS (keyed by the platform's issuer), edited by the LMS admin.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lti_badger.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("platform_issuer", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("image_type", sa.String(length=40), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_profile")),
        sa.UniqueConstraint("platform_issuer", name=op.f("uq_issuer_profile_platform_issuer")),
        sa.UniqueConstraint("public_id", name=op.f("uq_issuer_profile_public_id")),
    )


def downgrade() -> None:
    op.drop_table("issuer_profile")
