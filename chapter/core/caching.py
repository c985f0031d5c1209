"""Cheap public pages: conditional GETs (ETag, 304) and fragments rendered once per version of their data.

A page built from data that rarely changes (the chapter directory, a chapter's page) asks the
database for a *version* of that data in one small query (latest `updated_at` and row counts of the
tables it shows, and the day, since officer terms are dated). The version is the cache key:
- the rendered fragment is kept in this process under that key (a few entries, least recently used
  dropped first); a change in the database gives a new version, so a stale fragment is never served,
  whichever worker made the change. Nothing is lost when a process restarts: it is derived data;
- for visitors who are not logged in (the page is the same for all of them) the response carries the
  version as an ETag with `Cache-Control: public, no-cache`: browsers and proxies keep it, ask again
  each time, and get a bodyless 304 while nothing changed.
Logged-in pages carry the user's name and a CSRF token, so they are `private, no-cache` and not
answered with 304.

Reference lists (`ReferenceCache`: the membership types and certifications a roster can be filtered by) are
kept per process as plain tuples for `REFERENCE_CACHE_SECONDS`: they change a few times a year, and asking for
them cost the roster two of its round trips. A change made through this process's session (a flush or an ORM
UPDATE/DELETE of the model) drops the copy at once; another worker's copy is at most that many seconds old.
Only what pages display is kept so: rules (prices, points, dates) are always read from the database.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from flask import Response, get_flashed_messages, make_response, request, session
from flask_login import current_user
from markupsafe import Markup

FRAGMENTS_KEPT = 128
REFERENCE_CACHE_SECONDS = 30.0


class FragmentCache:
    """Rendered HTML by key, least recently used dropped first; safe across threads."""

    def __init__(self, size: int = FRAGMENTS_KEPT):
        self.size = size
        self._items: OrderedDict[str, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: str, render: Callable[[], str]) -> Markup:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        html = Markup(render())
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return html

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


fragments = FragmentCache()


class ReferenceCache:
    """Small reference lists by name, loaded once per process and kept `seconds`; dropped at once when this process
    writes one of the models a list was declared with (see the module's docstring). Safe across threads."""

    def __init__(self, seconds: float = REFERENCE_CACHE_SECONDS):
        self.seconds = seconds
        self._lists: dict[str, tuple[float, Any]] = {}
        self._models: dict[str, tuple[type, ...]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, load: Callable[[], Any], *, models: tuple[type, ...]) -> Any:
        """The list kept under `name`, or `load()`'s (plain values, never ORM objects) kept from now on."""
        self._models[name] = models
        now = time.monotonic()
        with self._lock:
            kept = self._lists.get(name)
            if kept is not None and now - kept[0] < self.seconds:
                return kept[1]
        value = load()
        with self._lock:
            self._lists[name] = (now, value)
        return value

    def written(self, classes: set[type]) -> None:
        """Drop every list declared with one of these model classes (they were just written)."""
        with self._lock:
            for name, models in self._models.items():
                if any(issubclass(cls, model) for cls in classes for model in models):
                    self._lists.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()


references = ReferenceCache()


@sa.event.listens_for(Session, "after_flush")
def _references_flushed(session: Session, _flush_context) -> None:
    """A flush that adds, changes or deletes a reference model drops the lists made from it."""
    written = {type(obj) for obj in (*session.new, *session.dirty, *session.deleted)}
    if written:
        references.written(written)


@sa.event.listens_for(Session, "do_orm_execute")
def _references_bulk_written(state) -> None:
    """An ORM UPDATE or DELETE statement (no objects flushed) drops the lists made from its model."""
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None:
        references.written({state.bind_mapper.class_})


def version_tag(*parts: object) -> str:
    """A short, stable tag for a version made of several values."""
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:20]


def is_shared_view() -> bool:
    """True when the page is the same for everyone: not logged in, no message waiting to be shown."""
    return not current_user.is_authenticated and not session.get("_flashes")


def not_modified(etag: str) -> Response | None:
    """A 304 for a visitor whose copy has this ETag (only pages that are the same for everyone)."""
    if is_shared_view() and etag in request.if_none_match:
        response = Response(status=304)
        _cache_headers(response, etag)
        return response
    return None


def cacheable(body: str, etag: str) -> Response:
    """The page, with an ETag and public caching when it is the same for everyone, private otherwise."""
    response = make_response(body)
    if is_shared_view() and not get_flashed_messages(with_categories=False):
        _cache_headers(response, etag)
    else:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    response.vary.add("Cookie")
    return response


def _cache_headers(response: Response, etag: str) -> None:
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.no_cache = True
    response.vary.add("Cookie")
