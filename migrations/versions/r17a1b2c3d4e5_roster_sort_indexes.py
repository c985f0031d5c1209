"""Roster sorts: an index per sort column within a chapter (e-mail, member number, employer, joined)

Sorted by e-mail or member number, PostgreSQL walked the whole unique index of that column and kept the
chapter's rows (88 ms for a page of 50 of 2,451 members at 50,000); sorted by employer or join date it sorted
every member of the chapter. With the chapter first, a page is read in order from the index.

Revision ID: r17a1b2c3d4e5
Revises: g17a1b2c3d4e5
Create Date: 2026-12-01 19:40:00

"""
from alembic import op

revision = 'r17a1b2c3d4e5'
down_revision = 'g17a1b2c3d4e5'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_members_chapter_email": ["home_chapter_id", "email", "id"],
    "ix_members_chapter_number": ["home_chapter_id", "member_number"],
    "ix_members_chapter_employer": ["home_chapter_id", "employer", "last_name", "id"],
    "ix_members_chapter_joined": ["home_chapter_id", "joined_on", "id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "members", columns)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="members")
