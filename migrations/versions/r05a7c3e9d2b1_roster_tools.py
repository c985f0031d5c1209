"""Roster tools: audit log, member notes, transfer requests, roster imports, two officer rights

Revision ID: r05a7c3e9d2b1
Revises: p03a0c1d2e3f
Create Date: 2026-11-24 06:55:58.648248

The new rights are given to the positions that hold them in the reference data (chapter.core.reference, now chapter.seed.chapters):
import and transfer requests to the president, the secretary and VP Membership; the audit log to the president.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'r05a7c3e9d2b1'
down_revision = 'p03a0c1d2e3f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('roster_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.Enum('previewed', 'completed', 'discarded', name='rosterimportstatus', native_enum=False, length=20), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('matched_count', sa.Integer(), nullable=False),
    sa.Column('invalid_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_roster_imports_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_roster_imports_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports')),
    sa.UniqueConstraint('token', name=op.f('uq_roster_imports_token'))
    )
    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_imports_chapter_id'), ['chapter_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('before', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('after', sa.JSON(none_as_null=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_audit_entries_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_audit_entries_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_chapter_id_id', ['chapter_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_member_id'), ['member_id'], unique=False)

    op.create_table('member_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('noted_on', sa.Date(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_member_notes_author_id_users')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_member_notes_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_notes_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_notes'))
    )
    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.create_index('ix_member_notes_member_chapter', ['member_id', 'chapter_id'], unique=False)

    op.create_table('transfer_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('from_chapter_id', sa.Integer(), nullable=True),
    sa.Column('to_chapter_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'declined', 'cancelled', name='transferrequeststatus', native_enum=False, length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['from_chapter_id'], ['chapters.id'], name=op.f('fk_transfer_requests_from_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_transfer_requests_member_id_members')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_transfer_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['to_chapter_id'], ['chapters.id'], name=op.f('fk_transfer_requests_to_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['transfer_id'], ['chapter_transfers.id'], name=op.f('fk_transfer_requests_transfer_id_chapter_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_requests'))
    )
    with op.batch_alter_table('transfer_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_requests_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_requests_to_chapter_id'), ['to_chapter_id'], unique=False)

    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('can_manage_members', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('can_read_audit_log', sa.Boolean(), server_default=sa.false(), nullable=False))

    positions = sa.table('officer_positions', sa.column('code', sa.String),
                         sa.column('can_manage_members', sa.Boolean), sa.column('can_read_audit_log', sa.Boolean))
    op.execute(positions.update().where(positions.c.code.in_(['president', 'secretary', 'vp_membership']))
               .values(can_manage_members=True))
    op.execute(positions.update().where(positions.c.code == 'president').values(can_read_audit_log=True))


def downgrade():
    with op.batch_alter_table('officer_positions', schema=None) as batch_op:
        batch_op.drop_column('can_read_audit_log')
        batch_op.drop_column('can_manage_members')

    with op.batch_alter_table('transfer_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_requests_to_chapter_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_requests_member_id'))
    op.drop_table('transfer_requests')

    with op.batch_alter_table('member_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_member_notes_member_chapter')
    op.drop_table('member_notes')

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_member_id'))
        batch_op.drop_index('ix_audit_entries_chapter_id_id')
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))
    op.drop_table('audit_entries')

    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_imports_chapter_id'))
    op.drop_table('roster_imports')
