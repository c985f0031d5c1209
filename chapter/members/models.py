"""Members, organizations (corporate members), membership types and membership terms."""
from __future__ import annotations

import enum
import functools
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chapter.core.models import FOREVER, TimestampMixin
from chapter.core.sqldates import days_before
from chapter.extensions import db
from chapter.members import search, search_counts

if TYPE_CHECKING:
    from chapter.auth.models import User
    from chapter.chapters.models import Chapter


class MembershipStatus(str, enum.Enum):
    """A member's standing on a given day, computed from the dates of their terms."""

    PENDING = "pending"  # registered, never paid
    ACTIVE = "active"
    GRACE = "grace"  # term ended, still inside the type's grace period
    LAPSED = "lapsed"

    @property
    def label(self) -> str:
        return {"pending": "Pending", "active": "Active", "grace": "In grace", "lapsed": "Lapsed"}[
            self.value
        ]


def status_from_dates(day: date, *, paid_through: date | None, joined_on: date | None, grace_ends_on: date | None,
                      continuous_since: date | None) -> MembershipStatus | None:
    """`Member.status_on` from a member's derived dates alone; None when the day falls before the member's current
    unbroken run of terms, where only the terms themselves can tell (list pages read rows, not members)."""
    if paid_through is None or (joined_on is not None and day < joined_on):
        return MembershipStatus.PENDING
    if day > paid_through:
        if grace_ends_on is not None and grace_ends_on >= day:
            return MembershipStatus.GRACE
        return MembershipStatus.LAPSED
    run_starts = continuous_since or joined_on
    if run_starts is None or run_starts <= day:
        return MembershipStatus.ACTIVE
    return None


def listed_status(day: date, row) -> MembershipStatus:
    """The status on `day` of a member read as a row (a list page's): from its dates (`id`, `paid_through`,
    `joined_on`, `grace_ends_on`, `continuous_since`), loading the member's terms only where they must tell."""
    status = status_from_dates(day, paid_through=row.paid_through, joined_on=row.joined_on,
                               grace_ends_on=row.grace_ends_on, continuous_since=row.continuous_since)
    return status if status is not None else db.session.get(Member, row.id).status_on(day)


class MembershipKind(str, enum.Enum):
    """The family a membership type belongs to."""

    INDIVIDUAL = "individual"
    STUDENT = "student"
    RETIRED = "retired"
    HONORARY = "honorary"
    LIFETIME = "lifetime"
    CORPORATE_SEAT = "corporate_seat"


class TermSource(str, enum.Enum):
    """How a membership term was granted."""

    PAYMENT = "payment"
    STAFF_GRANT = "staff_grant"
    CORPORATE = "corporate"
    EXTENSION = "extension"  # the unemployed extension
    IMPORT = "import"


class Organization(TimestampMixin, db.Model):
    """A company holding a corporate membership, with a contact person who pays for seats."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, index=True)
    contact_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    billing_email: Mapped[str | None] = mapped_column(sa.String(254))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    country: Mapped[str] = mapped_column(sa.String(2), default="US", nullable=False)
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    # Automatic renewal of the corporate membership with the card saved when the contact paid (off-session).
    auto_renew: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false(), nullable=False)
    saved_payment_method_id: Mapped[str | None] = mapped_column(sa.String(255))
    saved_card_brand: Mapped[str | None] = mapped_column(sa.String(30))
    saved_card_last4: Mapped[str | None] = mapped_column(sa.String(4))

    contact_user: Mapped[User | None] = relationship()
    members: Mapped[list[Member]] = relationship(back_populates="organization")


class MembershipType(TimestampMixin, db.Model):
    """A class of membership with its prices, chapter share and term length (data, not code)."""

    __tablename__ = "membership_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    kind: Mapped[MembershipKind] = mapped_column(
        sa.Enum(MembershipKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    description: Mapped[str | None] = mapped_column(sa.Text)
    currency: Mapped[str] = mapped_column(sa.String(3), default="USD", nullable=False)
    join_price_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    renewal_price_cents: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    # The home chapter's part of the price; None means the chapter's own dues_share_cents.
    chapter_share_cents: Mapped[int | None] = mapped_column(sa.Integer)
    term_months: Mapped[int | None] = mapped_column(sa.Integer)  # None: never ends (lifetime)
    grace_days: Mapped[int] = mapped_column(sa.Integer, default=30, nullable=False)
    is_public: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    is_invoiced: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    min_seats: Mapped[int | None] = mapped_column(sa.Integer)  # corporate types only
    # Retired types: the age (on the day of declaring) that makes a member eligible without a retirement declaration.
    eligibility_min_age: Mapped[int | None] = mapped_column(sa.Integer)
    is_available: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=100, nullable=False)

    __table_args__ = (
        sa.CheckConstraint(
            "join_price_cents >= 0 AND renewal_price_cents >= 0", name="prices_not_negative"
        ),
        sa.CheckConstraint(
            "chapter_share_cents IS NULL OR chapter_share_cents >= 0", name="share_not_negative"
        ),
        sa.CheckConstraint("term_months IS NULL OR term_months > 0", name="term_positive"),
        sa.CheckConstraint("grace_days >= 0", name="grace_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<MembershipType {self.code}>"


class Member(TimestampMixin, db.Model):
    """A person on the association's books: number, contact, employer, home chapter."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_number: Mapped[str] = mapped_column(sa.String(20), unique=True, nullable=False)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)  # stored lower-case
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    postal_code: Mapped[str | None] = mapped_column(sa.String(20))
    country: Mapped[str] = mapped_column(sa.String(2), default="US", nullable=False)
    employer: Mapped[str | None] = mapped_column(sa.String(200))
    job_title: Mapped[str | None] = mapped_column(sa.String(200))
    home_chapter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chapters.id"))
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id"), index=True
    )
    # Dates derived from the terms (see services.refresh_membership_dates); status is computed
    # from them at query time, so nobody lapses late for want of a scheduled job.
    joined_on: Mapped[date | None] = mapped_column(sa.Date)
    # The first day of the unbroken run of terms that ends on paid_through (None: joined_on).
    continuous_since: Mapped[date | None] = mapped_column(sa.Date)
    paid_through: Mapped[date | None] = mapped_column(sa.Date)
    grace_ends_on: Mapped[date | None] = mapped_column(sa.Date)
    current_type_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership_types.id"))
    # Stripe: the customer, and the card saved (SetupIntent, off-session) when auto-renew is on.
    # Only Stripe's ids and the brand/last 4 digits for display: no card data is ever stored here.
    stripe_customer_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    auto_renew: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    saved_payment_method_id: Mapped[str | None] = mapped_column(sa.String(255))
    saved_card_brand: Mapped[str | None] = mapped_column(sa.String(30))
    saved_card_last4: Mapped[str | None] = mapped_column(sa.String(4))
    # Folded names, e-mail, number and employer, written with the row; what every search looks in
    # (indexed: pg_trgm on PostgreSQL, FTS5 trigram on SQLite). See chapter/members/search.py.
    # Deferred: only SQL reads it, so pages listing members do not fetch it.
    search_text: Mapped[str] = mapped_column(sa.Text, default=search.search_text_default, server_default="",
                                             nullable=False, deferred=True)

    user: Mapped[User | None] = relationship(back_populates="member")
    home_chapter: Mapped[Chapter | None] = relationship()
    organization: Mapped[Organization | None] = relationship(back_populates="members")
    current_type: Mapped[MembershipType | None] = relationship()
    terms: Mapped[list[MembershipTerm]] = relationship(
        back_populates="member", order_by="MembershipTerm.starts_on"
    )

    __table_args__ = (
        sa.Index("ix_members_chapter_name", "home_chapter_id", "last_name", "first_name"),
        sa.Index("ix_members_chapter_paid_through", "home_chapter_id", "paid_through"),
        # Lists by name (staff members, searches' ties) read this index in order, deep pages too.
        sa.Index("ix_members_name_order", "last_name", "first_name", "id"),
        sa.Index("ix_members_paid_through", "paid_through"),  # reminders and auto-renew scan by end date
        # A roster sorted by another column reads its chapter's members in that order (else PostgreSQL walks
        # the whole e-mail or number index, or sorts every member of the chapter, for each page).
        sa.Index("ix_members_chapter_email", "home_chapter_id", "email", "id"),
        sa.Index("ix_members_chapter_number", "home_chapter_id", "member_number"),
        sa.Index("ix_members_chapter_employer", "home_chapter_id", "employer", "last_name", "id"),
        sa.Index("ix_members_chapter_joined", "home_chapter_id", "joined_on", "id"),
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_lifetime(self) -> bool:
        return self.paid_through == FOREVER

    def status_on(self, day: date) -> MembershipStatus:
        """The member's status on a day, from both ends of the terms (see status_clause, its SQL twin).

        Pending before the first term starts (a lifetime grant dated next month is pending today);
        active inside a term; in grace after a term for the type's grace days; lapsed in a gap
        between terms and after grace. The derived dates answer without loading the terms, except
        for a day inside the member's history before the current unbroken run of terms.
        """
        status = status_from_dates(day, paid_through=self.paid_through, joined_on=self.joined_on,
                                   grace_ends_on=self.grace_ends_on, continuous_since=self.continuous_since)
        return status if status is not None else self._status_between_terms(day)

    def _status_between_terms(self, day: date) -> MembershipStatus:
        """The status on a day before the current run of terms began: read the terms themselves."""
        terms = [term for term in self.terms if term.voided_at is None]
        if any(term.starts_on <= day <= term.ends_on for term in terms):
            return MembershipStatus.ACTIVE
        if any(term.ends_on < day <= term.grace_ends_on() for term in terms):
            return MembershipStatus.GRACE
        return MembershipStatus.LAPSED

    @classmethod
    def status_clause(cls, status: MembershipStatus, day: date) -> sa.ColumnElement[bool]:
        """The SQL condition for members having `status` on `day`: the same rules as status_on.

        The derived dates decide for nearly every member (a range on the indexed paid_through); the
        terms are read only for a day before the current run of terms (a gap in the history).
        Built once per status and day (see _status_clause): building it is most of a roster's Python time.
        """
        return _status_clause(cls, status, day)

    @classmethod
    def status_expression(cls, day: date) -> sa.ColumnElement[str]:
        """The status on `day` as an SQL value ('active', ...), for exports that stream plain rows."""
        return sa.case(*[(cls.status_clause(status, day), status.value) for status in
                         (MembershipStatus.ACTIVE, MembershipStatus.GRACE, MembershipStatus.LAPSED)],
                       else_=MembershipStatus.PENDING.value)

    def __repr__(self) -> str:
        return f"<Member {self.member_number} {self.full_name}>"


# SQL clauses are immutable, so one built for a status and a day serves every statement that day. Building
# it (aliases, EXISTS, a dozen comparisons) cost a roster request about a third of its Python time.
@functools.lru_cache(maxsize=64)
def _status_clause(cls: type[Member], status: MembershipStatus, day: date) -> sa.ColumnElement[bool]:
    """Member.status_clause, built (once per status and day)."""
    started = sa.or_(cls.joined_on.is_(None), cls.joined_on <= day)
    run_starts = sa.func.coalesce(cls.continuous_since, cls.joined_on)
    before_run = sa.and_(cls.paid_through >= day, started, run_starts > day)
    if status is MembershipStatus.PENDING:
        return sa.or_(cls.paid_through.is_(None), cls.joined_on > day)
    term = sa.orm.aliased(MembershipTerm)
    covered = sa.exists().where(term.member_id == cls.id, term.voided_at.is_(None),
                                term.starts_on <= day, term.ends_on >= day)
    if status is MembershipStatus.ACTIVE:
        return sa.and_(cls.paid_through >= day, started, sa.or_(run_starts.is_(None), run_starts <= day, covered))
    grace_type = sa.orm.aliased(MembershipType)
    in_grace_of_earlier_term = (
        sa.exists().where(term.member_id == cls.id, term.voided_at.is_(None), term.ends_on < day,
                          grace_type.id == term.membership_type_id,
                          term.ends_on >= days_before(day, grace_type.grace_days)))
    if status is MembershipStatus.GRACE:
        return sa.or_(sa.and_(cls.paid_through < day, cls.grace_ends_on >= day),
                      sa.and_(before_run, ~covered, in_grace_of_earlier_term))
    return sa.or_(sa.and_(cls.paid_through < day, sa.or_(cls.grace_ends_on.is_(None), cls.grace_ends_on < day)),
                  sa.and_(before_run, ~covered, ~in_grace_of_earlier_term))


@sa.event.listens_for(Member, "before_update")
def _keep_search_text(mapper, connection, member: Member) -> None:
    """A name, e-mail, number or employer changed through the ORM: rewrite the search text with it."""
    state = sa.inspect(member)
    if any(state.attrs[name].history.has_changes() for name in search.SEARCH_FIELDS):
        member.search_text = search.member_search_text(*(getattr(member, name) for name in search.SEARCH_FIELDS))


for _statement in search.SQLITE_DDL:
    sa.event.listen(Member.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in search.SQLITE_DROP:
    sa.event.listen(Member.__table__, "before_drop", sa.DDL(_statement).execute_if(dialect="sqlite"))
for _statement in search.POSTGRESQL_DDL + search_counts.POSTGRESQL_DDL:
    sa.event.listen(Member.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in search_counts.POSTGRESQL_DROP:
    sa.event.listen(Member.__table__, "after_drop", sa.DDL(_statement).execute_if(dialect="postgresql"))
for _statement in search_counts.SQLITE_DDL:  # (the rosters' triggers: chapter.chapters.roster_counts)
    sa.event.listen(Member.__table__, "after_create", sa.DDL(_statement).execute_if(dialect="sqlite"))


class MembershipTerm(TimestampMixin, db.Model):
    """One period of membership: a row of its own, never overwritten by a renewal."""

    __tablename__ = "membership_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    membership_type_id: Mapped[int] = mapped_column(sa.ForeignKey("membership_types.id"))
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)  # FOREVER for lifetime
    source: Mapped[TermSource] = mapped_column(
        sa.Enum(TermSource, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    organization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(300))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    corporate_membership_id: Mapped[int | None] = mapped_column(sa.ForeignKey("corporate_memberships.id"), index=True)
    # A refund can shorten a term (ends_on moves, original_ends_on keeps what was paid for)
    # or void it (voided_at set; a voided term no longer counts toward the member's dates).
    original_ends_on: Mapped[date | None] = mapped_column(sa.Date)
    voided_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    member: Mapped[Member] = relationship(back_populates="terms")
    membership_type: Mapped[MembershipType] = relationship()

    __table_args__ = (
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
        sa.Index("ix_membership_terms_member_ends", "member_id", "ends_on"),
    )

    @property
    def is_lifetime(self) -> bool:
        return self.ends_on == FOREVER

    def grace_ends_on(self) -> date:
        """The last day of grace after this term."""
        if self.ends_on == FOREVER:
            return FOREVER
        return self.ends_on + timedelta(days=self.membership_type.grace_days)


class CorporateMembership(TimestampMixin, db.Model):
    """An organization's block of seats of a corporate type for one term, paid once for all."""

    __tablename__ = "corporate_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    membership_type_id: Mapped[int] = mapped_column(sa.ForeignKey("membership_types.id"))
    seats: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    starts_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))

    organization: Mapped[Organization] = relationship()
    membership_type: Mapped[MembershipType] = relationship()
    seat_assignments: Mapped[list[CorporateSeat]] = relationship(back_populates="corporate_membership", order_by="CorporateSeat.id")

    __table_args__ = (sa.CheckConstraint("seats > 0", name="seats_positive"),)


class CorporateSeat(db.Model):
    """An employee named to a seat, from assigned_on until released_on (the member record stays)."""

    __tablename__ = "corporate_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    corporate_membership_id: Mapped[int] = mapped_column(sa.ForeignKey("corporate_memberships.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    assigned_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    released_on: Mapped[date | None] = mapped_column(sa.Date)
    term_id: Mapped[int | None] = mapped_column(sa.ForeignKey("membership_terms.id"))

    corporate_membership: Mapped[CorporateMembership] = relationship(back_populates="seat_assignments")
    member: Mapped[Member] = relationship()
