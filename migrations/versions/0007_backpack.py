"""The OB 2.0 backpack Moodle reads a learner's badges from: app passwords and the tokens
they grant.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lti_badger.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backpack_app_password",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=320), nullable=False),
        sa.Column("created_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_backpack_app_password_person_id_person"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backpack_app_password")),
        sa.UniqueConstraint("lookup", name=op.f("uq_backpack_app_password_lookup")),
    )
    op.create_index(op.f("ix_backpack_app_password_person_id"), "backpack_app_password", ["person_id"], unique=False)
    op.create_table(
        "backpack_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_password_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["app_password_id"], ["backpack_app_password.id"],
                                name=op.f("fk_backpack_token_app_password_id_backpack_app_password"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backpack_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_backpack_token_token_hash")),
    )
    op.create_index(op.f("ix_backpack_token_app_password_id"), "backpack_token", ["app_password_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_backpack_token_app_password_id"), table_name="backpack_token")
    op.drop_table("backpack_token")
    op.drop_index(op.f("ix_backpack_app_password_person_id"), table_name="backpack_app_password")
    op.drop_table("backpack_app_password")
