"""Deliveries: a partial index on the badge scores waiting to be read back (sent under a
backlog, checked when the workers are idle).

Revision ID: 0011_read_back
Revises: 0010_h18b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_read_back"
down_revision = "0010_h18b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_delivery_read_back", "delivery", ["id"], postgresql_where=sa.text("confirmation = 'later'"),
                    sqlite_where=sa.text("confirmation = 'later'"))


def downgrade() -> None:
    op.drop_index("ix_delivery_read_back", table_name="delivery")
