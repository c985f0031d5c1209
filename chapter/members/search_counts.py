"""How many members a search matches, counted once per state of the members' search texts, not on every page.

An exact count reads every match: the trigram index is lossy, so PostgreSQL rechecks each matching row, and
"smith" matches 9,898 members at 500,000 (11-13 ms, two thirds of the page). Paging through the results, sorting
them again or coming back to them asked the same question each time. The count is now kept in this process
under the search and the generation (`chapter.core.generations`) of the members' search texts,
`member_search_generation`, which triggers raise on every INSERT and DELETE of a member, every change of a
`search_text` and a TRUNCATE: a stale count is never served, whichever worker, import or raw SQL made the change.
A page whose transaction has written, or a database without the generation's row, just counts.
"""
from __future__ import annotations

from typing import Callable

from chapter.core import generations

GENERATION = "member_search_generation"

POSTGRESQL_DDL = (
    generations.POSTGRESQL_RAISE_FUNCTION,
    "CREATE OR REPLACE FUNCTION chapter_member_search_changed() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN PERFORM chapter_raise_generation('{GENERATION}'); RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS members_search_added_or_removed ON members",
    "CREATE CONSTRAINT TRIGGER members_search_added_or_removed AFTER INSERT OR DELETE ON members "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chapter_member_search_changed()",
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "CREATE CONSTRAINT TRIGGER members_search_changed AFTER UPDATE OF search_text ON members "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text) "
    "EXECUTE FUNCTION chapter_member_search_changed()",
    "DROP TRIGGER IF EXISTS members_search_truncated ON members",
    "CREATE TRIGGER members_search_truncated AFTER TRUNCATE ON members "
    "FOR EACH STATEMENT EXECUTE FUNCTION chapter_member_search_changed()",
)
POSTGRESQL_DROP = ("DROP FUNCTION IF EXISTS chapter_member_search_changed() CASCADE",
                   generations.POSTGRESQL_DROP_RAISE_FUNCTION)
_RAISE = generations.sqlite_raise(f"'{GENERATION}'")
SQLITE_DDL = (
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_insert AFTER INSERT ON members BEGIN {_RAISE}; END",
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_delete AFTER DELETE ON members BEGIN {_RAISE}; END",
    "CREATE TRIGGER IF NOT EXISTS members_search_changed_update AFTER UPDATE OF search_text ON members "
    f"WHEN old.search_text IS NOT new.search_text BEGIN {_RAISE}; END",
)

counts = generations.Kept()


def matches_counted(key: tuple, count: Callable[[], int]) -> int:
    """`count()`, or what it gave for `key` (what the search is) since the members' search texts last changed."""
    found = generations.read(GENERATION)
    generation = found.get(GENERATION) if found is not None else None
    return counts.get_or_derive((key, generation) if generation is not None else None, count)
