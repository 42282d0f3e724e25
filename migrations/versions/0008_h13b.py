"""The LTI resource link an activity is or grades, so that one LTI link seen by two sources
(Moodle's AGS line item and its LTI activity) is one activity in the criteria builder.

Revision ID: 0008_h13b
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_h13b"
down_revision = "0008_h13a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.add_column(sa.Column("resource_link_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("resource_link_id")
