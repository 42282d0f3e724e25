"""Gradebook write-back per course (one column per badge, a comment on the link's own grade
item, or nothing) and what each AGS delivery wrote and whether the LMS showed it.

Courses that already have a badge column keep "columns", so nothing they show changes; every
other course gets the new default, "feedback" (docs/deliveries.md says why).

Revision ID: 0008_h13a
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_h13a"
down_revision = "0008_h12a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("course") as batch:
        batch.add_column(sa.Column("ags_resource_link_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("gradebook_mode", sa.String(length=20), server_default="feedback",
                                   nullable=False))
    op.execute("UPDATE course SET gradebook_mode = 'columns' WHERE id IN "
               "(SELECT course_id FROM achievement WHERE lineitem_url IS NOT NULL)")
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("gradebook_mode", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("gradebook_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("confirmation", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("confirmation")
        batch.drop_column("gradebook_status")
        batch.drop_column("gradebook_mode")
    with op.batch_alter_table("course") as batch:
        batch.drop_column("gradebook_mode")
        batch.drop_column("ags_resource_link_id")
