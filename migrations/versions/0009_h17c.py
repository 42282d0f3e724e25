"""The per-platform delivery circuit (one row per LMS whose gradebook is failing).

Revision ID: 0009_h17c
Revises: 0008_h15b
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lti_badger.models.base

revision = '0009_h17c'
down_revision = '0008_h15b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('platform_circuit',
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('open_until', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('updated_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_platform_circuit_platform_id_platform'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', name=op.f('pk_platform_circuit'))
    )


def downgrade() -> None:
    op.drop_table('platform_circuit')
