"""Chapters: the public directory, rosters, and staff administration of districts and officers."""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.chapters.models import (
    Chapter,
    ChapterTransfer,
    District,
    DistrictManagerTerm,
    MemberNote,
    OfficerPosition,
    OfficerTerm,
    TransferRequest,
    TransferRequestStatus,
)
from chapter.chapters.roster_counts import roster_counts as chapter_roster_counts
from chapter.chapters.search import ChapterKeys, chapter_matches, matching_chapter_ids
from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.params import plausible_date
from chapter.core.errors import DomainError
from chapter.core.models import today
from chapter.core.pagination import Page, paginate, requested_page
from chapter.core.permissions import Roles
from chapter.extensions import db
from chapter.members.models import Member, MembershipStatus, MembershipTerm, MembershipType
from chapter.members.search import member_search_condition, member_search_rank

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
    chapters = db.session.scalars(statement).all()
    if search.strip():
        chapters = [chapter for chapter in chapters if chapter_matches(_keys(chapter), search)]
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


def directory_version(day: date | None = None, chapter_id: int | None = None) -> tuple:
    """What the directory (or one chapter's page) shows, as a version: one small query.

    The latest change and the number of rows of the chapters, districts, officer terms, the officers'
    user records and the positions, plus the day (officer terms are dated). Any insert, update or
    delete through the app changes it.
    """
    day = day or today()
    statement = _version_statement(chapter_id is not None)
    parameters = {"chapter_id": chapter_id} if chapter_id is not None else {}
    row = db.session.execute(statement, parameters).one()
    return (day.isoformat(), *(str(value) for value in row))


@functools.cache
def _version_statement(of_one_chapter: bool) -> sa.Select:
    """The version query, built once per process (it runs on every directory and chapter page)."""
    from chapter.auth.models import User

    chapter_id = sa.bindparam("chapter_id", type_=sa.Integer)
    of_chapter = [Chapter.id == chapter_id] if of_one_chapter else []
    of_terms = [OfficerTerm.chapter_id == chapter_id] if of_one_chapter else []
    values = [
        sa.select(sa.func.max(Chapter.updated_at)).where(*of_chapter),
        sa.select(sa.func.count(Chapter.id)).where(*of_chapter),
        sa.select(sa.func.max(OfficerTerm.updated_at)).where(*of_terms),
        sa.select(sa.func.count(OfficerTerm.id)).where(*of_terms),
        sa.select(sa.func.max(User.updated_at)).select_from(OfficerTerm)
        .join(User, User.id == OfficerTerm.user_id).where(*of_terms),
        sa.select(sa.func.max(District.updated_at)),
        sa.select(sa.func.count(District.id)),
        sa.select(sa.func.aggregate_strings(
            OfficerPosition.title + ":" + sa.cast(OfficerPosition.sort_order, sa.String), "|")),
    ]
    return sa.select(*(value.scalar_subquery() for value in values))


def chapter_page_version(chapter_id: int, day: date, now: datetime) -> tuple:
    """What a chapter's public page shows, as a version, in one query: directory_version's for the chapter,
    the latest change and number of its events, and the end of the first upcoming one (when it has ended, the
    list of upcoming events changes: the version with it)."""
    row = db.session.execute(_chapter_page_statement(), {"chapter_id": chapter_id, "now": now}).one()
    return (day.isoformat(), *(str(value) for value in row))


@functools.cache
def _chapter_page_statement() -> sa.Select:
    """The chapter page's version query, built once per process."""
    from chapter.events.models import Event, EventStatus

    chapter_id = sa.bindparam("chapter_id", type_=sa.Integer)
    events = [
        sa.select(sa.func.max(Event.updated_at)).where(Event.chapter_id == chapter_id),
        sa.select(sa.func.count(Event.id)).where(Event.chapter_id == chapter_id),
        sa.select(sa.func.min(Event.ends_at)).where(
            Event.chapter_id == chapter_id, Event.status == EventStatus.PUBLISHED,
            Event.ends_at >= sa.bindparam("now", type_=sa.DateTime)),
    ]
    return _version_statement(True).add_columns(*(value.scalar_subquery() for value in events))


# --- Rosters -----------------------------------------------------------------------------

class RosterSort(str, enum.Enum):
    NAME = "name"
    NUMBER = "number"
    EMAIL = "email"
    EMPLOYER = "employer"
    TYPE = "type"
    STATUS = "status"
    PAID_THROUGH = "paid_through"
    JOINED = "joined"


ROSTER_SORT_COLUMNS = {
    RosterSort.NAME: (Member.last_name, Member.first_name, Member.id),
    RosterSort.NUMBER: (Member.member_number,),
    RosterSort.EMAIL: (Member.email, Member.id),
    RosterSort.EMPLOYER: (Member.employer, Member.last_name, Member.id),
    RosterSort.TYPE: (MembershipType.sort_order, MembershipType.name, Member.last_name, Member.id),
    # Status follows the end date: pending (no date) first, then lapsed, grace, active.
    RosterSort.STATUS: (Member.paid_through, Member.id),
    RosterSort.PAID_THROUGH: (Member.paid_through, Member.id),
    RosterSort.JOINED: (Member.joined_on, Member.id),
}


class RosterView(str, enum.Enum):
    """Ready-made lists officers ask for again and again; dates roll with the day they are opened."""

    EXPIRING_30 = "expiring-30"
    EXPIRING_60 = "expiring-60"
    EXPIRING_90 = "expiring-90"
    LAPSED_12_MONTHS = "lapsed-12-months"
    NEW_THIS_MONTH = "new-this-month"

    @property
    def label(self) -> str:
        return {
            "expiring-30": "Expiring in 30 days", "expiring-60": "Expiring in 60 days",
            "expiring-90": "Expiring in 90 days", "lapsed-12-months": "Lapsed in the last 12 months",
            "new-this-month": "New this month",
        }[self.value]

    @property
    def purpose(self) -> str:
        return {"expiring-30": "renewal outreach", "expiring-60": "renewal outreach",
                "expiring-90": "renewal outreach", "lapsed-12-months": "win-back",
                "new-this-month": "welcome"}[self.value]

    @property
    def default_sort(self) -> RosterSort:
        return RosterSort.JOINED if self is RosterView.NEW_THIS_MONTH else RosterSort.PAID_THROUGH

    def condition(self, day: date) -> sa.ColumnElement[bool]:
        """The SQL condition of the view on `day`."""
        if self is RosterView.LAPSED_12_MONTHS:
            return sa.and_(Member.status_clause(MembershipStatus.LAPSED, day),
                           Member.grace_ends_on >= day - timedelta(days=365))
        if self is RosterView.NEW_THIS_MONTH:
            return Member.joined_on.between(day.replace(day=1), day)
        days = int(self.value.split("-")[1])
        return Member.paid_through.between(day, day + timedelta(days=days))


@dataclass
class RosterQuery:
    """What an officer asked the roster for: search text, filters, a ready-made view, sort, page.

    Every field round-trips through the URL's query string (see `as_args`), so a list can be
    bookmarked, shared, and exported exactly as it is on screen.
    """

    search: str = ""
    status: MembershipStatus | None = None
    membership_type: str | None = None  # a MembershipType code
    joined_from: date | None = None
    joined_to: date | None = None
    ends_from: date | None = None
    ends_to: date | None = None
    view: RosterView | None = None
    # Hook for issue 4 (certifications): a certification code; ignored until that feature exists.
    certification: str | None = None
    sort: RosterSort = RosterSort.NAME
    descending: bool = False
    page: int = 1

    def as_args(self) -> dict[str, str]:
        """The query-string arguments that reproduce this list (the page excepted)."""
        args = {
            "q": self.search, "status": self.status.value if self.status else None,
            "type": self.membership_type, "view": self.view.value if self.view else None,
            "joined_from": self.joined_from, "joined_to": self.joined_to,
            "ends_from": self.ends_from, "ends_to": self.ends_to, "certification": self.certification,
            "sort": self.sort.value if self.sort is not RosterSort.NAME else None,
            "dir": "desc" if self.descending else None,
        }
        return {key: str(value) if not isinstance(value, date) else value.isoformat()
                for key, value in args.items() if value not in (None, "")}

    @classmethod
    def from_args(cls, args) -> RosterQuery:
        """The query a query string (or `as_args()`) describes; nonsense values are ignored, never an error.

        The roster page, its CSV export and a message to "the list on screen" read it the same way.
        """
        view = _enum_or_none(RosterView, args.get("view"))
        sort = _enum_or_none(RosterSort, args.get("sort"))
        return cls(
            search=(args.get("q") or "")[:100],
            status=_enum_or_none(MembershipStatus, args.get("status")),
            membership_type=(args.get("type") or "")[:40] or None,
            joined_from=plausible_date(args.get("joined_from")), joined_to=plausible_date(args.get("joined_to")),
            ends_from=plausible_date(args.get("ends_from")), ends_to=plausible_date(args.get("ends_to")),
            view=view,
            certification=(args.get("certification") or "")[:40] or None,
            sort=sort or (view.default_sort if view else RosterSort.NAME),
            descending=args.get("dir") == "desc",
            page=requested_page(args),
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.is_filtered_beyond_status)

    @property
    def is_filtered_beyond_status(self) -> bool:
        """Some filter other than the status narrows the list (a search, a type, dates, a view, a certification)."""
        return bool(self.search or self.membership_type or self.view or self.joined_from
                    or self.joined_to or self.ends_from or self.ends_to or self.certification)


def _enum_or_none(enum_class, value):
    try:
        return enum_class(value or "")
    except ValueError:
        return None


def roster_conditions(chapter: Chapter, query: RosterQuery, day: date) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of a roster query: the chapter, the search and every filter."""
    conditions: list[sa.ColumnElement[bool]] = [Member.home_chapter_id == chapter.id]
    search = member_search_condition(query.search, bounded=True)  # the chapter's index narrows the rows first
    if search is not None:
        conditions.append(search)
    if query.status is not None:
        conditions.append(Member.status_clause(query.status, day))
    if query.membership_type:
        conditions.append(Member.current_type_id.in_(
            sa.select(MembershipType.id).where(MembershipType.code == query.membership_type).scalar_subquery()
        ))
    if query.joined_from:
        conditions.append(Member.joined_on >= query.joined_from)
    if query.joined_to:
        conditions.append(Member.joined_on <= query.joined_to)
    if query.ends_from:
        conditions.append(Member.paid_through >= query.ends_from)
    if query.ends_to:
        conditions.append(Member.paid_through <= query.ends_to)
    if query.view is not None:
        conditions.append(query.view.condition(day))
    certification = _certification_condition(query.certification)
    if certification is not None:
        conditions.append(certification)
    return conditions


def _certification_condition(code: str | None) -> sa.ColumnElement[bool] | None:
    """Hook for the certifications feature (issue 4): members holding `code`; None until it exists."""
    if not code:
        return None
    try:
        from chapter.certifications import services as certification_services  # type: ignore[attr-defined]
    except ImportError:
        return None
    holds = getattr(certification_services, "member_holds_certification", None)
    return holds(Member.id, code) if holds is not None else None


def roster_sort_key(query: RosterQuery) -> list[sa.ColumnElement]:
    """The columns the query's roster is sorted by, all in its direction (unique together: a keyset)."""
    columns = list(ROSTER_SORT_COLUMNS[query.sort])
    if query.sort is RosterSort.NAME and not query.descending and query.search.strip():
        columns.insert(0, member_search_rank(query.search))  # best matches first, then by name
    return columns


def roster_order(query: RosterQuery) -> list[sa.ColumnElement]:
    """ORDER BY for the query's sort column and direction."""
    return [column.desc() if query.descending else column.asc() for column in roster_sort_key(query)]


def roster_statement(chapter: Chapter, query: RosterQuery, day: date) -> sa.Select:
    """The SELECT for a chapter's roster with search, filters and sort applied."""
    statement = (
        sa.select(Member)
        .options(joinedload(Member.current_type))
        .where(*roster_conditions(chapter, query, day))
    )
    if query.sort is RosterSort.TYPE:
        statement = statement.outerjoin(MembershipType, Member.current_type_id == MembershipType.id)
    return statement.order_by(*roster_order(query))


def roster_page(chapter: Chapter, query: RosterQuery, per_page: int, day: date | None = None) -> Page[Member]:
    """One page of a chapter's roster as members, counted and paged in SQL (the page itself reads rows:
    `roster_listing.roster_rows_page`)."""
    return paginate(roster_statement(chapter, query, day or today()), query.page, per_page)


def roster_count(chapter: Chapter, query: RosterQuery, day: date | None = None) -> int:
    """How many members the query finds (one COUNT)."""
    return db.session.scalar(
        sa.select(sa.func.count(Member.id)).where(*roster_conditions(chapter, query, day or today()))
    ) or 0


def roster_counts(chapter: Chapter, day: date | None = None) -> dict[MembershipStatus, int]:
    """How many of the chapter's members are in each status today (counted, or kept: see `roster_counts`)."""
    return chapter_roster_counts(chapter.id, day)


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


CHAPTER_FIELDS = ("number", "name", "district_id", "city", "region", "postal_code", "country", "currency",
                  "dues_share_cents", "website", "is_active", "fiscal_year_start_month",
                  "description", "meeting_place", "contact_email", "timezone")


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
    audit.record(
        AuditAction.OFFICER_APPOINTED, actor=actor, chapter_id=chapter.id,
        summary=f"{user.name} appointed {position.title} from {starts_on}" + (f" to {ends_on}" if ends_on else ""),
        after={"officer": user.email, "position": position.code, "starts_on": starts_on, "ends_on": ends_on},
    )
    return term


def end_officer_term(term: OfficerTerm, *, ends_on: date, actor: User) -> OfficerTerm:
    """Close an officer's term on `ends_on` (the last day they hold the position)."""
    if ends_on < term.starts_on:
        raise DomainError("The term cannot end before it starts.", field="ends_on")
    before = term.ends_on
    term.ends_on = ends_on
    db.session.flush()
    audit.record(
        AuditAction.OFFICER_TERM_ENDED, actor=actor, chapter_id=term.chapter_id,
        summary=f"{term.user.name}'s term as {term.position.title} ends on {ends_on}",
        before={"officer": term.user.email, "position": term.position.code, "ends_on": before},
        after={"officer": term.user.email, "position": term.position.code, "ends_on": ends_on},
    )
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
    audit.record(
        AuditAction.DISTRICT_MANAGER_APPOINTED, actor=actor,
        summary=f"{user.name} is district manager of {district.name} from {starts_on}",
        after={"district": district.code, "manager": user.email, "starts_on": starts_on},
    )
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
    if search.strip():
        # A few hundred chapters: the match is decided in Python with the same fold as member search.
        keys_statement = sa.select(Chapter.id, Chapter.number, Chapter.name, Chapter.city, Chapter.region,
                                   Chapter.postal_code)
        if statement.whereclause is not None:
            keys_statement = keys_statement.where(statement.whereclause)
        keys = db.session.execute(keys_statement).all()
        statement = statement.where(Chapter.id.in_(matching_chapter_ids((ChapterKeys(*row) for row in keys), search)))
    return paginate(statement, page, per_page)


def _keys(chapter: Chapter) -> ChapterKeys:
    return ChapterKeys(chapter.id, chapter.number, chapter.name, chapter.city, chapter.region, chapter.postal_code)


# --- A member's record, notes ------------------------------------------------------------

def get_roster_member(chapter: Chapter, member_number: str) -> Member | None:
    """The member with this number if their home chapter is `chapter` (others are not found)."""
    return db.session.scalar(
        sa.select(Member).options(joinedload(Member.current_type))
        .where(Member.member_number == member_number.strip(), Member.home_chapter_id == chapter.id)
    )


@dataclass
class MemberRecord:
    """Everything an officer's page on one member shows."""

    member: Member
    status: MembershipStatus
    terms: list[MembershipTerm]
    history: list[ChapterTransfer]
    notes: list[MemberNote]
    pending_requests: list[TransferRequest]
    payments: list[PaymentLine]


def member_record(chapter: Chapter, member: Member, day: date | None = None) -> MemberRecord:
    """Load a member's terms, chapter history, this chapter's notes and payments (a fixed number of queries)."""
    day = day or today()
    terms = db.session.scalars(
        sa.select(MembershipTerm).options(joinedload(MembershipTerm.membership_type))
        .where(MembershipTerm.member_id == member.id).order_by(MembershipTerm.starts_on.desc())
    ).all()
    history = db.session.scalars(
        sa.select(ChapterTransfer)
        .options(joinedload(ChapterTransfer.from_chapter), joinedload(ChapterTransfer.to_chapter),
                 joinedload(ChapterTransfer.actor))
        .where(ChapterTransfer.member_id == member.id)
        .order_by(ChapterTransfer.effective_on.desc(), ChapterTransfer.id.desc())
    ).all()
    notes = db.session.scalars(
        sa.select(MemberNote).options(joinedload(MemberNote.author))
        .where(MemberNote.member_id == member.id, MemberNote.chapter_id == chapter.id)
        .order_by(MemberNote.noted_on.desc(), MemberNote.id.desc())
    ).all()
    pending = db.session.scalars(
        sa.select(TransferRequest).options(joinedload(TransferRequest.to_chapter))
        .where(TransferRequest.member_id == member.id, TransferRequest.status == TransferRequestStatus.PENDING)
    ).all()
    return MemberRecord(member=member, status=member.status_on(day), terms=terms, history=history, notes=notes,
                        pending_requests=pending, payments=payment_history(member))


@dataclass(frozen=True)
class PaymentLine:
    """A payment as an officer sees it: date, amount and status, never card details."""

    paid_on: date
    amount_cents: int
    refunded_cents: int
    currency: str
    status_label: str


def payment_history(member: Member) -> list[PaymentLine]:
    """The member's payments, newest first, reduced to what an officer may see."""
    from chapter.payments.services import member_payments

    return [
        PaymentLine(
            paid_on=(payment.succeeded_at or payment.created_at).date(), amount_cents=payment.amount_cents,
            refunded_cents=payment.refunded_cents, currency=payment.currency,
            status_label=payment.status.value.replace("_", " ").capitalize(),
        )
        for payment in member_payments(member)
    ]


NOTE_MAX_LENGTH = 2000


def add_note(chapter: Chapter, member: Member, *, noted_on: date, body: str, actor: User) -> MemberNote:
    """Keep a dated note on a member, visible to the chapter's officers."""
    body = (body or "").strip()
    if not body:
        raise DomainError("Write the note.", field="body")
    if len(body) > NOTE_MAX_LENGTH:
        raise DomainError(f"Keep the note under {NOTE_MAX_LENGTH} characters.", field="body")
    if noted_on > today():
        raise DomainError("A note cannot be dated in the future.", field="noted_on")
    note = MemberNote(member_id=member.id, chapter_id=chapter.id, author_id=actor.id, noted_on=noted_on, body=body)
    db.session.add(note)
    db.session.flush()
    audit.record(AuditAction.NOTE_ADDED, actor=actor, chapter_id=chapter.id, member_id=member.id,
                 summary=f"Note on {member.full_name} dated {noted_on}", after={"noted_on": noted_on, "body": body})
    return note


# Transfers live in their own module; these names stay here for the views and tests that call them so.
from chapter.chapters.transfers import (  # noqa: E402,F401
    chapter_transfers_page,
    chapter_transfer_requests,
    request_transfer,
    pending_for_member,
    pending_requests_for_member,
    confirm_transfer_request,
    decline_transfer_request,
    cancel_transfer_request,
    parse_member_numbers,
    transfer_members,
)
