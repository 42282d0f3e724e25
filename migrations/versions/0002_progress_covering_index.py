"""Covering index on progress for criteria's bulk snapshot loading.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ["course_id", "activity_id", "person_id", "score", "max_score", "completed", "passed", "occurred_at",
           "source"]


def upgrade() -> None:
    op.create_index("ix_progress_course_activity_state", "progress", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_progress_course_activity_state", table_name="progress")
