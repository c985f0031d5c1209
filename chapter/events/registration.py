"""Registering (a seat, a payment hold, or the waitlist), confirming, offering freed seats, expiring holds
and offers, and a registrant cancelling with the refund the policy gives.

Every change of an event's seats first locks the event row (seats.lock_event), then counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from chapter.auth.models import User
from chapter.core import domain_events
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.events import notices, orders, policy, seats
from chapter.events.models import Event, EventStatus, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from chapter.members import services as member_services
from chapter.members.models import Member

MAX_GUESTS = 3


class RegistrationRefused(DomainError):
    """Registration is not possible (closed, full for the guests, already registered)."""


def offer_hours() -> int:
    return current_app.config.get("EVENT_WAITLIST_OFFER_HOURS", 48)


def registration_open(event: Event, now: datetime) -> bool:
    opens = event.registration_opens_at or event.published_at or event.created_at
    closes = event.registration_closes_at or event.starts_at
    return event.status is EventStatus.PUBLISHED and opens <= now < closes


def member_for(user: User) -> Member:
    """The user's member record (a pending one is made for a user who has none, as sign-up does)."""
    if user.member is not None:
        return user.member
    first, _, last = (user.name or "").strip().partition(" ")
    return member_services.create_member(first_name=first or "Registrant", last_name=last or first or "Registrant",
                                         email=user.email, home_chapter_id=None, actor=user, user=user)


def live_registration(event: Event, user: User) -> Registration | None:
    return db.session.scalar(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.user_id == user.id, Registration.guest_of_id.is_(None),
        Registration.status.in_([RegistrationStatus.PENDING, RegistrationStatus.PAID,
                                 RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED])))


def register(event: Event, *, user: User, guest_names: list[str] = (), now: datetime | None = None) -> Registration:
    """Take a seat (confirmed if free, held for the payment window if paid) or a place on the waitlist."""
    now = now or utcnow()
    guest_names = [name.strip()[:200] for name in guest_names if name and name.strip()]
    if len(guest_names) > MAX_GUESTS:
        raise RegistrationRefused(f"At most {MAX_GUESTS} guests.", field="guests")
    if not registration_open(event, now):
        raise RegistrationRefused("Registration for this event is not open.")
    member = member_for(user)
    price = policy.price_for(event, member, now.date())  # before the lock: it holds others up
    guest_cents = policy.guest_price(event) if guest_names else 0
    seats.lock_event(event.id)
    if live_registration(event, user) is not None:
        raise RegistrationRefused("You are already registered for this event: see My events.")
    free = seats.seats_left(event, now)
    party_size = 1 + len(guest_names)
    if free is not None and free < party_size:
        if guest_names:
            raise RegistrationRefused(f"Only {free} seat(s) left: not enough for you and your guests. Register "
                                      "without guests to join the waitlist." if free else
                                      "The event is full: register without guests to join the waitlist.",
                                      field="guests")
        status = RegistrationStatus.WAITLISTED
    else:
        total = price.cents + guest_cents * len(guest_names)
        status = RegistrationStatus.PAID if total == 0 else RegistrationStatus.PENDING
    host = Registration(event_id=event.id, user_id=user.id, member_id=member.id, name=member.full_name,
                        email=member.email or user.email, category=price.category, price_cents=price.cents,
                        currency=event.currency, status=status, created_at=now)
    if status is RegistrationStatus.WAITLISTED:
        host.waitlist_position = seats.next_waitlist_position(event.id)
    db.session.add(host)
    db.session.flush()
    for name in guest_names:
        db.session.add(Registration(event_id=event.id, guest_of_id=host.id, name=name, category=PriceCategory.GUEST,
                                    price_cents=guest_cents, currency=event.currency, status=status, created_at=now))
    db.session.flush()
    if status is RegistrationStatus.PAID:
        confirm(host, now)
    elif status is RegistrationStatus.PENDING:
        hold(host, now)
        orders.start_order(host, actor=user, day=now.date())
        notices.awaiting_payment(host, int(orders.payment_window().total_seconds() // 60))
    else:
        notices.waitlisted(host)
    return host


def hold(host: Registration, now: datetime) -> None:
    """Hold the party's seats for the payment window."""
    until = now + orders.payment_window()
    for registration in orders.party_of(host, include_expired=True):
        registration.status = RegistrationStatus.PENDING
        registration.hold_expires_at = until
        registration.waitlist_position = None
    db.session.flush()


def confirm(host: Registration, now: datetime) -> None:
    """The party's seats are theirs (paid, or free): published as event.registration.created, and mailed."""
    party = orders.party_of(host)
    for registration in party:
        registration.status = RegistrationStatus.PAID
        registration.paid_at = registration.paid_at or now
        registration.hold_expires_at = registration.offer_expires_at = None
        registration.waitlist_position = None
    db.session.flush()
    event = host.event
    for registration in party:
        domain_events.publish("event.registration.created", {
            "registration_id": registration.id, "event_id": event.id, "chapter_id": event.chapter_id,
            "user_id": registration.user_id, "member_id": registration.member_id,
            "guest_of_id": registration.guest_of_id, "category": registration.category.value,
            "price_cents": registration.price_cents, "currency": registration.currency})
    notices.confirmed(host, party[1:])


def retake_seat(host: Registration, now: datetime) -> None:
    """Hold a seat again for a registration whose hold or offer ran out (paying late): if one is free."""
    seats.lock_event(host.event_id)
    db.session.refresh(host)
    if host.event.status is not EventStatus.PUBLISHED or now >= host.event.starts_at:
        raise RegistrationRefused("This event is no longer taking payments (it was cancelled or has begun).")
    if orders.hold_is_valid(host, now, margin=timedelta(0)):
        if host.status is RegistrationStatus.PENDING:
            hold(host, now)  # still held: extend the window to pay
        return
    if host.status not in (RegistrationStatus.PENDING, RegistrationStatus.OFFERED, RegistrationStatus.EXPIRED):
        raise RegistrationRefused("This registration is no longer awaiting payment.")
    free = seats.seats_left(host.event, now)
    if free is not None and free < len(orders.party_of(host, include_expired=True)):
        raise RegistrationRefused("The seat held for you was released and the event is now full. "
                                  "Register again to join the waitlist.")
    hold(host, now)


def offer_freed_seats(event: Event, now: datetime | None = None) -> int:
    """Give free seats to the waitlist in order: offered for EVENT_WAITLIST_OFFER_HOURS (a free event:
    confirmed at once). Returns how many were offered."""
    now = now or utcnow()
    if event.status is not EventStatus.PUBLISHED or now >= event.starts_at:
        return 0
    seats.lock_event(event.id)
    free = seats.seats_left(event, now)
    waiting = db.session.scalars(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.status == RegistrationStatus.WAITLISTED,
        Registration.guest_of_id.is_(None)).order_by(Registration.waitlist_position, Registration.id)
        .limit(free if free is not None else None)).all()
    hours = offer_hours()
    for registration in waiting:
        if event.is_free:
            confirm(registration, now)
            continue
        registration.status = RegistrationStatus.OFFERED
        registration.offer_expires_at = now + timedelta(hours=hours)
        notices.seat_offered(registration, hours)
    db.session.flush()
    return len(waiting)


@dataclass
class ExpirySummary:
    holds: int = 0
    offers: int = 0
    offered: int = 0


def expire_holds_and_offers(now: datetime | None = None) -> ExpirySummary:
    """Release unpaid holds and offers that ran out (never one with a card payment in flight), then offer the
    freed seats to the next on each waitlist. The `event_offers` periodic task runs it."""
    now = now or utcnow()
    summary = ExpirySummary()
    ran_out = db.session.scalars(sa.select(Registration).where(sa.or_(
        sa.and_(Registration.status == RegistrationStatus.PENDING, Registration.hold_expires_at <= now),
        sa.and_(Registration.status == RegistrationStatus.OFFERED, Registration.offer_expires_at <= now)))
        .order_by(Registration.event_id, Registration.id)).all()
    events: dict[int, Event] = {}
    for registration in ran_out:
        if orders.has_payment_in_flight(registration):
            continue
        if registration.status is RegistrationStatus.PENDING:
            summary.holds += 1
        elif registration.guest_of_id is None:
            summary.offers += 1
        registration.status = RegistrationStatus.EXPIRED
        if registration.order is not None:
            orders.release_order(registration.order)
        events[registration.event_id] = registration.event
    db.session.flush()
    # Seats can also free without a cancellation (capacity raised): every event with a waitlist is looked at.
    waiting = db.session.scalars(sa.select(Event).where(Event.status == EventStatus.PUBLISHED, Event.starts_at > now,
                                                        Event.id.in_(sa.select(Registration.event_id).where(
                                                            Registration.status == RegistrationStatus.WAITLISTED))))
    for event in waiting:
        events[event.id] = event
    for event in events.values():
        summary.offered += offer_freed_seats(event, now)
    return summary


# --- Cancelling -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling gives back, shown before the registrant confirms."""

    registrations: list[Registration]
    refund_cents: int
    paid_cents: int
    percent: int
    materials_fee_cents: int


def cancellation_quote(registration: Registration, now: datetime) -> CancellationQuote:
    party = orders.party_of(registration) if registration.guest_of_id is None else [registration]
    paid = [r for r in party if r.status is RegistrationStatus.PAID]
    return CancellationQuote(party, sum(policy.refund_for(r, now) for r in paid), sum(r.price_cents for r in paid),
                             policy.refund_percent(registration.event, now),
                             registration.event.materials_fee_cents if any(r.price_cents for r in paid) else 0)


def cancel_registration(registration: Registration, *, actor: User | None, now: datetime | None = None) -> int:
    """Cancel a registration (and, for a registrant, their guests) with the policy's refund; the freed
    seats go to the waitlist. Returns the cents refunded."""
    from chapter.payments.services import refund_by_rule

    now = now or utcnow()
    seats.lock_event(registration.event_id)
    db.session.refresh(registration)
    if registration.status in (RegistrationStatus.CANCELLED, RegistrationStatus.EXPIRED):
        raise DomainError("This registration is already cancelled.")
    if orders.has_payment_in_flight(registration):
        raise DomainError("A payment for this registration is in progress. Wait a moment and reload.")
    quote = cancellation_quote(registration, now)
    for member_of_party in quote.registrations:
        paid = member_of_party.status is RegistrationStatus.PAID
        member_of_party.refund_cents = policy.refund_for(member_of_party, now) if paid else None
        member_of_party.status = RegistrationStatus.CANCELLED
        member_of_party.cancelled_at = now
        member_of_party.waitlist_position = None
    db.session.flush()
    order = registration.order
    if order is not None:
        if quote.refund_cents and order.payments:
            payment = next((p for p in order.payments if p.refundable_cents), None)
            if payment is not None:
                refund_by_rule(payment, amount_cents=quote.refund_cents, actor=actor,
                               reason=f"Cancelled registration for {registration.event.title} "
                                      f"({quote.percent}% under the cancellation policy)")
        if order.fulfilled_at is None:
            orders.release_order(order)
    notices.registration_cancelled(quote.registrations[0] if registration.guest_of_id is None else
                                   registration.guest_of or registration, quote.refund_cents)
    offer_freed_seats(registration.event, now)
    return quote.refund_cents
