"""Issuer profile: the issuer's country (EU micro-credential element) and how many status
entries its credentials carry ("one", valid under the official OB 3.0 schema, or "two");
ESCO concepts imported for the skills picker.

Revision ID: 0008_h15a
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_h15a"
down_revision = "0008_h13b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuer_profile") as batch:
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("status_entries", sa.String(length=8), server_default="one", nullable=False))
    op.create_table(
        "skill_concept",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=300), nullable=False),
        sa.Column("label", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("search", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_concept")),
        sa.UniqueConstraint("uri", name=op.f("uq_skill_concept_uri")),
    )
    op.create_index(op.f("ix_skill_concept_search"), "skill_concept", ["search"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_skill_concept_search"), table_name="skill_concept")
    op.drop_table("skill_concept")
    with op.batch_alter_table("issuer_profile") as batch:
        batch.drop_column("status_entries")
        batch.drop_column("country")
