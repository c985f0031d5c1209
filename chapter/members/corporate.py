"""Corporate memberships: an organization's contact buys seats of a corporate type and pays once for all,
names employees to the seats (each a member with an own number and a term that follows the organization's),
adds seats (prorated), frees seats and renews every seat in one payment.

Services take the acting user and never touch the request; they flush, the view commits.

The money split of a corporate order: the whole amount is the association's share and no chapter is named
(Order.chapter_id None, chapter share 0). An order has one chapter, while the seats are paid before anyone
is named to them and their holders may belong to many chapters (or none); a per-seat chapter share, if the
association wants one, belongs to the treasury's remittances, computed from CorporateSeat and the holders'
home chapters on the day they were named.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core import audit
from chapter.core.audit import AuditAction
from chapter.core.errors import DomainError, NotAllowed
from chapter.core.models import today, utcnow
from chapter.core.money import format_money
from chapter.core.pagination import Page, paginate
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import (
    CorporateMembership, CorporateSeat, Member, MembershipKind, MembershipTerm, MembershipType, Organization,
    TermSource,
)
from chapter.payments.models import IN_FLIGHT, Order, OrderLine, OrderPurpose, OrderStatus, Payment

if TYPE_CHECKING:
    from chapter.auth.models import User

RENEWAL_OPENS_DAYS_BEFORE_END = 90  # the same window as an individual renewal
MAX_SEATS_PER_ORDER = 5000  # a typo guard, not a business rule
SEAT_ASSIGNED = AuditAction.SEAT_ASSIGNED
SEAT_RELEASED = AuditAction.SEAT_RELEASED


# --- Organizations ----------------------------------------------------------------------------

def can_manage_organization(organization: Organization, user: User | None) -> bool:
    """The organization's contact person and national staff."""
    return user is not None and getattr(user, "is_authenticated", True) and (
        user.is_staff or organization.contact_user_id == user.id)


def _require_manager(organization: Organization, actor: User) -> None:
    if not can_manage_organization(organization, actor):
        raise NotAllowed("Only the organization's contact person and staff manage its corporate membership.")


def create_organization(
    *, name: str, actor: User, contact: User | None = None, billing_email: str | None = None,
    address_line1: str | None = None, city: str | None = None, region: str | None = None,
    postal_code: str | None = None, country: str = "US",
) -> Organization:
    """A company that will hold a corporate membership; the actor is its contact (staff may name another user)."""
    if contact is not None and contact.id != actor.id and not actor.is_staff:
        raise NotAllowed("Only staff name someone else as an organization's contact.")
    contact = contact or actor
    name = (name or "").strip()
    if not name:
        raise DomainError("Enter the organization's name.", field="name")
    # A second click on "Create" must not make a twin.
    twin = db.session.scalar(sa.select(Organization.id).where(
        Organization.contact_user_id == contact.id, sa.func.lower(Organization.name) == name.lower()))
    if twin is not None:
        raise DomainError("This contact already has an organization with this name.", field="name")
    organization = Organization(
        name=name, contact_user_id=contact.id,
        billing_email=(billing_email or "").strip().lower() or contact.email,
        address_line1=(address_line1 or "").strip() or None, city=(city or "").strip() or None,
        region=(region or "").strip() or None, postal_code=(postal_code or "").strip() or None,
        country=(country or "US").strip().upper() or "US",
    )
    db.session.add(organization)
    db.session.flush()
    return organization


def contacted_by(user_id) -> sa.ColumnElement[bool]:
    """SQL: an organization whose contact is this user (`user_id`: a value or a bind parameter)."""
    return Organization.contact_user_id == user_id


def organizations_of(user: User) -> list[Organization]:
    """The organizations this user is the contact of, by name."""
    return db.session.scalars(sa.select(Organization).where(contacted_by(user.id))
                              .order_by(Organization.name, Organization.id)).all()


def all_organizations(search: str, page: int, per_page: int = 50) -> Page[Organization]:
    """Staff list of organizations, optionally filtered by name, paged in SQL."""
    statement = sa.select(Organization).options(joinedload(Organization.contact_user)).order_by(Organization.name, Organization.id)
    if search:
        statement = statement.where(sa.func.lower(Organization.name).like(contains_pattern(search.strip().lower()),
                                                                          escape=LIKE_ESCAPE))
    return paginate(statement, page, per_page)


# --- Corporate memberships and what may be done today --------------------------------------------

def corporate_types() -> list[MembershipType]:
    """The corporate seat types on sale (staff-only types, so not filtered by is_public)."""
    return db.session.scalars(sa.select(MembershipType).where(
        MembershipType.kind == MembershipKind.CORPORATE_SEAT, MembershipType.is_available.is_(True),
        MembershipType.is_invoiced.is_(True)).order_by(MembershipType.sort_order, MembershipType.name)).all()


def default_corporate_type() -> MembershipType:
    types = corporate_types()
    if not types:
        raise DomainError("Corporate memberships are not on sale at the moment.")
    return types[0]


def corporate_memberships(organization: Organization) -> list[CorporateMembership]:
    """Every term of the organization's corporate membership, newest first."""
    return db.session.scalars(sa.select(CorporateMembership).options(joinedload(CorporateMembership.membership_type))
                              .where(CorporateMembership.organization_id == organization.id)
                              .order_by(CorporateMembership.starts_on.desc(), CorporateMembership.id.desc())).all()


def current_corporate_membership(organization: Organization, day: date) -> CorporateMembership | None:
    """The corporate membership that covers `day`, if any."""
    return db.session.scalar(sa.select(CorporateMembership).where(
        CorporateMembership.organization_id == organization.id,
        CorporateMembership.starts_on <= day, CorporateMembership.ends_on >= day,
    ).order_by(CorporateMembership.starts_on.desc(), CorporateMembership.id.desc()))


def latest_corporate_membership(organization: Organization) -> CorporateMembership | None:
    """The corporate membership that ends last (a renewed, not yet started one included)."""
    return db.session.scalar(sa.select(CorporateMembership).where(
        CorporateMembership.organization_id == organization.id,
    ).order_by(CorporateMembership.ends_on.desc(), CorporateMembership.id.desc()))


def later_corporate_memberships(corporate: CorporateMembership) -> list[CorporateMembership]:
    """The organization's terms that start after this one ends (already renewed), in order."""
    return db.session.scalars(sa.select(CorporateMembership).where(
        CorporateMembership.organization_id == corporate.organization_id,
        CorporateMembership.starts_on > corporate.ends_on,
    ).order_by(CorporateMembership.starts_on, CorporateMembership.id)).all()


def grace_ends_on(corporate: CorporateMembership) -> date:
    return corporate.ends_on + timedelta(days=corporate.membership_type.grace_days)


def seats_used(corporate: CorporateMembership) -> int:
    """Seats held by someone (not freed)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(CorporateSeat).where(
        CorporateSeat.corporate_membership_id == corporate.id, CorporateSeat.released_on.is_(None))) or 0


def seat_holders(corporate: CorporateMembership, page: int = 1, per_page: int = 50) -> Page[CorporateSeat]:
    """The seats held (not freed), with their members, by name; paged in SQL."""
    statement = (sa.select(CorporateSeat).join(Member, CorporateSeat.member_id == Member.id)
                 .options(joinedload(CorporateSeat.member))
                 .where(CorporateSeat.corporate_membership_id == corporate.id, CorporateSeat.released_on.is_(None))
                 .order_by(Member.last_name, Member.first_name, CorporateSeat.id))
    return paginate(statement, page, per_page)


@dataclass(frozen=True)
class CorporateOptions:
    """What the contact may do about the organization's corporate membership today."""

    current: CorporateMembership | None
    latest: CorporateMembership | None
    assignable: CorporateMembership | None  # where employees are named: the current one, else one paid ahead
    can_buy: bool
    can_add_seats: bool
    can_renew: bool
    renew_from: date | None
    message: str

    @property
    def can_assign(self) -> bool:
        return self.assignable is not None


def corporate_options(organization: Organization, day: date) -> CorporateOptions:
    """Buy, add seats, name employees, renew: from the dates of the organization's corporate memberships."""
    current = current_corporate_membership(organization, day)
    latest = latest_corporate_membership(organization)
    if latest is None:
        return CorporateOptions(None, None, None, True, False, False, None,
                                "Buy seats to start a corporate membership; it starts on the day you pay.")
    grace_end = grace_ends_on(latest)
    if day > grace_end:
        return CorporateOptions(None, latest, None, True, False, False, None,
                                f"The corporate membership ended on {latest.ends_on:%d %b %Y}. Buy seats to start a new one today.")
    opens = latest.ends_on - timedelta(days=RENEWAL_OPENS_DAYS_BEFORE_END)
    can_renew = day >= opens
    renew_from = latest.ends_on + timedelta(days=1) if can_renew else None
    assignable = current or (latest if latest.starts_on > day else None)
    if current is None and latest.ends_on < day:
        message = (f"The corporate membership ended on {latest.ends_on:%d %b %Y}. Renew before {grace_end:%d %b %Y} "
                   "to continue it without a gap.")
    elif can_renew:
        message = f"Renewing now continues every seat from {renew_from:%d %b %Y}."
    else:
        message = f"Renewal opens on {opens:%d %b %Y}."
    return CorporateOptions(current, latest, assignable, False, current is not None, can_renew, renew_from, message)


# --- Orders ----------------------------------------------------------------------------------

class PaymentInProgress(DomainError):
    """A payment for the organization's open order is being processed."""


def _organization_order(
    organization: Organization, purpose: OrderPurpose, membership_type: MembershipType, *, seats: int,
    unit_price_cents: int, amount_cents: int, description: str, actor: User,
    covers_from: date | None = None, covers_until: date | None = None,
) -> Order:
    """Create (or reuse and reprice) the organization's open order for `purpose`.

    The unique index on open orders covers member orders only, so the organization's row is locked
    (PostgreSQL) while looking for an open order: a double click reuses it instead of making a second.
    """
    db.session.execute(sa.select(Organization.id).where(Organization.id == organization.id).with_for_update())
    order = db.session.scalar(sa.select(Order).where(
        Order.organization_id == organization.id, Order.member_id.is_(None), Order.purpose == purpose,
        Order.status == OrderStatus.OPEN).order_by(Order.id.desc()))
    if order is not None and db.session.scalar(sa.select(Payment.id).where(
            Payment.order_id == order.id, Payment.status.in_(IN_FLIGHT))) is not None:
        raise PaymentInProgress("A payment for this is already in progress. Wait a moment and reload the page.")
    if order is None:
        order = Order(organization_id=organization.id, purpose=purpose)
        db.session.add(order)
    order.purchaser_id = actor.id
    order.membership_type = membership_type
    order.chapter_id = None
    order.currency = membership_type.currency
    order.total_cents = amount_cents
    order.chapter_share_cents = 0  # see the module docstring
    order.association_share_cents = amount_cents
    order.seats = seats
    order.description = description[:300]
    order.covers_from, order.covers_until = covers_from, covers_until
    order.lines.clear()
    order.lines.append(OrderLine(description=description[:300], quantity=seats, unit_price_cents=unit_price_cents,
                                 amount_cents=amount_cents, chapter_share_cents=0))
    db.session.flush()
    return order


def _check_seat_count(seats: int | None, at_least: int, message: str) -> int:
    if seats is None or seats < at_least:
        raise DomainError(message, field="seats")
    if seats > MAX_SEATS_PER_ORDER:
        raise DomainError(f"At most {MAX_SEATS_PER_ORDER} seats at a time; call us for more.", field="seats")
    return seats


def start_corporate_purchase(
    organization: Organization, seats: int | None, *, actor: User, membership_type: MembershipType | None = None,
    day: date | None = None,
) -> Order:
    """An order for a new corporate membership: seats × the join price; the term starts on the payment date."""
    day = day or today()
    _require_manager(organization, actor)
    membership_type = membership_type or default_corporate_type()
    if membership_type not in corporate_types():
        raise DomainError("This membership type cannot be bought as a corporate membership.", field="membership_type_id")
    options = corporate_options(organization, day)
    if not options.can_buy:
        raise DomainError("The organization's corporate membership is current: add seats or renew it instead.")
    minimum = membership_type.min_seats or 1
    seats = _check_seat_count(seats, minimum, f"A corporate membership has at least {minimum} seats.")
    price = membership_type.join_price_cents
    return _organization_order(
        organization, OrderPurpose.CORPORATE_SEATS, membership_type, seats=seats, unit_price_cents=price,
        amount_cents=seats * price, actor=actor,
        description=f"{membership_type.name}: {seats} seats × {format_money(price, membership_type.currency)}, "
                    f"{membership_type.term_months} months, {organization.name}",
    )


def add_seats_quote(corporate: CorporateMembership, day: date) -> tuple[int, int, int]:
    """(price of one more seat for the rest of the term in cents, days left, days in the term)."""
    days_in_term = (corporate.ends_on - corporate.starts_on).days + 1
    days_left = (corporate.ends_on - max(day, corporate.starts_on)).days + 1
    # Prorated per seat, rounding down: the organization keeps the odd cent, and seats × unit price = total.
    return corporate.membership_type.join_price_cents * days_left // days_in_term, days_left, days_in_term


def start_add_seats(organization: Organization, seats: int | None, *, actor: User, day: date | None = None) -> Order:
    """An order for more seats on the current corporate membership, prorated by day for the rest of its term."""
    day = day or today()
    _require_manager(organization, actor)
    corporate = current_corporate_membership(organization, day)
    if corporate is None:
        raise DomainError("The organization has no current corporate membership to add seats to.")
    seats = _check_seat_count(seats, 1, "Add at least one seat.")
    unit_price, days_left, days_in_term = add_seats_quote(corporate, day)
    membership_type = corporate.membership_type
    if unit_price <= 0:
        raise DomainError("There is nothing to pay for these seats.", field="seats")
    return _organization_order(
        organization, OrderPurpose.CORPORATE_ADD_SEATS, membership_type, seats=seats,
        unit_price_cents=unit_price, amount_cents=seats * unit_price, actor=actor,
        covers_from=max(day, corporate.starts_on), covers_until=corporate.ends_on,
        description=f"{seats} additional {membership_type.name.lower()}{'s' if seats != 1 else ''} × "
                    f"{format_money(unit_price, membership_type.currency)} "
                    f"({format_money(membership_type.join_price_cents, membership_type.currency)} for the remaining "
                    f"{days_left} of {days_in_term} days, until {corporate.ends_on:%d %b %Y}), {organization.name}",
    )


def start_corporate_renewal(
    organization: Organization, seats: int | None = None, *, actor: User, day: date | None = None,
) -> Order:
    """An order renewing every seat for the next term, which starts the day after the current one ends."""
    day = day or today()
    _require_manager(organization, actor)
    options = corporate_options(organization, day)
    if not options.can_renew:
        raise DomainError(options.message)
    latest = options.latest
    membership_type = latest.membership_type
    if membership_type not in corporate_types():
        membership_type = default_corporate_type()
    held = seats_used(latest)
    seats = latest.seats if seats is None else seats
    minimum = max(membership_type.min_seats or 1, held)
    seats = _check_seat_count(seats, minimum, f"Renew at least {minimum} seats" + (
        f": {held} employees hold seats now. Free seats first to renew fewer." if held > (membership_type.min_seats or 1) else "."))
    starts = latest.ends_on + timedelta(days=1)
    price = membership_type.renewal_price_cents
    return _organization_order(
        organization, OrderPurpose.CORPORATE_RENEWAL, membership_type, seats=seats, unit_price_cents=price,
        amount_cents=seats * price, actor=actor, covers_from=starts,
        covers_until=member_services.term_end(starts, membership_type),
        description=f"{membership_type.name} renewal: {seats} seats × {format_money(price, membership_type.currency)} "
                    f"from {starts:%d %b %Y}, {organization.name}",
    )


# --- Fulfilment (called by payments.services.fulfil_order, exactly once per order) ----------------

def fulfil_corporate_order(order: Order, day: date) -> CorporateMembership:
    """Give the organization what it paid for: a corporate membership, more seats, or the next term for all."""
    organization = order.organization
    membership_type = order.membership_type
    if order.purpose is OrderPurpose.CORPORATE_SEATS:
        corporate = CorporateMembership(
            organization_id=organization.id, membership_type_id=membership_type.id, seats=order.seats,
            starts_on=day, ends_on=member_services.term_end(day, membership_type), order_id=order.id)
        db.session.add(corporate)
        order.covers_from, order.covers_until = corporate.starts_on, corporate.ends_on
        db.session.flush()
        return corporate
    if order.purpose is OrderPurpose.CORPORATE_ADD_SEATS:
        # The term the seats were priced for (its end is on the order), whatever day the payment lands.
        corporate = db.session.scalar(sa.select(CorporateMembership).where(
            CorporateMembership.organization_id == organization.id, CorporateMembership.ends_on == order.covers_until,
        ).order_by(CorporateMembership.id.desc())) or current_corporate_membership(organization, day)
        if corporate is None:  # cannot happen through the pages; keep the money traceable
            raise DomainError(f"{order.reference}: no corporate membership to add seats to.")
        corporate.seats += order.seats
        db.session.flush()
        return corporate
    if order.purpose is OrderPurpose.CORPORATE_RENEWAL:
        previous = latest_corporate_membership(organization)
        if previous is not None and day <= grace_ends_on(previous):
            starts = previous.ends_on + timedelta(days=1)  # renewing early or in grace: no gap, no day paid twice
        else:
            starts = day
        corporate = CorporateMembership(
            organization_id=organization.id, membership_type_id=membership_type.id, seats=order.seats,
            starts_on=starts, ends_on=member_services.term_end(starts, membership_type), order_id=order.id)
        db.session.add(corporate)
        order.covers_from, order.covers_until = corporate.starts_on, corporate.ends_on
        db.session.flush()
        if previous is not None:
            holders = db.session.scalars(sa.select(CorporateSeat).options(joinedload(CorporateSeat.member)).where(
                CorporateSeat.corporate_membership_id == previous.id, CorporateSeat.released_on.is_(None),
            ).order_by(CorporateSeat.id)).all()
            for seat in holders[:corporate.seats]:
                _seat(corporate, seat.member, starts_on=corporate.starts_on, assigned_on=day, actor=None)
        return corporate
    raise DomainError(f"{order.reference} is not a corporate order.")


# --- Seats -----------------------------------------------------------------------------------

@dataclass
class SeatAssignment:
    """The seat given, whether a member (and a log-in) was created for the person, and later terms
    (already renewed) the person could not be carried into for want of a free seat."""

    seat: CorporateSeat
    member: Member
    member_created: bool
    login_created: bool
    not_carried: list[CorporateMembership] = field(default_factory=list)


def _seat(corporate: CorporateMembership, member: Member, *, starts_on: date, assigned_on: date,
          actor: User | None) -> CorporateSeat:
    """A seat for the member with a corporate term from `starts_on` to the corporate membership's end."""
    organization = corporate.organization
    term = member_services.grant_term(
        member, corporate.membership_type, starts_on=starts_on, ends_on=corporate.ends_on,
        source=TermSource.CORPORATE, actor=actor, organization_id=organization.id,
        note=f"Corporate seat, {organization.name}"[:300])
    term.corporate_membership_id = corporate.id
    seat = CorporateSeat(corporate_membership_id=corporate.id, member_id=member.id, assigned_on=assigned_on,
                         term_id=term.id)
    db.session.add(seat)
    member.organization_id = organization.id
    db.session.flush()
    from chapter.treasury import services as ledger  # the seat's chapter share goes to the employee's home chapter

    ledger.record_seat_share(corporate, member, day=assigned_on, starts_on=starts_on)
    return seat


def _lock(corporate: CorporateMembership) -> None:
    """Serialize seat changes on one corporate membership (PostgreSQL row lock; SQLite has one writer)."""
    db.session.execute(sa.select(CorporateMembership.id).where(CorporateMembership.id == corporate.id).with_for_update())


def _held_seat(member: Member, day: date) -> CorporateSeat | None:
    """A seat the member holds in any corporate membership that has not ended."""
    return db.session.scalar(sa.select(CorporateSeat).join(CorporateMembership).where(
        CorporateSeat.member_id == member.id, CorporateSeat.released_on.is_(None), CorporateMembership.ends_on >= day))


def _find_or_create_member(
    *, member_number: str | None, email: str | None, first_name: str | None, last_name: str | None,
    home_chapter_id: int | None, employer: str, actor: User,
) -> tuple[Member, bool, bool]:
    from chapter.auth.models import User

    if member_number and member_number.strip():
        # An existing member is never seated without their consent: see corporate_offers.offer_seat.
        raise DomainError("An existing member is asked first: offer them the seat.", field="member_number")
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    email = (email or "").strip().lower()
    if not first_name:
        raise DomainError("Enter the employee's first name, or the member number of an existing member.", field="first_name")
    if not last_name:
        raise DomainError("Enter the employee's last name.", field="last_name")
    if not email or "@" not in email.strip("@"):
        raise DomainError("Enter the employee's e-mail address: it is how they log in.", field="email")
    # Never attach someone by e-mail alone: the contact names an existing member by the number they give.
    if db.session.scalar(sa.select(Member.id).where(Member.email == email)) is not None:
        raise DomainError("A member already uses this e-mail address: name them by their member number instead.",
                          field="email")
    login = db.session.scalar(sa.select(User).where(User.email == email))
    if login is not None and login.member is not None:
        raise DomainError("A member already uses this e-mail address: name them by their member number instead.",
                          field="email")
    login_created = login is None
    if login is None:
        # A log-in without a known password: the employee chooses one through the e-mailed link.
        login = User(email=email, name=f"{first_name} {last_name}")
        login.set_unusable_password()
        db.session.add(login)
        db.session.flush()
    member = member_services.create_member(first_name=first_name, last_name=last_name, email=email,
                                           home_chapter_id=home_chapter_id, actor=actor, user=login, employer=employer)
    return member, True, login_created


def assign_seat(
    corporate: CorporateMembership, *, actor: User, member_number: str | None = None, email: str | None = None,
    first_name: str | None = None, last_name: str | None = None, home_chapter_id: int | None = None,
    day: date | None = None, override_reason: str | None = None,
) -> SeatAssignment:
    """Name a new person to a free seat: a new member (and log-in) by name and e-mail.

    Existing members are offered the seat instead (corporate_offers.offer_seat) and hold it once they accept.

    The employee's corporate term runs from today (or the corporate membership's start) to its end; an
    already renewed later term gets them too while it has a free seat.
    """
    day = day or today()
    organization = corporate.organization
    _require_manager(organization, actor)
    if corporate.ends_on < day:
        raise DomainError("This corporate membership has ended; renew it to name employees.")
    _lock(corporate)
    from chapter.members.corporate_offers import pending_offer_count
    from chapter.members.corporate_renewals import check_seat_free

    check_seat_free(corporate, actor=actor, day=day, override_reason=override_reason)  # not transferable in a term
    if seats_used(corporate) + pending_offer_count(corporate) >= corporate.seats:  # offers waiting hold seats
        raise DomainError(f"All {corporate.seats} seats are taken or offered. Add seats, or free one first.")
    member, member_created, login_created = _find_or_create_member(
        member_number=member_number, email=email, first_name=first_name, last_name=last_name,
        home_chapter_id=home_chapter_id, employer=organization.name, actor=actor)
    held = None if member_created else _held_seat(member, day)
    if held is not None:
        where = held.corporate_membership.organization.name
        raise DomainError(f"{member.full_name} already holds a seat ({where}).",
                          field="member_number" if member_number else "email")
    seat = _seat(corporate, member, starts_on=max(day, corporate.starts_on), assigned_on=day, actor=actor)
    not_carried = []
    for later in later_corporate_memberships(corporate):
        _lock(later)
        if seats_used(later) < later.seats:
            _seat(later, member, starts_on=later.starts_on, assigned_on=day, actor=actor)
        else:
            not_carried.append(later)
    audit.record(SEAT_ASSIGNED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} ({member.member_number}) named to a corporate seat of {organization.name}",
                 after={"organization": organization.name, "until": corporate.ends_on})
    db.session.flush()
    return SeatAssignment(seat, member, member_created, login_created, not_carried)


def release_seat(seat: CorporateSeat, *, actor: User, day: date | None = None) -> CorporateSeat:
    """Free a seat: the employee keeps their member record and history, but their corporate term ends the
    day before `day` (or is voided if it had not started), and so do the seats of later, renewed terms."""
    day = day or today()
    corporate = seat.corporate_membership
    organization = corporate.organization
    _require_manager(organization, actor)
    if seat.released_on is not None:
        raise DomainError("This seat is already free.")
    member = seat.member
    later_seats = db.session.scalars(sa.select(CorporateSeat).join(CorporateMembership).where(
        CorporateMembership.organization_id == organization.id, CorporateMembership.starts_on > corporate.ends_on,
        CorporateSeat.member_id == member.id, CorporateSeat.released_on.is_(None))).all()
    now = utcnow()
    for freed in [seat, *later_seats]:
        freed.released_on = day
        term = db.session.get(MembershipTerm, freed.term_id) if freed.term_id else None
        if term is None or term.voided_at is not None or term.ends_on < day:
            continue  # nothing left of it to take back
        term.original_ends_on = term.original_ends_on or term.ends_on
        if term.starts_on >= day:
            term.voided_at = now
        else:
            term.ends_on = day - timedelta(days=1)
    if member.organization_id == organization.id:
        member.organization_id = None
    db.session.flush()
    paid_through_before = member.paid_through
    member_services.refresh_membership_dates(member)
    audit.record(SEAT_RELEASED, actor=actor, chapter_id=member.home_chapter_id, member_id=member.id,
                 summary=f"{member.full_name} ({member.member_number}) freed from a corporate seat of {organization.name}",
                 before={"paid_through": paid_through_before}, after={"paid_through": member.paid_through, "released_on": day})
    db.session.flush()
    return seat
