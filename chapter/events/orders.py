"""The order behind a paid registration (a registrant and their guests): priced on the day of payment.

One open order per member and purpose (payments' unique index): opening an order for another registration
releases the member's other unpaid event order (its registrations keep their hold and get a new order when
paid), unless a card payment is in flight on it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from chapter.auth.models import User
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.events import policy
from chapter.events.models import PriceCategory, Registration, RegistrationStatus
from chapter.events.times import format_local
from chapter.extensions import db
from chapter.payments.models import Order, OrderLine, OrderPurpose, OrderStatus
from chapter.payments.services import PaymentInProgress, attempt_in_flight, payment_in_flight

# price_on asks for a new quote when less than this is left of the hold: the payment must start inside it.
HOLD_MARGIN = timedelta(minutes=2)


def payment_window() -> timedelta:
    return timedelta(minutes=current_app.config.get("EVENT_PAYMENT_WINDOW_MINUTES", 30))


def party_of(host: Registration, *, include_expired: bool = False) -> list[Registration]:
    """The registrant first, then their guests that are still live (or whose hold ran out with the host's)."""
    gone = [RegistrationStatus.CANCELLED] if include_expired else [RegistrationStatus.CANCELLED,
                                                                   RegistrationStatus.EXPIRED]
    guests = db.session.scalars(sa.select(Registration).where(
        Registration.guest_of_id == host.id, Registration.status.notin_(gone))
        .order_by(Registration.id)).all()
    return [host, *guests]


def registrations_of_order(order: Order) -> list[Registration]:
    """The order's registrations, the host (not a guest) first."""
    rows = db.session.scalars(sa.select(Registration).where(Registration.order_id == order.id)
                              .order_by(Registration.guest_of_id.is_not(None), Registration.id)).all()
    return list(rows)


def price_party(party: list[Registration], day: date) -> int:
    """Set each registration's category and price for `day`; the total."""
    host = party[0]
    price = policy.price_for(host.event, host.member, day)
    host.category, host.price_cents = price.category, price.cents
    for guest in party[1:]:
        guest.category, guest.price_cents = PriceCategory.GUEST, policy.guest_price(host.event)
    return sum(r.price_cents for r in party)


def release_order(order: Order) -> None:
    """Close an open event order nobody is paying (its registrations keep their state, without an order)."""
    if order.status is not OrderStatus.OPEN:
        return
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = utcnow()
    db.session.execute(sa.update(Registration).where(Registration.order_id == order.id)
                       .values(order_id=None).execution_options(synchronize_session="fetch"))
    db.session.flush()


def start_order(host: Registration, *, actor: User | None, day: date) -> Order:
    """Open (or reuse and reprice) the order that pays for `host` and their guests, priced for `day`."""
    member = host.member
    if member is None:
        raise DomainError("Only a registration with a member record is paid by card.")
    order = host.order if host.order is not None and host.order.status is OrderStatus.OPEN else None
    if order is not None and payment_in_flight(order) is not None:
        raise PaymentInProgress("A payment for this registration is already in progress. Wait a moment and reload.")
    if order is None:
        other = db.session.scalar(sa.select(Order).where(
            Order.member_id == member.id, Order.purpose == OrderPurpose.EVENT, Order.status == OrderStatus.OPEN))
        if other is not None:
            if payment_in_flight(other) is not None:
                raise PaymentInProgress("A payment for another event is in progress. Wait a moment and reload.")
            release_order(other)
        try:
            with db.session.begin_nested():
                order = Order(member_id=member.id, purpose=OrderPurpose.EVENT, currency=host.currency,
                              total_cents=0, description="")
                db.session.add(order)
        except IntegrityError:
            raise PaymentInProgress("A payment for an event is already in progress. Wait a moment and reload.")
    party = party_of(host)
    event = host.event
    total = price_party(party, day)
    chapter_share = total * event.chapter_share_percent // 100
    when = format_local(event.starts_at, event.timezone, with_zone=False)
    order.purchaser_id = actor.id if actor else order.purchaser_id
    order.chapter_id = event.chapter_id
    order.currency = event.currency
    order.total_cents = total
    order.chapter_share_cents = chapter_share
    order.association_share_cents = total - chapter_share
    order.description = f"{event.title}, {when}"[:300]
    order.lines.clear()
    for registration in party:
        share = registration.price_cents * event.chapter_share_percent // 100
        order.lines.append(OrderLine(
            description=f"{event.title}: {registration.name} ({registration.category.label.lower()} price)"[:300],
            quantity=1, unit_price_cents=registration.price_cents, amount_cents=registration.price_cents,
            chapter_share_cents=share))
    # The lines' shares add up to the order's (rounding goes to the first line).
    if order.lines:
        order.lines[0].chapter_share_cents += chapter_share - sum(line.chapter_share_cents for line in order.lines)
    db.session.flush()
    for registration in party:
        registration.order_id = order.id
    db.session.flush()
    return order


def hold_is_valid(host: Registration, now: datetime, margin: timedelta = HOLD_MARGIN) -> bool:
    if host.status is RegistrationStatus.PENDING:
        return host.hold_expires_at is not None and host.hold_expires_at > now + margin
    if host.status is RegistrationStatus.OFFERED:
        return host.offer_expires_at is not None and host.offer_expires_at > now + margin
    return False


def has_payment_in_flight(registration: Registration) -> bool:
    return registration.order is not None and attempt_in_flight(registration.order) is not None
