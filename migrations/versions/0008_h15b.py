"""The standard APIs: operator API tokens (VC-API issuing), OAuth 2.0 clients, codes and tokens
of the OB 3.0 API, and the credentials and profile a learner's client stored on the tool.

Revision ID: 0008_h15b
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lti_badger.models.base

revision = '0008_h15b'
down_revision = '0008_h15a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    op.create_table('oauth_client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=64), nullable=True),
    sa.Column('client_name', sa.String(length=200), nullable=False),
    sa.Column('metadata', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_client')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_client_client_id'))
    )
    op.create_table('hosted_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(length=1000), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_hosted_credential_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosted_credential')),
    sa.UniqueConstraint('person_id', 'credential_id', name=op.f('uq_hosted_credential_person_id_credential_id'))
    )
    with op.batch_alter_table('hosted_credential', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hosted_credential_person_id'), ['person_id'], unique=False)

    op.create_table('hosted_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_hosted_profile_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hosted_profile')),
    sa.UniqueConstraint('person_id', name=op.f('uq_hosted_profile_person_id'))
    )
    op.create_table('oauth_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('created_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], name=op.f('fk_oauth_code_client_id_oauth_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_oauth_code_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_code_code_hash'))
    )
    with op.batch_alter_table('oauth_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_code_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_code_person_id'), ['person_id'], unique=False)

    op.create_table('oauth_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('access_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_hash', sa.String(length=64), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('issued_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', lti_badger.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_client.id'], name=op.f('fk_oauth_token_client_id_oauth_client'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_oauth_token_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_token')),
    sa.UniqueConstraint('access_hash', name=op.f('uq_oauth_token_access_hash')),
    sa.UniqueConstraint('refresh_hash', name=op.f('uq_oauth_token_refresh_hash'))
    )
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_token_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_token_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('oauth_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_token_person_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_token_client_id'))

    op.drop_table('oauth_token')
    with op.batch_alter_table('oauth_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_code_person_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_code_client_id'))

    op.drop_table('oauth_code')
    op.drop_table('hosted_profile')
    with op.batch_alter_table('hosted_credential', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hosted_credential_person_id'))

    op.drop_table('hosted_credential')
    op.drop_table('oauth_client')
    op.drop_table('api_token')
