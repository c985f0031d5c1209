"""Services of the door: the check-in list, tickets by code, walk-ins registered (and paid) at the door."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.formatting import format_money
from chapter.core.models import today, utcnow
from chapter.core.pagination import Page, paginate
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.events import attendance
from chapter.events.models import LIVE_STATUSES, Event, EventStatus, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User

DOOR_PAGE_SIZE = 50
TICKET_CODE_MAX = 40


def door_page(event: Event, search: str, page: int) -> Page[Registration]:
    """Confirmed registrants by name (those not yet checked in first), searched by name or e-mail."""
    conditions = [Registration.event_id == event.id, Registration.status == RegistrationStatus.PAID]
    if search:
        pattern = contains_pattern(search.lower())
        conditions.append(sa.or_(sa.func.lower(Registration.name).like(pattern, escape=LIKE_ESCAPE),
                                 sa.func.lower(Registration.email).like(pattern, escape=LIKE_ESCAPE)))
    statement = (sa.select(Registration).where(*conditions)
                 .order_by(Registration.checked_in_at.is_not(None), sa.func.lower(Registration.name), Registration.id))
    return paginate(statement, page, DOOR_PAGE_SIZE)


def registration_by_code(code: str) -> Registration | None:
    """The registration a ticket's code names (codes are random and URL-safe)."""
    if not code or len(code) > TICKET_CODE_MAX:
        return None
    return db.session.scalar(sa.select(Registration).where(Registration.ticket_code == code))


@dataclass(frozen=True)
class WalkIn:
    registration: Registration
    order_id: int | None  # set when they pay by card: the payment page comes next


def register_walk_in(event: Event, *, name: str, email: str | None, category: str, paid_by: str,
                     actor: User) -> WalkIn:
    """Someone at the door: cash is recorded and they are checked in; by card, an order to pay on the spot."""
    if event.status is not EventStatus.PUBLISHED:
        raise DomainError(f"{event.title} is {event.status.label.lower()}: nobody can be registered.")
    try:
        price_category = PriceCategory(category)
    except ValueError:
        raise DomainError("Choose a price.", field="category") from None
    price = event.price_for(price_category)
    if price is None:
        raise DomainError(f"{price_category.label} places are not offered for this event.", field="category")
    from chapter.events.seats import lock_event

    lock_event(event.id)  # serialised with online registrations; no capacity check: the walk-in is in the room
    member = _member_with_email(email)
    if paid_by == "card" and price > 0:
        return _walk_in_by_card(event, member, name=name, email=email, actor=actor)
    registration = _refuse_a_second_registration(event, member)  # one awaiting payment is settled in cash
    if registration is None:
        registration = Registration(event_id=event.id, name=name.strip()[:200], email=(email or None),
                                    member_id=member.id if member else None,
                                    user_id=member.user_id if member else None, currency=event.currency)
        db.session.add(registration)
    elif registration.order is not None:
        from chapter.events.orders import release_order

        release_order(registration.order)
    registration.category, registration.price_cents = price_category, price
    registration.status, registration.paid_at = RegistrationStatus.PAID, utcnow()
    registration.hold_expires_at = registration.offer_expires_at = None
    registration.paid_at_door = "cash" if price > 0 else None
    db.session.flush()
    audit.record("event.walk_in", actor=actor, chapter_id=event.chapter_id, member_id=registration.member_id,
                 summary=f"Walk-in {registration.name} at {event.title}"
                         + (f", {format_money(price, event.currency)} in cash" if price else ", free"))
    attendance.check_in(registration, actor=actor)
    return WalkIn(registration, None)


def _member_with_email(email: str | None):
    """The member record a walk-in's e-mail names (their points and price depend on it), if any."""
    if not email:
        return None
    from chapter.auth.claims import member_by_email

    return member_by_email(email)


def _refuse_a_second_registration(event: Event, member) -> Registration | None:
    """A member already registered is checked in from the list, not registered again; returns one awaiting payment."""
    if member is None:
        return None
    live = db.session.scalar(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.member_id == member.id, Registration.guest_of_id.is_(None),
        Registration.status.in_(LIVE_STATUSES)))
    if live is not None and live.status is RegistrationStatus.PAID:
        raise DomainError(f"{live.name} is already registered: check them in from the list.", field="email")
    if live is not None and live.status is RegistrationStatus.WAITLISTED:
        raise DomainError(f"{live.name} is on the waitlist: cancel that registration first, or record cash.",
                          field="email")
    return live


def _walk_in_by_card(event: Event, member, *, name: str, email: str | None, actor: User) -> WalkIn:
    """A member paying by card on the officer's phone: the same order and card flow as online, the officer
    placing it (payments lets its purchaser pay). The price category is decided on payment, as online."""
    from chapter.events import orders, registration as registrations

    if member is None:
        raise DomainError("Card payment at the door needs the e-mail of a member record (the card flow charges a "
                          "member's order); record a visitor's payment as cash.", field="email")
    registration = _refuse_a_second_registration(event, member)
    if registration is None:
        registration = Registration(event_id=event.id, member_id=member.id, user_id=member.user_id,
                                    name=name.strip()[:200], email=email, category=PriceCategory.MEMBER,
                                    price_cents=0, currency=event.currency, status=RegistrationStatus.PENDING)
        db.session.add(registration)
        db.session.flush()
    registrations.hold(registration, utcnow())  # the walk-in is in the room: no capacity check at the door
    order = orders.start_order(registration, actor=actor, day=today())
    registration.paid_at_door = "card"
    audit.record("event.walk_in", actor=actor, chapter_id=event.chapter_id, member_id=member.id,
                 summary=f"Walk-in {registration.name} at {event.title}, paying by card")
    db.session.flush()
    return WalkIn(registration, order.id)


def certificate_text(registration: Registration):
    """What the attendee's certificate says; None until attendance is final, or if they did not attend."""
    from chapter.core.links import public_url
    from chapter.events.certificates import CertificateText

    event = registration.event
    if event.attendance_final_at is None or registration.checked_in_at is None:
        return None
    category = attendance.points_category(event)
    try:
        verify = public_url("events.certificate", registration_id=registration.id)
    except RuntimeError:
        verify = ""
    return CertificateText(
        attendee=registration.name, event_title=event.title, chapter_name=event.chapter.display_name,
        held_on=attendance.local_start(event).date(), hours=event.instructional_hours,
        points=attendance.points_worth(event), category=category.name if category else None,
        certificate_number=f"E{event.id}-{registration.id:06d}", verify_url=verify)
