"""Notifications: a person's e-mail choice and a teacher's daily digest; a digest delivery has
no award.

Revision ID: 0010_h18b
Revises: 0009_h17c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_h18b'
down_revision = "0010_h18a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_email', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('digest_daily', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('digest_sent_on', sa.String(length=10), nullable=True))
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('award_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE award_id IS NULL")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.alter_column('award_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('digest_sent_on')
        batch_op.drop_column('digest_daily')
        batch_op.drop_column('notify_email')
