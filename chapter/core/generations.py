"""Generations: numbers the database raises whenever some data changes, so that what is derived from that data (a
count of 10,000 search matches, a chapter's status counts) can be kept per process and never served stale.

A generation is a row of `counters` (its name, e.g. `member_search_generation`). Triggers raise it in the
writer's own transaction, so a new generation becomes visible together with the change, whoever writes (a
request, the worker, an import, raw SQL):
- PostgreSQL: constraint triggers, deferred to the commit, one raise per generation per transaction (the ones
  raised are remembered in the transaction's `chapter.generations_raised` setting). At the commit a writer holds
  all the row locks it will take, so waiting there for a generation row cannot close a cycle of waits: no
  deadlock with the application's own locks;
- SQLite: a trigger per kind of row change (SQLite has one writer at a time anyway).

A generation only grows and never falls below the clock in microseconds: a row deleted (a database emptied in
the tests) or put back (a restore) starts past every generation a running process may still hold values for.

The reader (`read`) asks for the generations before it derives anything, so a value is kept under generations
no newer than the data it read: a change committed meanwhile gives new generations, and the next reader derives
again. A transaction that has written sees its own raises, which are not committed and may never be: it neither
reads nor keeps values (`read` answers None). `Kept` holds the values: plain data, least recently used dropped
first, none kept over its age limit whatever happens. The process's memory is the only place they are kept.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import sqlalchemy as sa

from chapter.extensions import db

KEPT = 512
SECONDS = 600.0

_POSTGRESQL_NOW_US = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
_SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"

# chapter_raise_generation(name): raise it once per transaction (PostgreSQL).
POSTGRESQL_RAISE_FUNCTION = (
    "CREATE OR REPLACE FUNCTION chapter_raise_generation(generation text) RETURNS void LANGUAGE plpgsql AS $$\n"
    "DECLARE raised text := coalesce(nullif(current_setting('chapter.generations_raised', true), ''), '|');\n"
    "BEGIN\n"
    "  IF generation IS NOT NULL AND position('|' || generation || '|' IN raised) = 0 THEN\n"
    f"    INSERT INTO counters (name, next_value) VALUES (generation, {_POSTGRESQL_NOW_US})\n"
    f"    ON CONFLICT (name) DO UPDATE SET next_value = GREATEST(counters.next_value + 1, {_POSTGRESQL_NOW_US});\n"
    "    PERFORM set_config('chapter.generations_raised', raised || generation || '|', true);\n"
    "  END IF;\n"
    "END $$"
)

# Dropped with the tables (`after_drop`), so that dropping every table leaves an empty database (a restore's target).
POSTGRESQL_DROP_RAISE_FUNCTION = "DROP FUNCTION IF EXISTS chapter_raise_generation(text) CASCADE"


def sqlite_raise(name_sql: str, source: str = "WHERE true") -> str:
    """SQLite: a trigger's step raising the generation whose name the SQL expression `name_sql` gives, for the rows
    of `source` (e.g. "FROM members WHERE id = new.member_id"; SQLite's upsert needs its SELECT to have a WHERE)."""
    return (f"INSERT INTO counters (name, next_value) SELECT {name_sql}, {_SQLITE_NOW_US} {source} "
            f"ON CONFLICT (name) DO UPDATE SET next_value = max(next_value + 1, {_SQLITE_NOW_US})")


def read(*names: str) -> dict[str, int] | None:
    """The generations by name (a missing row is left out), or None when this transaction has written."""
    counter = sa.table("counters", sa.column("name"), sa.column("next_value"))
    wanted = sa.select(counter.c.name, counter.c.next_value).where(counter.c.name.in_(names))
    if db.session.get_bind().dialect.name == "postgresql":
        # One round trip: txid_current_if_assigned() is NULL until this transaction writes.
        found = (sa.select(sa.func.json_object_agg(counter.c.name, counter.c.next_value))
                 .where(counter.c.name.in_(names)).scalar_subquery())
        clean, generations = db.session.execute(
            sa.select(sa.func.txid_current_if_assigned().is_(None), found)).one()
        return (generations or {}) if clean else None
    if db.session.connection().connection.dbapi_connection.in_transaction:  # pysqlite began one for a write
        return None
    return dict(db.session.execute(wanted).all())


class Kept:
    """Values by key (which holds the generations they were derived under); safe across threads."""

    def __init__(self, size: int = KEPT, seconds: float = SECONDS):
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if time.monotonic() - item[0] > self.seconds:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._items[key] = (time.monotonic(), value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_derive(self, key: tuple | None, derive: Callable[[], Any]) -> Any:
        """The value kept under `key`, or `derive()`'s, kept from now on; with no key, derived and not kept."""
        if key is None:
            return derive()
        value = self.get(key)
        if value is None:
            value = derive()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
