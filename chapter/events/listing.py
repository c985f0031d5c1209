"""Lists of events, paginated in SQL: the officer's list of a chapter, the calendar (district/national), a
chapter page's upcoming events, and a member's own registrations."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from chapter.chapters.models import Chapter, District
from chapter.core.pagination import Page, paginate
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.events.models import Event, EventKind, EventStatus, Registration, RegistrationStatus
from chapter.extensions import db

OFFICER_SORTS = {"starts": Event.starts_at, "title": Event.title, "status": Event.status}
VISIBLE = (EventStatus.PUBLISHED, EventStatus.COMPLETED, EventStatus.CANCELLED)


def _paid_count():
    return (sa.select(sa.func.count(Registration.id)).where(
        Registration.event_id == Event.id, Registration.status == RegistrationStatus.PAID)
        .correlate(Event).scalar_subquery())


def chapter_events(chapter: Chapter, *, search: str = "", sort: str = "starts", descending: bool = True,
                   page: int = 1, per_page: int = 25) -> Page:
    """The chapter's events for its officers, drafts included: rows of (event, paid registrations)."""
    statement = sa.select(Event, _paid_count().label("paid")).where(Event.chapter_id == chapter.id)
    if search:
        statement = statement.where(Event.title.ilike(contains_pattern(search), escape=LIKE_ESCAPE))
    column = OFFICER_SORTS.get(sort, Event.starts_at)
    statement = statement.order_by(column.desc() if descending else column.asc(), Event.id.desc())
    return paginate(statement, page, per_page, scalars=False)


def calendar(*, now: datetime, district: District | None = None, chapter: Chapter | None = None,
             kind: EventKind | None = None, past: bool = False, page: int = 1, per_page: int = 25) -> Page:
    """Published events of every chapter (or a district's, a chapter's, a kind's), upcoming first; or past ones."""
    statement = (sa.select(Event).join(Event.chapter).options(contains_eager(Event.chapter).joinedload(Chapter.district))
                 .where(Event.status.in_(VISIBLE)))
    if district is not None:
        statement = statement.where(Chapter.district_id == district.id)
    if chapter is not None:
        statement = statement.where(Event.chapter_id == chapter.id)
    if kind is not None:
        statement = statement.where(Event.kind == kind)
    if past:
        statement = statement.where(Event.ends_at < now).order_by(Event.starts_at.desc(), Event.id.desc())
    else:
        statement = statement.where(Event.ends_at >= now).order_by(Event.starts_at, Event.id)
    return paginate(statement, page, per_page)


def upcoming_for_chapter(chapter_id: int, now: datetime, limit: int = 5) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(
        Event.chapter_id == chapter_id, Event.status == EventStatus.PUBLISHED, Event.ends_at >= now)
        .order_by(Event.starts_at, Event.id).limit(limit)))


def chapter_events_version(chapter_id: int) -> tuple:
    """What a chapter page's list of events shows, as a version (one small query)."""
    row = db.session.execute(sa.select(sa.func.max(Event.updated_at), sa.func.count(Event.id))
                             .where(Event.chapter_id == chapter_id)).one()
    return tuple(str(value) for value in row)


def my_registrations(user_id: int, *, page: int = 1, per_page: int = 25) -> Page:
    """The user's own registrations (not their guests'), the next event first, then past ones."""
    statement = (sa.select(Registration).join(Registration.event)
                 .options(contains_eager(Registration.event).joinedload(Event.chapter))
                 .where(Registration.user_id == user_id, Registration.guest_of_id.is_(None))
                 .order_by(Event.starts_at.desc(), Registration.id.desc()))
    return paginate(statement, page, per_page)


def guests_by_host(host_ids: list[int]) -> dict[int, list[Registration]]:
    if not host_ids:
        return {}
    found: dict[int, list[Registration]] = {}
    for guest in db.session.scalars(sa.select(Registration).where(Registration.guest_of_id.in_(host_ids))
                                    .order_by(Registration.id)):
        found.setdefault(guest.guest_of_id, []).append(guest)
    return found


def districts() -> list[District]:
    return list(db.session.scalars(sa.select(District).order_by(District.name)))


def chapter_by_number(number: int | None) -> Chapter | None:
    if number is None:
        return None
    return db.session.scalar(sa.select(Chapter).options(joinedload(Chapter.district)).where(Chapter.number == number))
