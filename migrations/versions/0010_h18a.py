"""Deployments have names that admins give them.

Revision ID: 0010_h18a
Revises: 0009_h17c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_h18a'
down_revision = "0010_h14b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deployment') as batch:
        batch.add_column(sa.Column('name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deployment') as batch:
        batch.drop_column('name')
