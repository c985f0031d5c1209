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
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable

from flask import Response, get_flashed_messages, make_response, request, session
from flask_login import current_user
from markupsafe import Markup

FRAGMENTS_KEPT = 128


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
