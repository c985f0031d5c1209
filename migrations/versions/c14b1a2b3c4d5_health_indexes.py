"""Indexes for chapter health: members' dates by chapter, terms by member and end (covering), latest changes

Revision ID: c14b1a2b3c4d5
Revises: c14a0a1b2c3d4
Create Date: 2026-12-01 15:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c14b1a2b3c4d5'
down_revision = 'c14a0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_health_dates', ['home_chapter_id', 'joined_on', 'continuous_since',
                                                          'paid_through', 'grace_ends_on', 'id'], unique=False)
        batch_op.create_index('ix_members_updated_at', ['updated_at'], unique=False)
    with op.batch_alter_table('membership_terms', schema=None) as batch_op:
        batch_op.create_index('ix_membership_terms_health_ends', ['member_id', 'ends_on', 'voided_at',
                                                                  'membership_type_id'], unique=False)
        batch_op.create_index('ix_membership_terms_updated_at', ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('membership_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_membership_terms_updated_at')
        batch_op.drop_index('ix_membership_terms_health_ends')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_updated_at')
        batch_op.drop_index('ix_members_health_dates')
