"""Who is calling the API, and what they reach: the token's scopes and chapters intersected with its
creator's roles *today*, re-read on every request (an officer whose term ended loses what their tokens
reached the day it ended).

The API reads no cookie and no session: only `Authorization: Bearer <token>`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import abort, request

from chapter.api import tokens
from chapter.api.models import ApiToken
from chapter.chapters.models import Chapter
from chapter.chapters.services import get_chapter_by_number
from chapter.core.models import utcnow
from chapter.core.permissions import Roles, roles_of
from chapter.extensions import db

ENVIRON_KEY = "chapter.api.access"

# What the creator must be able to do, today, in a chapter for each chapter scope to reach it.
SCOPE_RIGHTS: dict[str, Callable[[Roles, Chapter], bool]] = {
    "roster:read": Roles.can_view_roster,
    "members:read": Roles.can_view_roster,
    "payments:read": Roles.can_view_finances,
    "events:read": lambda roles, chapter: roles.can_view_roster(chapter) or roles.can_manage_events(chapter),
    "events:write": Roles.can_manage_events,
}


@dataclass
class TokenAccess:
    """A verified token, its creator's roles today and the chapters named on it."""

    token: ApiToken
    roles: Roles
    _chapter_ids: frozenset[int] | None = None

    @property
    def chapter_ids(self) -> frozenset[int]:
        if self._chapter_ids is None:
            self._chapter_ids = tokens.token_chapter_ids(self.token)
        return self._chapter_ids

    def names(self, chapter: Chapter) -> bool:
        """The token was given this chapter (by name, or as 'every chapter I may see')."""
        return self.token.all_chapters or chapter.id in self.chapter_ids

    def reaches(self, scope: str, chapter: Chapter) -> bool:
        """The token has the scope, names the chapter, and its creator holds the right there today."""
        right = SCOPE_RIGHTS[scope]
        return scope in self.token.scope_set and self.names(chapter) and right(self.roles, chapter)


def authenticate(now: datetime | None = None) -> TokenAccess | None:
    """Read the Bearer token of the request: None without one; 401 for a bad, expired or revoked one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        abort(401, "The Authorization header must read `Bearer <token>`.")
    now = now or utcnow()
    token = tokens.find_token(value.strip(), now)
    if token is None:
        abort(401, "The token is unknown, revoked or expired.")
    if tokens.record_use(token, now):
        # Its own unit of work, before the view (as a log-in's stamp): a GET commits nothing, and a
        # refused write must not take the last use with it.
        db.session.commit()
    access = TokenAccess(token=token, roles=roles_of(token.user, now.date()))
    request.environ[ENVIRON_KEY] = access
    return access


def current_access() -> TokenAccess | None:
    return request.environ.get(ENVIRON_KEY)


def require_scope(scope: str) -> TokenAccess:
    """The request's access if its token has `scope`: 401 without a token, 403 without the scope."""
    access = current_access()
    if access is None:
        abort(401)
    if scope not in access.token.scope_set:
        abort(403, f"The token does not have the {scope} scope.")
    return access


def chapter_for(number: int, scope: str) -> Chapter:
    """Load a chapter and check the token reaches it for `scope` (404 unknown, 403 not reached)."""
    access = require_scope(scope)
    chapter = get_chapter_by_number(number)
    if chapter is None:
        abort(404, f"There is no chapter {number}.")
    if not access.names(chapter):
        abort(403, f"The token was not given chapter {number}.")
    if not SCOPE_RIGHTS[scope](access.roles, chapter):
        abort(403, f"The token's owner may no longer use {scope} in chapter {number}.")
    return chapter


def rate_limit_key() -> str:
    """Flask-Limiter's key: the token's public prefix when the request has a well-formed one, else the address."""
    header = request.headers.get("Authorization", "")
    match = tokens.TOKEN_PATTERN.fullmatch(header.partition(" ")[2].strip())
    if match is not None:
        return f"api-token:{match.group(1)}"
    return f"api-address:{request.remote_addr or 'unknown'}"
