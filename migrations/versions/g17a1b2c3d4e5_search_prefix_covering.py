"""Search: the last-name prefix index carries the name order (PostgreSQL: INCLUDE last_name, first_name, id)

The staff search reads its second rank (last names starting with the search) from this index alone
(an index-only scan), instead of visiting every matching member row. SQLite keeps its plain index.

Revision ID: g17a1b2c3d4e5
Revises: e12b0a1b2c3d4
Create Date: 2026-12-01 19:00:00

"""
from alembic import op

from chapter.members.search import POSTGRESQL_PREFIX_INDEX

revision = 'g17a1b2c3d4e5'
down_revision = 'e12b0a1b2c3d4'
branch_labels = None
depends_on = None

PLAIN_PREFIX_INDEX = "CREATE INDEX ix_members_search_text_prefix ON members (search_text text_pattern_ops)"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_members_search_text_prefix")
        op.execute(POSTGRESQL_PREFIX_INDEX)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_members_search_text_prefix")
        op.execute(PLAIN_PREFIX_INDEX)
