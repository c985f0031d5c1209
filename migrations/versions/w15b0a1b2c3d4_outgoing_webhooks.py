"""Outgoing webhooks: endpoints, deliveries, announced lapses; the integrations right on officer positions

Revision ID: w15b0a1b2c3d4
Revises: s17a1b2c3d4e5
Create Date: 2026-12-01 15:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'w15b0a1b2c3d4'
down_revision = 'e12a0a1b2c3d4'
branch_labels = None
depends_on = None

# Positions that get the right when the migration runs (as chapter/seed/integrations.py seeds it).
INTEGRATION_POSITIONS = ('president',)


def upgrade():
    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_manage_integrations', sa.Boolean(), server_default=sa.false(), nullable=False))
    positions = sa.table('officer_positions', sa.column('code', sa.String), sa.column('can_manage_integrations', sa.Boolean))
    op.execute(positions.update().where(positions.c.code.in_(INTEGRATION_POSITIONS)).values(can_manage_integrations=True))

    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chapter_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('events', sa.String(length=500), nullable=False),
        sa.Column('secret_encrypted', sa.Text(), nullable=False),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=300), nullable=True),
        sa.Column('failing_since', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_webhook_endpoints_chapter_id_chapters')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_endpoints_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_chapter_id'), ['chapter_id'], unique=False)

    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('webhook_id', sa.String(length=64), nullable=False),
        sa.Column('event_name', sa.String(length=60), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'sending', 'delivered', 'failed', name='deliverystatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('give_up_at', sa.DateTime(), nullable=False),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('response_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('endpoint_id', 'event_id', name='uq_webhook_deliveries_endpoint_event'),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_deliveries_webhook_id')),
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_endpoint_created', ['endpoint_id', 'created_at'], unique=False)
        batch_op.create_index('ix_webhook_deliveries_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table(
        'announced_lapses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('grace_ended_on', sa.Date(), nullable=False),
        sa.Column('announced_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_announced_lapses_member_id_members'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announced_lapses')),
        sa.UniqueConstraint('member_id', 'grace_ended_on', name='uq_announced_lapses_member_day'),
    )


def downgrade():
    op.drop_table('announced_lapses')
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_deliveries_status_next_attempt_at')
        batch_op.drop_index('ix_webhook_deliveries_endpoint_created')
    op.drop_table('webhook_deliveries')
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_endpoints_chapter_id'))
    op.drop_table('webhook_endpoints')
    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.drop_column('can_manage_integrations')
