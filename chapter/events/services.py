"""Officers' side of events: create, edit (registrants told of a change of date or place), publish, cancel
(every registrant refunded in full and told, by a job), and the lists (officer's, calendar, chapter page)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import Chapter
from chapter.core import audit
from chapter.core.errors import DomainError, InvalidState, NotAllowed
from chapter.core.models import utcnow
from chapter.core.permissions import Roles
from chapter.events import notices, seats
from chapter.events.models import (
    Event, EventKind, EventPrice, EventSession, EventStatus, PriceCategory, RefundTier, Registration,
    RegistrationStatus,
)
from chapter.events.times import check_timezone, format_local
from chapter.extensions import db

LIVE = (RegistrationStatus.PENDING, RegistrationStatus.PAID, RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED)


@dataclass
class SessionInput:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    instructional_hours: Decimal
    title: str | None = None


@dataclass
class EventInput:
    """What the officer typed, times already in UTC (the form converts from the event's zone)."""

    title: str
    kind: EventKind
    description_md: str
    timezone: str
    sessions: list[SessionInput]
    venue: str | None = None
    online_url: str | None = None
    capacity: int | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None
    prices: dict[PriceCategory, int] = field(default_factory=dict)
    refund_tiers: list[tuple[int, int]] = field(default_factory=list)
    materials_fee_cents: int = 0
    chapter_share_percent: int = 100
    professional_development: bool = True


def check_can_manage(event_or_chapter: Event | Chapter, roles: Roles) -> None:
    chapter = event_or_chapter.chapter if isinstance(event_or_chapter, Event) else event_or_chapter
    if not roles.can_manage_events(chapter):
        raise NotAllowed("You may not manage this chapter's events.")


def _check(data: EventInput) -> None:
    check_timezone(data.timezone)
    if not data.sessions:
        raise DomainError("Give the event at least one session (its start and end).", field="sessions")
    for index, session in enumerate(data.sessions):
        if session.ends_at <= session.starts_at:
            raise DomainError(f"Session {index + 1} ends before it starts.", field="sessions")
    if not (data.venue or data.online_url):
        raise DomainError("Give a venue or an online link.", field="venue")
    if data.capacity is not None and data.capacity < 1:
        raise DomainError("Capacity is at least 1 (leave it empty for no limit).", field="capacity")
    if not data.prices:
        raise DomainError("Offer at least one price (0.00 for a free event).", field="price_member")
    if data.materials_fee_cents and any(cents < data.materials_fee_cents for cents in data.prices.values()):
        raise DomainError("The materials fee is part of each price: no price can be below it.",
                          field="materials_fee_cents")
    first = min(s.starts_at for s in data.sessions)
    if data.registration_closes_at and data.registration_closes_at > first:
        raise DomainError("Registration closes at the latest when the event starts.", field="registration_closes_at")
    if data.registration_opens_at and data.registration_closes_at and \
            data.registration_opens_at >= data.registration_closes_at:
        raise DomainError("Registration must open before it closes.", field="registration_opens_at")
    days = [d for d, _ in data.refund_tiers]
    if len(set(days)) != len(days):
        raise DomainError("Each refund tier needs its own number of days.", field="refund_tiers")


def _apply(event: Event, data: EventInput) -> None:
    event.title, event.kind, event.description_md = data.title.strip(), data.kind, data.description_md or ""
    event.timezone, event.venue, event.online_url = data.timezone, data.venue or None, data.online_url or None
    event.capacity = data.capacity
    event.registration_opens_at, event.registration_closes_at = data.registration_opens_at, data.registration_closes_at
    event.materials_fee_cents, event.chapter_share_percent = data.materials_fee_cents, data.chapter_share_percent
    event.professional_development = data.professional_development
    sessions = sorted(data.sessions, key=lambda s: s.starts_at)
    event.starts_at, event.ends_at = sessions[0].starts_at, max(s.ends_at for s in sessions)
    event.sessions.clear()
    event.prices.clear()
    event.refund_tiers.clear()
    db.session.flush()  # the old rows go before the new ones take their unique keys
    for position, session in enumerate(sessions, start=1):
        event.sessions.append(EventSession(position=position, title=session.title or None, starts_at=session.starts_at,
                                           ends_at=session.ends_at, instructional_hours=session.instructional_hours))
    for category, cents in data.prices.items():
        event.prices.append(EventPrice(category=category, amount_cents=cents))
    for days, percent in data.refund_tiers:
        event.refund_tiers.append(RefundTier(days_before=days, percent=percent))


def create_event(chapter: Chapter, data: EventInput, *, actor: User, roles: Roles) -> Event:
    """A draft event of the chapter (published separately)."""
    check_can_manage(chapter, roles)
    _check(data)
    event = Event(chapter_id=chapter.id, currency=chapter.currency, created_by_id=actor.id, status=EventStatus.DRAFT,
                  title=data.title, starts_at=data.sessions[0].starts_at, ends_at=data.sessions[0].ends_at)
    event.chapter = chapter
    db.session.add(event)
    _apply(event, data)
    db.session.flush()
    audit.record("event.created", actor=actor, chapter_id=chapter.id, summary=f"Event {event.title!r} created")
    return event


def update_event(event: Event, data: EventInput, *, actor: User, roles: Roles) -> list[str]:
    """Save the officer's changes; registrants are told of a change of date, time or place. The changes."""
    check_can_manage(event, roles)
    if event.status is EventStatus.CANCELLED:
        raise InvalidState("A cancelled event cannot be changed.")
    _check(data)
    before = (event.starts_at, event.ends_at, event.venue, event.online_url, event.timezone)
    _apply(event, data)
    changes = []
    if (event.starts_at, event.ends_at) != before[:2]:
        changes.append(f"The date or time is now {format_local(event.starts_at, event.timezone)} to "
                       f"{format_local(event.ends_at, event.timezone)} (was {format_local(before[0], before[4])}).")
    if event.venue != before[2]:
        changes.append(f"The venue is now {event.venue or 'none (online only)'} (was {before[2] or 'none'}).")
    if event.online_url != before[3]:
        changes.append("The online link changed." if event.online_url else "The event is no longer online.")
    db.session.flush()
    if changes and event.status is EventStatus.PUBLISHED:
        for registration in _registrants(event):
            notices.event_changed(registration, changes)
    audit.record("event.updated", actor=actor, chapter_id=event.chapter_id,
                 summary=f"Event {event.title!r} changed" + (f": {'; '.join(changes)}" if changes else ""))
    return changes


def current_input(event: Event) -> EventInput:
    """The event's details as an EventInput: a partial change starts from it and replaces what it names."""
    return EventInput(
        title=event.title, kind=event.kind, description_md=event.description_md or "", timezone=event.timezone,
        sessions=[SessionInput(starts_at=s.starts_at, ends_at=s.ends_at, instructional_hours=s.instructional_hours,
                               title=s.title) for s in event.sessions],
        venue=event.venue, online_url=event.online_url, capacity=event.capacity,
        registration_opens_at=event.registration_opens_at, registration_closes_at=event.registration_closes_at,
        prices={p.category: p.amount_cents for p in event.prices},
        refund_tiers=[(t.days_before, t.percent) for t in event.refund_tiers],
        materials_fee_cents=event.materials_fee_cents, chapter_share_percent=event.chapter_share_percent,
        professional_development=event.professional_development,
    )


def _registrants(event: Event) -> list[Registration]:
    """Those to tell: live registrants with an address (guests are told through their host)."""
    return list(db.session.scalars(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.status.in_(LIVE), Registration.guest_of_id.is_(None),
        Registration.email.is_not(None)).order_by(Registration.id)))


def publish_event(event: Event, *, actor: User, roles: Roles, now: datetime | None = None) -> Event:
    """Publish a draft: members can register from now on."""
    check_can_manage(event, roles)
    if event.status is not EventStatus.DRAFT:
        raise InvalidState(f"Only a draft is published: this event is {event.status.label.lower()}.")
    now = now or utcnow()
    if event.starts_at <= now:
        raise DomainError("This event has already started: change its date first.")
    event.status = EventStatus.PUBLISHED
    event.published_at = now
    db.session.flush()
    audit.record("event.published", actor=actor, chapter_id=event.chapter_id, summary=f"Event {event.title!r} published")
    return event


def cancel_event(event: Event, *, actor: User, roles: Roles, now: datetime | None = None) -> Event:
    """Cancel the event; the job `settle_cancelled_event` refunds every registrant in full and tells them."""
    from chapter.events import tasks
    from chapter.jobs.queue import enqueue_after_commit

    check_can_manage(event, roles)
    if event.status in (EventStatus.CANCELLED, EventStatus.COMPLETED):
        raise InvalidState(f"This event is already {event.status.label.lower()}.")
    seats.lock_event(event.id)
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now or utcnow()
    db.session.flush()
    audit.record("event.cancelled", actor=actor, chapter_id=event.chapter_id, summary=f"Event {event.title!r} cancelled")
    enqueue_after_commit(tasks.settle_cancelled_event, event.id)
    return event


def settle_cancelled_event(event_id: int, *, limit: int = 50) -> int:
    """Refund in full and tell the next `limit` live registrants of a cancelled event (each registrant's
    party is one unit); the caller commits after each call. Returns how many were settled (0: done, or only
    registrations with a card payment in flight are left: a later run settles them)."""
    from chapter.events import orders
    from chapter.payments.services import refund_by_rule

    event = db.session.get(Event, event_id)
    if event is None or event.status is not EventStatus.CANCELLED:
        return 0
    from chapter.payments.models import IN_FLIGHT, Payment

    paying = sa.exists().where(Payment.order_id == Registration.order_id, Payment.status.in_(IN_FLIGHT))
    hosts = db.session.scalars(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.status.in_(LIVE), Registration.guest_of_id.is_(None),
        ~paying).order_by(Registration.id).limit(limit)).all()  # a payment in flight settles first
    now = utcnow()
    settled = 0
    for host in hosts:
        party = orders.party_of(host)
        paid = sum(r.price_cents for r in party if r.status is RegistrationStatus.PAID)
        refunded = 0
        order = host.order
        for registration in party:  # cancelled first: the refund's own effect then finds nothing left to do
            registration.refund_cents = registration.price_cents if registration.status is RegistrationStatus.PAID else None
            registration.status = RegistrationStatus.CANCELLED
            registration.cancelled_at = now
        db.session.flush()
        if order is not None and paid:
            payment = next((p for p in order.payments if p.refundable_cents), None)
            if payment is not None:
                refund = refund_by_rule(payment, amount_cents=payment.refundable_cents, actor=None,
                                        reason=f"{event.title} was cancelled by the chapter")
                refunded = refund.amount_cents if refund else 0
        if order is not None and order.fulfilled_at is None:
            orders.release_order(order)
        notices.event_cancelled(host, refunded)
        db.session.flush()
        settled += 1
    return settled
