"""Search: a folded search column on members, indexed (pg_trgm GIN on PostgreSQL, FTS5 trigram on SQLite)

Revision ID: s17a1b2c3d4e5
Revises: a10c1a2b3d4e
Create Date: 2026-12-01 12:00:00

"""
from alembic import op
import sqlalchemy as sa

from chapter.members.search import SEARCH_FIELDS, SQLITE_DDL, SQLITE_DROP, member_search_text

# revision identifiers, used by Alembic.
revision = 's17a1b2c3d4e5'
down_revision = 'a10c1a2b3d4e'
branch_labels = None
depends_on = None

BATCH = 5000
# This revision's own PostgreSQL objects, as they were (later revisions change the indexes: g17a1b2c3d4e5, x06a1b2c3d4e5).
POSTGRESQL_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_members_search_text_trgm ON members USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_members_search_text_prefix ON members (search_text text_pattern_ops)",
)
POSTGRESQL_DROP = ("DROP INDEX IF EXISTS ix_members_search_text_trgm", "DROP INDEX IF EXISTS ix_members_search_text_prefix")


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.drop_index('ix_members_last_name')
        batch_op.create_index('ix_members_name_order', ['last_name', 'first_name', 'id'], unique=False)
    _backfill_search_text()
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for statement in POSTGRESQL_DDL:
            op.execute(statement)
    elif bind.dialect.name == 'sqlite':
        for statement in SQLITE_DDL:
            op.execute(statement)
        op.execute("INSERT INTO members_fts(members_fts) VALUES ('rebuild')")


def _backfill_search_text():
    """Fold every existing member's names, e-mail, number and employer into search_text, in batches."""
    bind = op.get_bind()
    members = sa.table('members', sa.column('id', sa.Integer), sa.column('search_text', sa.Text),
                       *(sa.column(name, sa.String) for name in SEARCH_FIELDS))
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(members.c.id, *(members.c[name] for name in SEARCH_FIELDS))
            .where(members.c.id > last_id).order_by(members.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            members.update().where(members.c.id == sa.bindparam('b_id')).values(search_text=sa.bindparam('b_text')),
            [{'b_id': row[0], 'b_text': member_search_text(*row[1:])} for row in rows],
        )
        last_id = rows[-1][0]


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for statement in POSTGRESQL_DROP:
            op.execute(statement)
    elif bind.dialect.name == 'sqlite':
        for statement in SQLITE_DROP:
            op.execute(statement)
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_name_order')
        batch_op.create_index('ix_members_last_name', ['last_name'], unique=False)
        batch_op.drop_column('search_text')
