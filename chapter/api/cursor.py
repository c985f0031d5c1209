"""Keyset paging with opaque cursors: a page is "the rows after this key", so page 50 costs what page 1
costs (no OFFSET) and a member added or removed meanwhile neither repeats nor skips another."""
from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any, Sequence

import sqlalchemy as sa
from flask_smorest import abort  # webargs' abort: keeps `messages` for the problem's field errors

from chapter.extensions import db


def encode(key: Sequence[Any]) -> str:
    """The cursor for the rows after `key` (URL-safe, opaque to clients)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def _unpacked(cursor: str) -> Any:
    """The JSON inside a cursor (base64 without padding), or None when it is not one."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def decode(cursor: str | None, types: Sequence[type]) -> list[Any] | None:
    """The key in a cursor this API made; 422 naming `cursor` for anything else."""
    if not cursor:
        return None
    key = _unpacked(cursor)
    if (not isinstance(key, list) or len(key) != len(types)
            or not all(isinstance(value, kind) and not isinstance(value, bool) for value, kind in zip(key, types))):
        abort(422, messages={"query": {"cursor": ["Not a cursor of this list: pass `next_cursor` as it came."]}})
    return key


def keyset_page(statement: sa.Select, columns: Sequence[sa.ColumnElement], cursor: str | None,
                types: Sequence[type], limit: int, *, descending: bool = False, key_of=None) -> tuple[list, str | None]:
    """One page of `statement` ordered by `columns` (unique together) after the cursor's key, and the next cursor.

    One query: it reads one row more than the page to know whether a next page exists.
    """
    key = decode(cursor, types)
    if key is not None:
        row, after = sa.tuple_(*columns), sa.tuple_(*(sa.literal(value) for value in key))
        statement = statement.where(row < after if descending else row > after)
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = list(db.session.scalars(statement.order_by(*order).limit(limit + 1)).unique())
    items = rows[:limit]
    next_cursor = encode(key_of(items[-1])) if len(rows) > limit and key_of else None
    return items, next_cursor


# --- Keyset pages of a list the client sorts --------------------------------------------------------------
# The cursor then carries the sort it was made for (a cursor of another sort is refused) and a key that may
# hold NULLs (an employer, a paid-through date...). The database orders NULLs as its default does, and so
# does the keyset: PostgreSQL puts them after every value, SQLite before.


def encode_sorted(sort: str, key: Sequence[Any]) -> str:
    """The cursor for the rows after `key` in the list sorted by `sort`."""
    values = [value.isoformat() if isinstance(value, date) else value for value in key]
    payload = json.dumps({"sort": sort, "key": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _refuse(message: str):
    abort(422, messages={"query": {"cursor": [message]}})


def decode_sorted(cursor: str | None, sort: str, parts: Sequence[tuple[type, bool]]) -> list[Any] | None:
    """The key in a cursor this API made for `sort`; 422 naming `cursor` for one of another sort or anything else.

    `parts`: each key column's Python type and whether it can be NULL.
    """
    if not cursor:
        return None
    payload = _unpacked(cursor)
    if not isinstance(payload, dict) or not isinstance(payload.get("key"), list):
        _refuse("Not a cursor of this list: pass `next_cursor` as it came.")
    if payload.get("sort") != sort:
        _refuse(f"This cursor was made for the list sorted by {str(payload.get('sort'))[:40]!r}, not {sort!r}: "
                "pass the same sort and dir as the request that gave it.")
    key = payload["key"]
    if len(key) != len(parts):
        _refuse("Not a cursor of this list (its search or sort differs): pass `next_cursor` as it came.")
    values = []
    for value, (kind, nullable) in zip(key, parts):
        if value is None and nullable:
            values.append(None)
            continue
        if kind is date and isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                value = None
        if not isinstance(value, kind) or isinstance(value, bool):
            _refuse("Not a cursor of this list: pass `next_cursor` as it came.")
        values.append(value)
    return values


def _after(columns: Sequence[sa.ColumnElement], key: Sequence[Any], nullable: Sequence[bool], *, descending: bool,
           nulls_last_ascending: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after `key` in ORDER BY columns (all ASC or all DESC, the database's NULL placement)."""
    if not any(nullable):  # a row-value comparison: the index on the sort columns serves it
        row, after = sa.tuple_(*columns), sa.tuple_(*(sa.literal(v, c.type) for v, c in zip(key, columns)))
        return row < after if descending else row > after
    # NULLs come after the values when scanning ascending on PostgreSQL, or descending on SQLite.
    nulls_after_values = nulls_last_ascending != descending
    alternatives, equal_so_far = [], []
    for column, value, can_be_null in zip(columns, key, nullable):
        if value is None:
            beyond = sa.false() if nulls_after_values else column.is_not(None)
            same = column.is_(None)
        else:
            bound = sa.literal(value, column.type)
            beyond = column < bound if descending else column > bound
            if can_be_null and nulls_after_values:
                beyond = sa.or_(beyond, column.is_(None))
            same = column == bound
        alternatives.append(sa.and_(*equal_so_far, beyond))
        equal_so_far.append(same)
    return sa.or_(*alternatives)


def sorted_keyset_page(statement: sa.Select, columns: Sequence[sa.ColumnElement], nullable: Sequence[bool],
                       sort: str, cursor: str | None, limit: int, *, descending: bool = False) -> tuple[list, str | None]:
    """One page of `statement` (ORDER BY `columns`, unique together, each ASC or each DESC) after the cursor's
    key, and the cursor of the next page (made for `sort`). One query, reading one row more than the page."""
    parts = [(column.type.python_type, can_be_null) for column, can_be_null in zip(columns, nullable)]
    key = decode_sorted(cursor, sort, parts)
    if key is not None:
        nulls_last = db.session.get_bind().dialect.name == "postgresql"
        statement = statement.where(_after(columns, key, nullable, descending=descending, nulls_last_ascending=nulls_last))
    order = [column.desc() if descending else column.asc() for column in columns]
    rows = db.session.execute(statement.add_columns(*columns).order_by(None).order_by(*order).limit(limit + 1)).all()
    items = [row[0] for row in rows[:limit]]
    next_cursor = encode_sorted(sort, tuple(rows[limit - 1])[1:]) if len(rows) > limit else None
    return items, next_cursor
