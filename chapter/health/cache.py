"""The membership figures kept per version of the data they come from, in this process.

A district's figures read every member and term of its chapters (a few hundred milliseconds at 50,000
members); they change only when members, terms or membership types do. The version is one small query: the
highest id and latest `updated_at` of those three tables (indexed), and the day. Any insert or update through
the app (ORM or Core statements, which set `updated_at`) gives a new version, so stale figures are never shown,
whichever process made the change; nothing is lost on restart (derived data). The app deletes none of these
rows; a row deleted by hand is seen the next day or at the next change. The activity (events,
messages) is asked of the registry each time, not kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable

import sqlalchemy as sa

from chapter.extensions import db
from chapter.members.models import Member, MembershipTerm, MembershipType

KEPT = 64  # districts, chapters and the staff page, for a few days


class _Kept:
    def __init__(self, size: int = KEPT):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


kept = _Kept()


def data_version() -> tuple:
    """Latest row and latest change of members, terms and membership types, in one query answered by indexes
    (the app never deletes any of them: a refund voids a term, a member record stays)."""
    parts = []
    for model in (Member, MembershipTerm, MembershipType):
        parts += [sa.select(sa.func.max(model.id)).scalar_subquery(),
                  sa.select(sa.func.max(model.updated_at)).scalar_subquery()]
    return tuple(str(value) for value in db.session.execute(sa.select(*parts)).one())


def membership_figures(chapter_ids: list[int], w, compute: Callable[[], dict]) -> dict:
    """The figures for these chapters and window, computed once per version of the data."""
    key = (db.engine.url.render_as_string(hide_password=True), tuple(sorted(chapter_ids)), w, data_version())
    found = kept.get(key)
    if found is None:
        found = compute()
        kept.put(key, found)
    return found
