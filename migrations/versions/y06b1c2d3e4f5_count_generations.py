"""Generations: the members' search texts and each chapter's roster, raised by triggers, so counts can be kept

The staff search keeps a search's count until members' search texts change (chapter.members.search_counts), and
the roster its chapter's status counts until the chapter's roster changes (chapter.chapters.roster_counts): the
triggers raise `member_search_generation`, `roster_generation:<chapter id>` and `roster_generation:all` rows of
`counters` (see chapter.core.generations). Every existing chapter gets its row now, so its counts are kept from
the start. The statements are this revision's own copy: later changes come with revisions of their own.

Revision ID: y06b1c2d3e4f5
Revises: x06a1b2c3d4e5
Create Date: 2026-12-06 22:15:00

"""
from alembic import op

revision = 'y06b1c2d3e4f5'
down_revision = 'x06a1b2c3d4e5'
branch_labels = None
depends_on = None

POSTGRESQL_UP = ('CREATE OR REPLACE FUNCTION chapter_raise_generation(generation text) RETURNS void LANGUAGE plpgsql AS $$\n'
 "DECLARE raised text := coalesce(nullif(current_setting('chapter.generations_raised', true), ''), '|');\n"
 'BEGIN\n'
 "  IF generation IS NOT NULL AND position('|' || generation || '|' IN raised) = 0 THEN\n"
 '    INSERT INTO counters (name, next_value) VALUES (generation, (extract(epoch FROM clock_timestamp()) * '
 '1000000)::bigint)\n'
 '    ON CONFLICT (name) DO UPDATE SET next_value = GREATEST(counters.next_value + 1, (extract(epoch FROM '
 'clock_timestamp()) * 1000000)::bigint);\n'
 "    PERFORM set_config('chapter.generations_raised', raised || generation || '|', true);\n"
 '  END IF;\n'
 'END $$',
 'CREATE OR REPLACE FUNCTION chapter_member_search_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM '
 "chapter_raise_generation('member_search_generation'); RETURN NULL; END $$",
 'DROP TRIGGER IF EXISTS members_search_added_or_removed ON members',
 'CREATE CONSTRAINT TRIGGER members_search_added_or_removed AFTER INSERT OR DELETE ON members DEFERRABLE INITIALLY '
 'DEFERRED FOR EACH ROW EXECUTE FUNCTION chapter_member_search_changed()',
 'DROP TRIGGER IF EXISTS members_search_changed ON members',
 'CREATE CONSTRAINT TRIGGER members_search_changed AFTER UPDATE OF search_text ON members DEFERRABLE INITIALLY '
 'DEFERRED FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) EXECUTE FUNCTION '
 'chapter_member_search_changed()',
 'DROP TRIGGER IF EXISTS members_search_truncated ON members',
 'CREATE TRIGGER members_search_truncated AFTER TRUNCATE ON members FOR EACH STATEMENT EXECUTE FUNCTION '
 'chapter_member_search_changed()',
 'CREATE OR REPLACE FUNCTION chapter_roster_member_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n'
 "  IF TG_OP <> 'INSERT' THEN PERFORM chapter_raise_generation('roster_generation:' || OLD.home_chapter_id); END "
 'IF;\n'
 "  IF TG_OP <> 'DELETE' THEN PERFORM chapter_raise_generation('roster_generation:' || NEW.home_chapter_id); END "
 'IF;\n'
 '  RETURN NULL;\n'
 'END $$',
 'CREATE OR REPLACE FUNCTION chapter_rosters_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM '
 "chapter_raise_generation('roster_generation:all'); RETURN NULL; END $$",
 'DROP TRIGGER IF EXISTS members_roster_added_or_removed ON members',
 'CREATE CONSTRAINT TRIGGER members_roster_added_or_removed AFTER INSERT OR DELETE ON members DEFERRABLE INITIALLY '
 'DEFERRED FOR EACH ROW EXECUTE FUNCTION chapter_roster_member_changed()',
 'DROP TRIGGER IF EXISTS members_roster_changed ON members',
 'CREATE CONSTRAINT TRIGGER members_roster_changed AFTER UPDATE OF home_chapter_id, paid_through, joined_on, '
 'grace_ends_on, continuous_since ON members DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN '
 '((OLD.home_chapter_id, OLD.paid_through, OLD.joined_on, OLD.grace_ends_on, OLD.continuous_since) IS DISTINCT '
 'FROM (NEW.home_chapter_id, NEW.paid_through, NEW.joined_on, NEW.grace_ends_on, NEW.continuous_since)) EXECUTE '
 'FUNCTION chapter_roster_member_changed()',
 'DROP TRIGGER IF EXISTS members_rosters_truncated ON members',
 'CREATE TRIGGER members_rosters_truncated AFTER TRUNCATE ON members FOR EACH STATEMENT EXECUTE FUNCTION '
 'chapter_rosters_changed()',
 'CREATE OR REPLACE FUNCTION chapter_roster_term_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN\n'
 "  IF TG_OP <> 'INSERT' THEN PERFORM chapter_raise_generation('roster_generation:' || home_chapter_id) FROM "
 'members WHERE id = OLD.member_id; END IF;\n'
 "  IF TG_OP <> 'DELETE' THEN PERFORM chapter_raise_generation('roster_generation:' || home_chapter_id) FROM "
 'members WHERE id = NEW.member_id; END IF;\n'
 '  RETURN NULL;\n'
 'END $$',
 'DROP TRIGGER IF EXISTS membership_terms_roster_changed ON membership_terms',
 'CREATE CONSTRAINT TRIGGER membership_terms_roster_changed AFTER INSERT OR UPDATE OR DELETE ON membership_terms '
 'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chapter_roster_term_changed()',
 'DROP TRIGGER IF EXISTS membership_types_rosters_changed ON membership_types',
 'CREATE CONSTRAINT TRIGGER membership_types_rosters_changed AFTER UPDATE OF grace_days ON membership_types '
 'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.grace_days IS DISTINCT FROM NEW.grace_days) EXECUTE '
 'FUNCTION chapter_rosters_changed()')

POSTGRESQL_DOWN = (
    "DROP TRIGGER IF EXISTS members_search_added_or_removed ON members",
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "DROP TRIGGER IF EXISTS members_search_truncated ON members",
    "DROP TRIGGER IF EXISTS members_roster_added_or_removed ON members",
    "DROP TRIGGER IF EXISTS members_roster_changed ON members",
    "DROP TRIGGER IF EXISTS members_rosters_truncated ON members",
    "DROP TRIGGER IF EXISTS membership_terms_roster_changed ON membership_terms",
    "DROP TRIGGER IF EXISTS membership_types_rosters_changed ON membership_types",
    "DROP FUNCTION IF EXISTS chapter_member_search_changed()",
    "DROP FUNCTION IF EXISTS chapter_roster_member_changed()",
    "DROP FUNCTION IF EXISTS chapter_roster_term_changed()",
    "DROP FUNCTION IF EXISTS chapter_rosters_changed()",
    "DROP FUNCTION IF EXISTS chapter_raise_generation(text)",
)
SQLITE_UP = ('CREATE TRIGGER IF NOT EXISTS members_search_changed_insert AFTER INSERT ON members BEGIN INSERT INTO counters '
 "(name, next_value) SELECT 'member_search_generation', CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 "INTEGER) WHERE true ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - "
 '2440587.5) * 86400000000 AS INTEGER)); END',
 'CREATE TRIGGER IF NOT EXISTS members_search_changed_delete AFTER DELETE ON members BEGIN INSERT INTO counters '
 "(name, next_value) SELECT 'member_search_generation', CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 "INTEGER) WHERE true ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - "
 '2440587.5) * 86400000000 AS INTEGER)); END',
 'CREATE TRIGGER IF NOT EXISTS members_search_changed_update AFTER UPDATE OF search_text ON members WHEN '
 'old.search_text IS NOT new.search_text BEGIN INSERT INTO counters (name, next_value) SELECT '
 "'member_search_generation', CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) WHERE true ON CONFLICT "
 "(name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 'INTEGER)); END',
 'CREATE TRIGGER IF NOT EXISTS members_roster_insert AFTER INSERT ON members BEGIN INSERT INTO counters (name, '
 "next_value) SELECT 'roster_generation:' || new.home_chapter_id, CAST((julianday('now') - 2440587.5) * "
 '86400000000 AS INTEGER) WHERE new.home_chapter_id IS NOT NULL ON CONFLICT (name) DO UPDATE SET next_value = '
 "max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); END",
 'CREATE TRIGGER IF NOT EXISTS members_roster_delete AFTER DELETE ON members BEGIN INSERT INTO counters (name, '
 "next_value) SELECT 'roster_generation:' || old.home_chapter_id, CAST((julianday('now') - 2440587.5) * "
 '86400000000 AS INTEGER) WHERE old.home_chapter_id IS NOT NULL ON CONFLICT (name) DO UPDATE SET next_value = '
 "max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); END",
 'CREATE TRIGGER IF NOT EXISTS members_roster_update AFTER UPDATE OF home_chapter_id, paid_through, joined_on, '
 'grace_ends_on, continuous_since ON members BEGIN INSERT INTO counters (name, next_value) SELECT '
 "'roster_generation:' || old.home_chapter_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) WHERE "
 'old.home_chapter_id IS NOT NULL ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, '
 "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); INSERT INTO counters (name, next_value) SELECT "
 "'roster_generation:' || new.home_chapter_id, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) WHERE "
 'new.home_chapter_id IS NOT NULL ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, '
 "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); END",
 'CREATE TRIGGER IF NOT EXISTS membership_terms_roster_insert AFTER INSERT ON membership_terms BEGIN INSERT INTO '
 "counters (name, next_value) SELECT 'roster_generation:' || home_chapter_id, CAST((julianday('now') - 2440587.5) "
 '* 86400000000 AS INTEGER) FROM members WHERE id = new.member_id AND home_chapter_id IS NOT NULL ON CONFLICT '
 "(name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 'INTEGER)); END',
 'CREATE TRIGGER IF NOT EXISTS membership_terms_roster_delete AFTER DELETE ON membership_terms BEGIN INSERT INTO '
 "counters (name, next_value) SELECT 'roster_generation:' || home_chapter_id, CAST((julianday('now') - 2440587.5) "
 '* 86400000000 AS INTEGER) FROM members WHERE id = old.member_id AND home_chapter_id IS NOT NULL ON CONFLICT '
 "(name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 'INTEGER)); END',
 'CREATE TRIGGER IF NOT EXISTS membership_terms_roster_update AFTER UPDATE ON membership_terms BEGIN INSERT INTO '
 "counters (name, next_value) SELECT 'roster_generation:' || home_chapter_id, CAST((julianday('now') - 2440587.5) "
 '* 86400000000 AS INTEGER) FROM members WHERE id = old.member_id AND home_chapter_id IS NOT NULL ON CONFLICT '
 "(name) DO UPDATE SET next_value = max(next_value + 1, CAST((julianday('now') - 2440587.5) * 86400000000 AS "
 "INTEGER)); INSERT INTO counters (name, next_value) SELECT 'roster_generation:' || home_chapter_id, "
 "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) FROM members WHERE id = new.member_id AND "
 'home_chapter_id IS NOT NULL ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, '
 "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); END",
 'CREATE TRIGGER IF NOT EXISTS membership_types_rosters_update AFTER UPDATE OF grace_days ON membership_types '
 "BEGIN INSERT INTO counters (name, next_value) SELECT 'roster_generation:all', CAST((julianday('now') - "
 '2440587.5) * 86400000000 AS INTEGER) WHERE true ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + '
 "1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)); END")

SQLITE_DOWN = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in (
    "members_search_changed_insert", "members_search_changed_delete", "members_search_changed_update",
    "members_roster_insert", "members_roster_delete", "members_roster_update", "membership_terms_roster_insert",
    "membership_terms_roster_delete", "membership_terms_roster_update", "membership_types_rosters_update"))
NOW_US = {"postgresql": "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
          "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"}
FIRST = ("INSERT INTO counters (name, next_value) SELECT 'member_search_generation', {now} WHERE true "
         "UNION ALL SELECT 'roster_generation:' || id, {now} FROM chapters WHERE true ON CONFLICT (name) DO NOTHING")


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}.get(dialect, ()):
        op.execute(statement)
    if dialect in NOW_US:
        op.execute(FIRST.format(now=NOW_US[dialect]))


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in {"postgresql": POSTGRESQL_DOWN, "sqlite": SQLITE_DOWN}.get(dialect, ()):
        op.execute(statement)
    op.execute("DELETE FROM counters WHERE name = 'member_search_generation' OR substr(name, 1, 18) = 'roster_generation:'")
