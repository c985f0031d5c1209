"""Search: the members' trigram index carries the home chapter (btree_gin), for roster searches

A roster search ("smith" in a chapter) intersected two bitmaps: every match in the association from the trigram
index and every member of the chapter from a B-tree (7-10 ms at 500,000 members, growing with both). With the
chapter a key of the GIN index itself, the index yields the chapter's matches alone (about 2 ms); searches
without a chapter read the trigram keys as before. SQLite keeps its FTS5 table (a roster reads its chapter's
rows, a few thousand at most).

Revision ID: x06a1b2c3d4e5
Revises: r17a1b2c3d4e5
Create Date: 2026-12-06 21:50:00

"""
from alembic import op

revision = 'x06a1b2c3d4e5'
down_revision = 'r17a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")  # a trusted extension: no superuser needed
        op.execute("CREATE INDEX IF NOT EXISTS ix_members_chapter_search_trgm ON members "
                   "USING gin (home_chapter_id, search_text gin_trgm_ops)")
        op.execute("DROP INDEX IF EXISTS ix_members_search_text_trgm")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX IF NOT EXISTS ix_members_search_text_trgm ON members "
                   "USING gin (search_text gin_trgm_ops)")
        op.execute("DROP INDEX IF EXISTS ix_members_chapter_search_trgm")
