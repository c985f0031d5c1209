"""Who may do what: roles held on a day, and decorators for routes.

Role checks sit on routes (`staff_required`); object checks (`Roles.can_view_roster(chapter)`)
on what a view has loaded. Roles are computed from dated terms, so an officer's rights start
on the first day of the term and end after the last.
"""
from __future__ import annotations

import collections
import functools
import json
from dataclasses import dataclass, field
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Callable

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user

from chapter.core.models import today
from chapter.extensions import db, login_manager

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter


def _current_on(model, day: date):
    return sa.and_(model.starts_on <= day, sa.or_(model.ends_on.is_(None), model.ends_on >= day))


@dataclass(frozen=True)
class Roles:
    """The roles one user holds on one day."""

    user_id: int | None = None
    is_staff: bool = False
    managed_district_ids: frozenset[int] = frozenset()
    # chapter id -> the positions held there, each a read-only row of officer_positions' columns (code, title,
    # the can_* rights) as roles_of reads them, not an OfficerPosition entity.
    positions_by_chapter: dict[int, tuple[tuple, ...]] = field(default_factory=dict)

    @property
    def is_officer(self) -> bool:
        return bool(self.positions_by_chapter)

    @property
    def is_district_manager(self) -> bool:
        return bool(self.managed_district_ids)

    def positions_in(self, chapter: "Chapter") -> tuple[tuple, ...]:
        return self.positions_by_chapter.get(chapter.id, ())

    def _oversees(self, chapter: "Chapter") -> bool:
        return self.is_staff or chapter.district_id in self.managed_district_ids

    def can_view_roster(self, chapter: "Chapter") -> bool:
        """Officers of the chapter, its district manager and staff see its roster."""
        return self._oversees(chapter) or any(p.can_view_roster for p in self.positions_in(chapter))

    def can_export_roster(self, chapter: "Chapter") -> bool:
        """Download the roster as CSV: positions with the export right (not district managers) and staff."""
        return self.is_staff or any(p.can_export_roster for p in self.positions_in(chapter))

    def can_manage_members(self, chapter: "Chapter") -> bool:
        """Import members and ask members of other chapters to transfer in."""
        return self.is_staff or any(p.can_manage_members for p in self.positions_in(chapter))

    def can_write_notes(self, chapter: "Chapter") -> bool:
        """Add dated notes on members: the chapter's officers who see its roster, and staff."""
        return self.is_staff or any(p.can_view_roster for p in self.positions_in(chapter))

    def can_read_audit_log(self, chapter: "Chapter") -> bool:
        """Read who changed what in the chapter: positions with that right (the president) and staff."""
        return self.is_staff or any(p.can_read_audit_log for p in self.positions_in(chapter))

    def can_message_members(self, chapter: "Chapter") -> bool:
        """E-mail lists of the chapter's members: positions with that right (data) and staff."""
        return self.is_staff or any(p.can_message_members for p in self.positions_in(chapter))

    def can_manage_officers(self, chapter: "Chapter") -> bool:
        return self.is_staff or any(p.can_manage_officers for p in self.positions_in(chapter))

    def can_view_finances(self, chapter: "Chapter") -> bool:
        return self.is_staff or any(p.can_view_finances for p in self.positions_in(chapter))

    def can_manage_events(self, chapter: "Chapter") -> bool:
        """Create, publish, edit and cancel the chapter's events: positions with that right, and staff."""
        return self.is_staff or any(p.can_manage_events for p in self.positions_in(chapter))
    def can_manage_integrations(self, chapter: "Chapter") -> bool:
        """Register the chapter's outgoing webhook endpoints: positions with that right (the president) and staff."""
        return self.is_staff or any(p.can_manage_integrations for p in self.positions_in(chapter))


ANONYMOUS_ROLES = Roles()


@functools.cache
def _roles_statement(dialect: str) -> sa.Select:
    """roles_of's one query, built once a dialect with bind parameters: the two columns of
    `roles_with_user_columns` (the positions held on the day, the districts managed) on their own."""
    user_id, day = sa.bindparam("user_id", type_=sa.Integer), sa.bindparam("day", type_=sa.Date)
    return sa.select(*roles_with_user_columns(user_id, day, dialect))


def roles_of(user: "User | None", day: date | None = None) -> Roles:
    """Load the roles a user holds on `day` (today by default) in one small query.

    A position is a read-only row of its officer_positions columns (code, title, the can_* rights)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS_ROLES
    positions, districts = db.session.execute(_roles_statement(db.engine.dialect.name),
                                              {"user_id": user.id, "day": day or today()}).one()
    return roles_from_columns(user, positions, districts)


def current_roles() -> Roles:
    """The logged-in user's roles today, loaded once per request.

    Cached on the request (not on `g`, which an app context can share between requests),
    and only for the user it was loaded for, so logging in or out mid-request is seen. The session's
    user comes with their roles in the same query (`roles_with_user_columns`), so usually nothing is asked here.
    """
    user = current_user if current_user.is_authenticated else None
    cached = request.environ.get("chapter.roles")
    if cached is None or cached.user_id != (user.id if user else None):
        loaded = request.environ.get(LOADED_ROLES_KEY)
        if user is not None and loaded is not None and loaded[0] == user.id and loaded[1] == today():
            cached = roles_from_columns(user, loaded[2], loaded[3])
        else:
            cached = roles_of(user)
        request.environ["chapter.roles"] = cached
    return cached


# Where the session's user loader leaves (user id, day, positions JSON, districts JSON) for current_roles.
LOADED_ROLES_KEY = "chapter.loaded_roles"


@functools.cache
def _position_row_type() -> type:
    """A position as Roles keeps it: chapter_id, district_id (None), then officer_positions' columns by name."""
    from chapter.chapters.models import OfficerPosition

    return collections.namedtuple("PositionRow", ["chapter_id", "district_id",
                                                  *(c.name for c in OfficerPosition.__table__.columns)])


def roles_with_user_columns(user_id, day, dialect: str) -> list:
    """Two scalar subqueries to add to the SELECT of a user (`user_id` its id column, `day` a bind parameter,
    `dialect` the database's, whose JSON functions differ):
    the officer positions held on `day` and the districts managed, each a JSON array (text), which
    `roles_from_columns` reads. The session's user is loaded with them (one round trip instead of two); roles_of
    selects them alone."""
    from chapter.chapters.models import DistrictManagerTerm, OfficerPosition, OfficerTerm

    aggregate, array = (sa.func.json_agg, sa.func.json_build_array) if dialect == "postgresql" else \
        (sa.func.json_group_array, sa.func.json_array)
    positions = (sa.select(sa.cast(aggregate(array(OfficerTerm.chapter_id, *OfficerPosition.__table__.columns)), sa.Text))
                 .join(OfficerPosition, OfficerTerm.position_id == OfficerPosition.id)
                 .where(OfficerTerm.user_id == user_id, _current_on(OfficerTerm, day)))
    districts = (sa.select(sa.cast(aggregate(DistrictManagerTerm.district_id), sa.Text))
                 .where(DistrictManagerTerm.user_id == user_id, _current_on(DistrictManagerTerm, day)))
    return [positions.scalar_subquery().label("officer_positions_json"),
            districts.scalar_subquery().label("managed_districts_json")]


def roles_from_columns(user: "User", positions_json: str | None, districts_json: str | None) -> Roles:
    """The Roles that `roles_with_user_columns`' two JSON arrays describe (roles_of and the session's user)."""
    from chapter.chapters.models import OfficerPosition

    row_type = _position_row_type()
    booleans = [isinstance(c.type, sa.Boolean) for c in OfficerPosition.__table__.columns]
    positions: dict[int, list] = {}
    for chapter_id, *values in json.loads(positions_json or "[]"):
        values = [bool(v) if boolean else v for v, boolean in zip(values, booleans)]  # SQLite's JSON: 0 and 1
        positions.setdefault(chapter_id, []).append(row_type(chapter_id, None, *values))
    return Roles(
        user_id=user.id,
        is_staff=user.is_staff,
        managed_district_ids=frozenset(json.loads(districts_json or "[]")),
        positions_by_chapter={k: tuple(v) for k, v in positions.items()},
    )


def staff_required(view: Callable) -> Callable:
    """Route decorator: national staff only (log-in page for the anonymous, 403 for others)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
