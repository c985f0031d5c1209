"""How many members a search matches, counted once per state of the members' search texts, not on every page.

An exact count reads every match: the trigram index is lossy, so PostgreSQL rechecks each matching row, and
"smith" matches 9,898 members at 500,000 (11-13 ms, two thirds of the page). Paging through the results, sorting
them again or coming back to them asked the same question each time. The count is now kept in this process
under the search and the *generation* of the members' search texts:

- the generation is a row of `counters` (`member_search_generation`), raised by database triggers on every
  INSERT, DELETE and UPDATE of `search_text` on members (and TRUNCATE): whoever writes (a request, the worker,
  an import, raw SQL), and in the writer's own transaction, so the new generation becomes visible together with
  the change. PostgreSQL: one statement-level trigger; SQLite: one trigger per row kind;
- a page reads the generation (one small query) before it counts, so a count is kept under a generation no
  newer than the data it read; a change committed meanwhile gives a new generation, and the next page counts
  again. A stale count is never served, whichever worker made the change;
- a request whose own transaction has written (it would see its own, uncommitted, generation) neither reads nor
  keeps counts; nor does anything when the row is missing (a database emptied by hand): it just counts;
- counts are plain integers, least recently used dropped first, and none is kept over `SECONDS` whatever happens.

The raise takes the counter row's lock until the writer commits, as creating a member already did with the
member-number counter; renaming members now also waits for a running import, for its commit.
The process's memory is the only place counts are kept: restarting the web processes (as after a restore) drops them.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable

import sqlalchemy as sa

from chapter.extensions import db

GENERATION = "member_search_generation"
KEPT = 512
SECONDS = 600.0

# The generation only grows, and never below the clock in microseconds: a counter row deleted (a database emptied
# in tests) or put back (a restore) starts past every generation a running process may still hold counts for.
_NOW_US = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
_RAISE = (f"INSERT INTO counters (name, next_value) VALUES ('{GENERATION}', {_NOW_US}) "
          f"ON CONFLICT (name) DO UPDATE SET next_value = GREATEST(counters.next_value + 1, {_NOW_US})")
POSTGRESQL_DDL = (
    "CREATE OR REPLACE FUNCTION chapter_member_search_changed() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {_RAISE}; RETURN NULL; END $$",
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "CREATE TRIGGER members_search_changed AFTER INSERT OR DELETE OR UPDATE OF search_text OR TRUNCATE ON members "
    "FOR EACH STATEMENT EXECUTE FUNCTION chapter_member_search_changed()",
)
POSTGRESQL_DROP = (
    "DROP TRIGGER IF EXISTS members_search_changed ON members",
    "DROP FUNCTION IF EXISTS chapter_member_search_changed()",
)
_SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
_SQLITE_RAISE = (f"INSERT INTO counters (name, next_value) VALUES ('{GENERATION}', {_SQLITE_NOW_US}) "
                 f"ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, {_SQLITE_NOW_US})")
SQLITE_DDL = (
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_insert AFTER INSERT ON members BEGIN {_SQLITE_RAISE}; END",
    f"CREATE TRIGGER IF NOT EXISTS members_search_changed_delete AFTER DELETE ON members BEGIN {_SQLITE_RAISE}; END",
    "CREATE TRIGGER IF NOT EXISTS members_search_changed_update AFTER UPDATE OF search_text ON members "
    f"WHEN old.search_text IS NOT new.search_text BEGIN {_SQLITE_RAISE}; END",
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS members_search_changed_{kind}" for kind in ("insert", "delete", "update"))


class _Counts:
    """Counts by (search key, generation), least recently used dropped first; safe across threads."""

    def __init__(self, size: int = KEPT, seconds: float = SECONDS):
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[tuple, tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> int | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if time.monotonic() - item[0] > self.seconds:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple, value: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


counts = _Counts()


def _generation() -> int | None:
    """The members' search generation, or None when counts must not be kept or read now (see the module)."""
    counter = sa.table("counters", sa.column("name"), sa.column("next_value"))
    value = sa.select(counter.c.next_value).where(counter.c.name == GENERATION).scalar_subquery()
    if db.session.get_bind().dialect.name == "postgresql":
        # txid_current_if_assigned(): NULL until this transaction writes; one round trip for both answers.
        row = db.session.execute(sa.select(value, sa.func.txid_current_if_assigned().is_(None))).one()
        return row[0] if row[1] else None
    if db.session.connection().connection.dbapi_connection.in_transaction:  # pysqlite: a write began one
        return None
    return db.session.scalar(sa.select(value))


def matches_counted(key: tuple, count: Callable[[], int]) -> int:
    """`count()`, or what it gave for `key` (what the search is) since the members' search texts last changed."""
    generation = _generation()
    if generation is None:
        return count()
    kept = counts.get((key, generation))
    if kept is not None:
        return kept
    value = count()
    counts.put((key, generation), value)
    return value
