"""Endorsements (issue 14 D): endorser organisations and their endorsements of badges.

Revision ID: 0010_h14c
Revises: 0009_h17c
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import lti_badger.models.base


revision = '0010_h14c'
down_revision = "0009_h17c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('endorser',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email_domain', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('created_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_endorser_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorser')),
    sa.UniqueConstraint('platform_id', 'email_domain', name=op.f('uq_endorser_platform_id_email_domain')),
    sa.UniqueConstraint('public_id', name=op.f('uq_endorser_public_id'))
    )
    with op.batch_alter_table('endorser', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorser_platform_id'), ['platform_id'], unique=False)

    op.create_table('endorsement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('invited_email', sa.String(length=320), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('expires_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('invited_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('invited_by_person_id', sa.Integer(), nullable=True),
    sa.Column('endorser_id', sa.Integer(), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('signer_email', sa.String(length=320), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('version_number', sa.Integer(), nullable=True),
    sa.Column('document', sa.Text(), nullable=True),
    sa.Column('signed_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_index', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievement.id'], name=op.f('fk_endorsement_achievement_id_achievement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['endorser_id'], ['endorser.id'], name=op.f('fk_endorsement_endorser_id_endorser'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_person_id'], ['person.id'], name=op.f('fk_endorsement_invited_by_person_id_person'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_endorsement_platform_id_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsement')),
    sa.UniqueConstraint('endorser_id', 'status_index', name=op.f('uq_endorsement_endorser_id_status_index')),
    sa.UniqueConstraint('public_id', name=op.f('uq_endorsement_public_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_endorsement_token_hash'))
    )
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsement_achievement_id'), ['achievement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsement_endorser_id'), ['endorser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_endorsement_platform_id'), ['platform_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('endorsement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorsement_platform_id'))
        batch_op.drop_index(batch_op.f('ix_endorsement_endorser_id'))
        batch_op.drop_index(batch_op.f('ix_endorsement_achievement_id'))

    op.drop_table('endorsement')
    with op.batch_alter_table('endorser', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_endorser_platform_id'))

    op.drop_table('endorser')
