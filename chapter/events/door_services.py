"""Services of the door: the check-in list, tickets by code, walk-ins registered (and paid) at the door."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.core.pagination import Page, paginate
from chapter.core.text import LIKE_ESCAPE, contains_pattern
from chapter.events import attendance
from chapter.events.models import Event, EventStatus, PriceCategory, Registration, RegistrationStatus
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
    if paid_by == "card" and price > 0:
        return _walk_in_by_card(event, name=name, email=email, category=price_category, actor=actor)
    registration = Registration(event_id=event.id, name=name.strip()[:200], email=(email or None),
                                category=price_category, price_cents=price, currency=event.currency,
                                status=RegistrationStatus.PAID, paid_at=utcnow(),
                                paid_at_door="cash" if price > 0 else None)
    db.session.add(registration)
    db.session.flush()
    audit.record("event.walk_in", actor=actor, chapter_id=event.chapter_id,
                 summary=f"Walk-in {registration.name} at {event.title}"
                         + (f", {price / 100:.2f} {event.currency} in cash" if price else ", free"))
    attendance.check_in(registration, actor=actor)
    return WalkIn(registration, None)


def _walk_in_by_card(event: Event, *, name: str, email: str | None, category: PriceCategory, actor: User) -> WalkIn:
    """A walk-in paying by card on the officer's phone: ev-core's registration order, the officer paying."""
    from chapter.events import services as event_services

    start = getattr(event_services, "start_walk_in_order", None)
    if start is None:
        raise DomainError("Card payment at the door is not available yet: record it as cash.", field="paid_by")
    registration, order = start(event, name=name, email=email, category=category, actor=actor)
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
