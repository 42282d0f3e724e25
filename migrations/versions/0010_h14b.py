"""Criteria templates, group defaults and approval of instructors' badges (issue 14 B).

Revision ID: 0010_h14b
Revises: 0009_h17c
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import lti_badger.models.base

revision = '0010_h14b'
down_revision = "0010_h14c"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
WHEN = lti_badger.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('criteria_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('roles', JSON, nullable=False),
    sa.Column('rule', JSON, nullable=False),
    sa.Column('values', JSON, nullable=False),
    sa.Column('locked', JSON, nullable=False),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', WHEN, nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['person.id'], name=op.f('fk_criteria_template_created_by_person'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_criteria_template_platform_id_platform'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria_template'))
    )
    op.create_index(op.f('ix_criteria_template_platform_id'), 'criteria_template', ['platform_id'], unique=False)
    op.create_table('template_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('mapping', JSON, nullable=False),
    sa.Column('attached_by', sa.Integer(), nullable=True),
    sa.Column('attached_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievement.id'],
                            name=op.f('fk_template_attachment_achievement_id_achievement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['attached_by'], ['person.id'], name=op.f('fk_template_attachment_attached_by_person'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_template_attachment_course_id_course'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['criteria_template.id'],
                            name=op.f('fk_template_attachment_template_id_criteria_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_attachment')),
    sa.UniqueConstraint('achievement_id', name=op.f('uq_template_attachment_achievement_id'))
    )
    op.create_index(op.f('ix_template_attachment_course_id'), 'template_attachment', ['course_id'], unique=False)
    op.create_index(op.f('ix_template_attachment_template_id'), 'template_attachment', ['template_id'], unique=False)
    op.create_table('template_group_default',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('group_kind', sa.String(length=20), nullable=False),
    sa.Column('group_value', sa.String(length=255), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('created_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'],
                            name=op.f('fk_template_group_default_platform_id_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['criteria_template.id'],
                            name=op.f('fk_template_group_default_template_id_criteria_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_group_default')),
    sa.UniqueConstraint('platform_id', 'group_kind', 'group_value', 'template_id',
                        name=op.f('uq_template_group_default_platform_id_group_kind_group_value_template_id'))
    )
    op.create_index(op.f('ix_template_group_default_platform_id'), 'template_group_default', ['platform_id'],
                    unique=False)
    op.create_index(op.f('ix_template_group_default_template_id'), 'template_group_default', ['template_id'],
                    unique=False)
    op.create_table('criteria_policy',
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('approval_required', sa.Boolean(), nullable=False),
    sa.Column('updated_at', WHEN, nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platform.id'], name=op.f('fk_criteria_policy_platform_id_platform'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('platform_id', name=op.f('pk_criteria_policy'))
    )
    op.create_table('approval_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('achievement_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('requested_at', WHEN, nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', WHEN, nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['achievement_id'], ['achievement.id'],
                            name=op.f('fk_approval_request_achievement_id_achievement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_approval_request_course_id_course'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['person.id'], name=op.f('fk_approval_request_decided_by_person'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by'], ['person.id'], name=op.f('fk_approval_request_requested_by_person'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_request'))
    )
    op.create_index(op.f('ix_approval_request_achievement_id'), 'approval_request', ['achievement_id'], unique=False)
    op.create_index(op.f('ix_approval_request_course_id'), 'approval_request', ['course_id'], unique=False)
    with op.batch_alter_table('course') as batch:
        batch.add_column(sa.Column('groups', JSON, server_default='{}', nullable=False))
        batch.add_column(sa.Column('group_defaults_at', WHEN, nullable=True))
    # Courses launched before group defaults existed are not "first launched" again.
    op.execute("UPDATE course SET group_defaults_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table('course') as batch:
        batch.drop_column('group_defaults_at')
        batch.drop_column('groups')
    op.drop_table('approval_request')
    op.drop_table('criteria_policy')
    op.drop_table('template_group_default')
    op.drop_table('template_attachment')
    op.drop_table('criteria_template')
