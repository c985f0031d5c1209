"""Events part B: reminders sent (one per registration and kind: a week, a day before)

Revision ID: e12b0a1b2c3d4
Revises: e12a0a1b2c3d4
Create Date: 2026-12-01 15:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e12b0a1b2c3d4'
down_revision = 'c14b1a2b3c4d5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('event_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('week', 'day', name='reminderkind', native_enum=False, length=10), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['event_registrations.id'],
                            name=op.f('fk_event_reminders_registration_id_event_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_reminders')),
    sa.UniqueConstraint('registration_id', 'kind', name='uq_event_reminders_registration_kind')
    )


def downgrade():
    op.drop_table('event_reminders')
