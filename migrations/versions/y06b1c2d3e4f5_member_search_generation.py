"""Search counts: a generation of the members' search texts, raised by triggers on members

The staff search keeps a search's count until members change (chapter.members.search_counts): every INSERT,
DELETE and UPDATE of search_text on members (and TRUNCATE) raises the `member_search_generation` counter in the
writer's transaction. The statements are this revision's own copy: later changes come with revisions of their own.

Revision ID: y06b1c2d3e4f5
Revises: x06a1b2c3d4e5
Create Date: 2026-12-06 22:15:00

"""
from alembic import op

revision = 'y06b1c2d3e4f5'
down_revision = 'x06a1b2c3d4e5'
branch_labels = None
depends_on = None

NOW_US = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
RAISE = (f"INSERT INTO counters (name, next_value) VALUES ('member_search_generation', {NOW_US}) "
         f"ON CONFLICT (name) DO UPDATE SET next_value = GREATEST(counters.next_value + 1, {NOW_US})")
SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
SQLITE_RAISE = (f"INSERT INTO counters (name, next_value) VALUES ('member_search_generation', {SQLITE_NOW_US}) "
                f"ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, {SQLITE_NOW_US})")
POSTGRESQL_UP = (
    "CREATE OR REPLACE FUNCTION chapter_member_search_changed() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {RAISE}; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "CREATE TRIGGER members_search_changed AFTER INSERT OR DELETE OR UPDATE OF search_text OR TRUNCATE ON members "
    "FOR EACH STATEMENT EXECUTE FUNCTION chapter_member_search_changed()",
)
POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "DROP FUNCTION IF EXISTS chapter_member_search_changed()",
)
SQLITE_UP = (
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_insert AFTER INSERT ON members BEGIN {SQLITE_RAISE}; END",
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_delete AFTER DELETE ON members BEGIN {SQLITE_RAISE}; END",
    "CREATE TRIGGER IF NOT EXISTS members_search_changed_update AFTER UPDATE OF search_text ON members "
    f"WHEN old.search_text IS NOT new.search_text BEGIN {SQLITE_RAISE}; END",
)
SQLITE_DOWN = tuple(f"DROP TRIGGER IF EXISTS members_search_changed_{kind}" for kind in ("insert", "delete", "update"))
# The first generation, so that counts are kept from the start (the first change would make the row anyway).
FIRST = "INSERT INTO counters (name, next_value) VALUES ('member_search_generation', {now}) ON CONFLICT (name) DO NOTHING"


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}.get(dialect, ()):
        op.execute(statement)
    op.execute(FIRST.format(now=SQLITE_NOW_US if dialect == "sqlite" else NOW_US))


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": POSTGRESQL_DOWN, "sqlite": SQLITE_DOWN}.get(dialect, ()):
        op.execute(statement)
    op.execute("DELETE FROM counters WHERE name = 'member_search_generation'")
