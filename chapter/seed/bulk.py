"""Bulk loading for the seed: PostgreSQL's COPY (psycopg), an executemany INSERT elsewhere.

`insert_rows(table, rows)` writes plain dicts as SQLAlchemy's own INSERT would: the columns' Python
defaults (created_at, search_text, ...) are filled in for keys a row leaves out, and each value goes
through its column type's bind processor (enums as their stored value). On PostgreSQL the rows are
streamed with `COPY ... FROM STDIN`, several times faster than INSERT ... VALUES for 100,000s of rows;
on SQLite an executemany INSERT (its triggers keep the FTS search table in step either way).
`reserve_ids(table, n)` hands out primary keys first, so rows of other tables can point at rows not
yet written. `indexes_deferred(tables)`: on PostgreSQL the tables' plain (non-unique) indexes are dropped
for the load and built again after it from their own definitions, in bulk: keeping a trigram GIN index
up to date row by row costs more than the load itself.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterable, Iterator

import sqlalchemy as sa

from chapter.extensions import db


class _DefaultContext:
    """What a column's Python default callable may ask of the insert being made: the row's values."""

    def __init__(self, row: dict[str, Any]):
        self.current_parameters = row

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> dict[str, Any]:
        return self.current_parameters


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def reserve_ids(table: sa.Table, count: int) -> list[int]:
    """`count` new primary keys of `table` (its sequence on PostgreSQL; past the largest id elsewhere)."""
    if count <= 0:
        return []
    if _dialect() == "postgresql":
        return list(db.session.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
            {"table": table.name, "count": count},
        ).scalars())
    first = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


def _with_defaults(table: sa.Table, rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names to write and the rows with every missing Python default filled in."""
    given = list(rows[0])
    defaulted = [column for column in table.columns
                 if column.name not in rows[0] and column.default is not None and not column.default.is_sequence]
    for column in defaulted:
        default = column.default
        if default.is_scalar:
            for row in rows:
                row.setdefault(column.name, default.arg)
        elif default.is_callable:
            for row in rows:
                if column.name not in row:
                    row[column.name] = default.arg(_DefaultContext(row))
    return given + [column.name for column in defaulted], rows


def insert_rows(table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert plain rows into `table` as fast as the database takes them; returns how many."""
    rows = list(rows)
    if not rows:
        return 0
    names, rows = _with_defaults(table, rows)
    if _dialect() != "postgresql":
        db.session.execute(sa.insert(table), rows)
        return len(rows)
    dialect = db.session.get_bind().dialect
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    connection = db.session.connection().connection.driver_connection  # the psycopg connection
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {dialect.identifier_preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value if processor is None or value is None else processor(value)
                                for value, processor in zip((row.get(name) for name in names), processors)])
    return len(rows)


@contextmanager
def indexes_deferred(*tables: sa.Table) -> Iterator[None]:
    """PostgreSQL: drop the tables' foreign keys and non-unique indexes now; on leaving, build the indexes
    again and add the foreign keys back (same definitions; each key checked once for all rows, by a join).

    Unique and primary-key indexes stay, so duplicates still fail at once. In the caller's transaction:
    a failure rolls the drops back with the rows. Elsewhere: nothing to do.
    """
    if _dialect() != "postgresql":
        yield
        return
    # Deferred triggers (generations of counts kept, chapter.core.generations) fire at once from here on:
    # PostgreSQL alters no table, and builds no index, with trigger events of its rows pending.
    db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    names = {"tables": [table.name for table in tables]}
    indexes = db.session.execute(sa.text(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
        "WHERE indrelid = ANY(CAST(:tables AS regclass[])) AND NOT indisunique AND NOT indisprimary "
        "ORDER BY indexrelid"), names).all()
    foreign_keys = db.session.execute(sa.text(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY(CAST(:tables AS regclass[])) AND contype = 'f' ORDER BY oid"), names).all()
    for table, name, _ in foreign_keys:
        db.session.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    for name, _ in indexes:
        db.session.execute(sa.text(f"DROP INDEX {name}"))
    yield
    db.session.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))  # this transaction's index builds
    for _, definition in indexes:
        db.session.execute(sa.text(definition))
    for table, name, definition in foreign_keys:
        db.session.execute(sa.text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
