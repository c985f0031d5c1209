"""Communications: officers' messages and their frozen recipients, opt-outs, daily caps, the messaging right,
extra headers on outbox mail (List-Unsubscribe)

Revision ID: c14a0a1b2c3d4
Revises: s17a1b2c3d4e5
Create Date: 2026-12-01 15:30:00

"""
from alembic import op
import sqlalchemy as sa

revision = 'c14a0a1b2c3d4'
down_revision = 'w15b0a1b2c3d4'
branch_labels = None
depends_on = None

# The positions that may e-mail members by default (chapter/seed/communications.py says the same).
MESSAGING_POSITIONS = ("president", "secretary", "vp_membership", "vp_marketing")


def upgrade():
    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_message_members', sa.Boolean(), server_default=sa.false(), nullable=False))
    positions = sa.table('officer_positions', sa.column('code', sa.String), sa.column('can_message_members', sa.Boolean))
    op.execute(positions.update().where(positions.c.code.in_(MESSAGING_POSITIONS)).values(can_message_members=True))

    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.Text(), nullable=True))

    op.create_table('mail_opt_outs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('category', sa.Enum('chapter_news', 'event_announcements', 'association_news', name='mailcategory',
                                      native_enum=False, length=30), nullable=False),
        sa.Column('source', sa.String(length=30), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_opt_outs')),
        sa.UniqueConstraint('email', 'category', name='uq_mail_opt_outs_email_category'),
    )
    op.create_table('member_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('chapter_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.Enum('chapter_news', 'event_announcements', 'association_news', name='mailcategory',
                                      native_enum=False, length=30), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('audience_kind', sa.String(length=40), nullable=False),
        sa.Column('audience_params', sa.Text(), nullable=False),
        sa.Column('audience_description', sa.String(length=300), nullable=False),
        sa.Column('status', sa.Enum('scheduled', 'queued', 'sending', 'sent', 'cancelled', name='messagestatus',
                                    native_enum=False, length=30), nullable=False),
        sa.Column('send_at', sa.DateTime(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('frozen_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
        sa.Column('audience_count', sa.Integer(), nullable=False),
        sa.Column('subject_folded', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_member_messages_author_id_users')),
        sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_member_messages_chapter_id_chapters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_messages')),
    )
    op.create_index('ix_member_messages_chapter_id_send_at', 'member_messages', ['chapter_id', 'send_at'])
    op.create_index('ix_member_messages_status_send_at', 'member_messages', ['status', 'send_at'])
    op.create_table('member_message_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('first_name', sa.String(length=100), nullable=False),
        sa.Column('member_until', sa.String(length=40), nullable=False),
        sa.Column('status', sa.Enum('pending', 'mailed', 'skipped', 'no_address', name='recipientstatus',
                                    native_enum=False, length=30), nullable=False),
        sa.Column('outbox_message_id', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_message_recipients_member_id_members'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['message_id'], ['member_messages.id'],
                                name=op.f('fk_member_message_recipients_message_id_member_messages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_message_recipients')),
    )
    op.create_index('ix_member_message_recipients_message_id_status', 'member_message_recipients', ['message_id', 'status'])
    op.create_index(op.f('ix_member_message_recipients_outbox_message_id'), 'member_message_recipients',
                    ['outbox_message_id'])
    op.create_table('chapter_message_caps',
        sa.Column('chapter_id', sa.Integer(), nullable=False),
        sa.Column('daily_cap', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('daily_cap >= 0', name=op.f('ck_chapter_message_caps_daily_cap_not_negative')),
        sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_chapter_message_caps_chapter_id_chapters')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_chapter_message_caps_updated_by_id_users')),
        sa.PrimaryKeyConstraint('chapter_id', name=op.f('pk_chapter_message_caps')),
    )


def downgrade():
    op.drop_table('chapter_message_caps')
    op.drop_index(op.f('ix_member_message_recipients_outbox_message_id'), table_name='member_message_recipients')
    op.drop_index('ix_member_message_recipients_message_id_status', table_name='member_message_recipients')
    op.drop_table('member_message_recipients')
    op.drop_index('ix_member_messages_status_send_at', table_name='member_messages')
    op.drop_index('ix_member_messages_chapter_id_send_at', table_name='member_messages')
    op.drop_table('member_messages')
    op.drop_table('mail_opt_outs')
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_column('headers')
    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.drop_column('can_message_members')
