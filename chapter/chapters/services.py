"""Chapters: the public directory, rosters, and staff administration of districts and officers."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from chapter.chapters.models import Chapter, District, DistrictManagerTerm, OfficerPosition, OfficerTerm
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.core.pagination import Page, paginate
from chapter.core.permissions import Roles
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus

if TYPE_CHECKING:
    from chapter.auth.models import User


def current_on(model, day: date) -> sa.ColumnElement[bool]:
    """SQL: a dated term (officer, district manager) covers `day`."""
    return sa.and_(model.starts_on <= day, sa.or_(model.ends_on.is_(None), model.ends_on >= day))


def get_chapter_by_number(number: int) -> Chapter | None:
    """The chapter with this number, or None."""
    return db.session.scalar(sa.select(Chapter).where(Chapter.number == number))


def active_chapters() -> list[Chapter]:
    """Chapters taking members, by number (for choosers)."""
    return db.session.scalars(
        sa.select(Chapter).where(Chapter.is_active.is_(True)).order_by(Chapter.number)
    ).all()


@dataclass
class DirectoryEntry:
    chapter: Chapter
    officers: list[OfficerTerm]


def directory(day: date | None = None, search: str = "") -> list[tuple[District, list[DirectoryEntry]]]:
    """Active chapters grouped by district, each with its current officers (three queries)."""
    day = day or today()
    statement = (
        sa.select(Chapter)
        .options(joinedload(Chapter.district))
        .where(Chapter.is_active.is_(True))
        .order_by(Chapter.number)
    )
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        conditions = [sa.func.lower(Chapter.name).like(pattern), sa.func.lower(Chapter.city).like(pattern)]
        if search.strip().lstrip("#").isdigit():
            conditions.append(Chapter.number == int(search.strip().lstrip("#")))
        statement = statement.where(sa.or_(*conditions))
    chapters = db.session.scalars(statement).all()
    terms = db.session.scalars(
        sa.select(OfficerTerm)
        .options(joinedload(OfficerTerm.user), joinedload(OfficerTerm.position))
        .where(OfficerTerm.chapter_id.in_([c.id for c in chapters]), current_on(OfficerTerm, day))
    ).all() if chapters else []
    by_chapter: dict[int, list[OfficerTerm]] = {}
    for term in sorted(terms, key=lambda t: (t.position.sort_order, t.user.name)):
        by_chapter.setdefault(term.chapter_id, []).append(term)
    grouped: dict[int, tuple[District, list[DirectoryEntry]]] = {}
    for chapter in chapters:
        entry = DirectoryEntry(chapter, by_chapter.get(chapter.id, []))
        grouped.setdefault(chapter.district_id, (chapter.district, []))[1].append(entry)
    return sorted(grouped.values(), key=lambda item: item[0].name)


# --- Rosters -----------------------------------------------------------------------------

class RosterSort(str, enum.Enum):
    NAME = "name"
    NUMBER = "number"
    EMAIL = "email"
    STATUS = "status"
    PAID_THROUGH = "paid_through"
    JOINED = "joined"
    EMPLOYER = "employer"


ROSTER_SORT_COLUMNS = {
    RosterSort.NAME: (Member.last_name, Member.first_name, Member.id),
    RosterSort.NUMBER: (Member.member_number,),
    RosterSort.EMAIL: (Member.email, Member.id),
    RosterSort.STATUS: (Member.paid_through, Member.id),
    RosterSort.PAID_THROUGH: (Member.paid_through, Member.id),
    RosterSort.JOINED: (Member.joined_on, Member.id),
    RosterSort.EMPLOYER: (Member.employer, Member.last_name, Member.id),
}


@dataclass
class RosterQuery:
    """What an officer asked the roster for: search text, status, sort, page."""

    search: str = ""
    status: MembershipStatus | None = None
    sort: RosterSort = RosterSort.NAME
    descending: bool = False
    page: int = 1


def roster_statement(chapter: Chapter, query: RosterQuery, day: date) -> sa.Select:
    """The SELECT for a chapter's roster with search, status filter and sort applied."""
    statement = (
        sa.select(Member)
        .options(joinedload(Member.current_type))
        .where(Member.home_chapter_id == chapter.id)
    )
    text = query.search.strip()
    if text:
        pattern = f"%{text.lower()}%"
        conditions = [
            sa.func.lower(Member.first_name + " " + Member.last_name).like(pattern),
            sa.func.lower(Member.last_name).like(pattern),
            Member.email.like(pattern),
            Member.member_number == text,
        ]
        statement = statement.where(sa.or_(*conditions))
    if query.status is not None:
        statement = statement.where(Member.status_clause(query.status, day))
    columns = ROSTER_SORT_COLUMNS[query.sort]
    order = [column.desc() if query.descending else column.asc() for column in columns]
    return statement.order_by(*order)


def roster_page(chapter: Chapter, query: RosterQuery, per_page: int, day: date | None = None) -> Page[Member]:
    """One page of a chapter's roster, counted and paged in SQL."""
    return paginate(roster_statement(chapter, query, day or today()), query.page, per_page)


def roster_counts(chapter: Chapter, day: date | None = None) -> dict[MembershipStatus, int]:
    """How many of the chapter's members are in each status today (one query)."""
    day = day or today()
    columns = [
        sa.func.count(sa.case((Member.status_clause(status, day), 1))).label(status.value)
        for status in MembershipStatus
    ]
    row = db.session.execute(sa.select(*columns).where(Member.home_chapter_id == chapter.id)).one()
    return {status: getattr(row, status.value) for status in MembershipStatus}


# --- Staff administration ----------------------------------------------------------------

def save_district(district: District | None, *, code: str, name: str) -> District:
    """Create or rename a district; codes and names are unique."""
    code, name = code.strip().upper(), name.strip()
    clash = db.session.scalar(
        sa.select(District).where(sa.or_(District.code == code, District.name == name))
    )
    if clash is not None and clash is not district:
        raise DomainError("Another district already has this code or name.", field="name")
    district = district or District()
    district.code, district.name = code, name
    db.session.add(district)
    db.session.flush()
    return district


CHAPTER_FIELDS = ("number", "name", "district_id", "city", "region", "country", "currency",
                  "dues_share_cents", "website", "is_active")


def save_chapter(chapter: Chapter | None, **fields) -> Chapter:
    """Create or update a chapter; chapter numbers are unique."""
    clash = db.session.scalar(sa.select(Chapter).where(Chapter.number == fields["number"]))
    if clash is not None and clash is not chapter:
        raise DomainError(f"Chapter #{fields['number']} already exists ({clash.name}).", field="number")
    if db.session.get(District, fields["district_id"]) is None:
        raise DomainError("Choose a district.", field="district_id")
    chapter = chapter or Chapter()
    for key in CHAPTER_FIELDS:
        if key in fields:
            value = fields[key]
            setattr(chapter, key, value.strip() if isinstance(value, str) else value)
    chapter.currency = chapter.currency.upper()
    chapter.country = chapter.country.upper()
    db.session.add(chapter)
    db.session.flush()
    return chapter


def officer_positions() -> list[OfficerPosition]:
    """Board positions in display order."""
    return db.session.scalars(sa.select(OfficerPosition).order_by(OfficerPosition.sort_order)).all()


def chapter_officer_terms(chapter: Chapter) -> list[OfficerTerm]:
    """Every officer term of a chapter, current and past, newest first."""
    return db.session.scalars(
        sa.select(OfficerTerm)
        .options(joinedload(OfficerTerm.user), joinedload(OfficerTerm.position))
        .where(OfficerTerm.chapter_id == chapter.id)
        .order_by(OfficerTerm.ends_on.is_not(None), OfficerTerm.starts_on.desc())
    ).all()


def appoint_officer(
    chapter: Chapter, *, user: User, position: OfficerPosition, starts_on: date,
    ends_on: date | None, actor: User,
) -> OfficerTerm:
    """Give a user a position in a chapter for a term; one holder per position at a time."""
    if ends_on is not None and ends_on < starts_on:
        raise DomainError("The term cannot end before it starts.", field="ends_on")
    overlap = db.session.scalar(
        sa.select(OfficerTerm).where(
            OfficerTerm.chapter_id == chapter.id,
            OfficerTerm.position_id == position.id,
            sa.or_(OfficerTerm.ends_on.is_(None), OfficerTerm.ends_on >= starts_on),
            OfficerTerm.starts_on <= (ends_on or date.max),
        )
    )
    if overlap is not None:
        raise DomainError(
            f"{overlap.user.name} holds {position.title} during that time; end their term first.",
            field="position_id",
        )
    term = OfficerTerm(
        chapter=chapter, user=user, position=position, starts_on=starts_on, ends_on=ends_on,
        appointed_by_id=actor.id,
    )
    db.session.add(term)
    db.session.flush()
    return term


def end_officer_term(term: OfficerTerm, *, ends_on: date, actor: User) -> OfficerTerm:
    """Close an officer's term on `ends_on` (the last day they hold the position)."""
    if ends_on < term.starts_on:
        raise DomainError("The term cannot end before it starts.", field="ends_on")
    term.ends_on = ends_on
    db.session.flush()
    return term


def appoint_district_manager(district: District, *, user: User, starts_on: date, actor: User) -> DistrictManagerTerm:
    """Make a user district manager from `starts_on`, ending the previous manager's term the day before."""
    previous = db.session.scalars(
        sa.select(DistrictManagerTerm).where(
            DistrictManagerTerm.district_id == district.id, DistrictManagerTerm.ends_on.is_(None)
        )
    ).all()
    for term in previous:
        term.ends_on = max(term.starts_on, starts_on - timedelta(days=1))
    term = DistrictManagerTerm(district=district, user=user, starts_on=starts_on)
    db.session.add(term)
    db.session.flush()
    return term


def districts_with_managers(day: date | None = None) -> list[tuple[District, list[DistrictManagerTerm], int]]:
    """Every district with its current managers and number of chapters."""
    day = day or today()
    districts = db.session.scalars(sa.select(District).order_by(District.name)).all()
    managers = db.session.scalars(
        sa.select(DistrictManagerTerm).options(joinedload(DistrictManagerTerm.user)).where(current_on(DistrictManagerTerm, day))
    ).all()
    counts = dict(db.session.execute(
        sa.select(Chapter.district_id, sa.func.count()).group_by(Chapter.district_id)
    ).all())
    by_district: dict[int, list[DistrictManagerTerm]] = {}
    for term in managers:
        by_district.setdefault(term.district_id, []).append(term)
    return [(d, by_district.get(d.id, []), counts.get(d.id, 0)) for d in districts]


def chapters_page(search: str, page: int, per_page: int, visible_to: Roles | None = None) -> Page[Chapter]:
    """Chapters searchable by number, name or city; limited to the rosters `visible_to` may see."""
    statement = sa.select(Chapter).options(joinedload(Chapter.district)).order_by(Chapter.number)
    if visible_to is not None and not visible_to.is_staff:
        roster_chapter_ids = [
            chapter_id for chapter_id, positions in visible_to.positions_by_chapter.items()
            if any(p.can_view_roster for p in positions)
        ]
        statement = statement.where(sa.or_(
            Chapter.id.in_(roster_chapter_ids), Chapter.district_id.in_(visible_to.managed_district_ids)
        ))
    text = search.strip().lstrip("#")
    if text:
        pattern = f"%{text.lower()}%"
        conditions = [sa.func.lower(Chapter.name).like(pattern), sa.func.lower(Chapter.city).like(pattern)]
        if text.isdigit():
            conditions.append(Chapter.number == int(text))
        statement = statement.where(sa.or_(*conditions))
    return paginate(statement, page, per_page)
