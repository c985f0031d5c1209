"""Keyset paging with opaque cursors: a page is "the rows after this key", so page 50 costs what page 1
costs (no OFFSET) and a member added or removed meanwhile neither repeats nor skips another."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Sequence

import sqlalchemy as sa
from flask_smorest import abort  # webargs' abort: keeps `messages` for the problem's field errors

from chapter.extensions import db


def encode(key: Sequence[Any]) -> str:
    """The cursor for the rows after `key` (URL-safe, opaque to clients)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, types: Sequence[type]) -> list[Any] | None:
    """The key in a cursor this API made; 422 naming `cursor` for anything else."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
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
