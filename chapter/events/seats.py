"""Seats: the event row lock that serialises taking seats, and counting the seats taken.

Seats taken = paid registrations + pending ones inside their payment window (or with a card payment in
flight) + offered ones inside their offer. On PostgreSQL the event row is locked (SELECT ... FOR UPDATE)
before counting, so two registrations for the last seat are decided one after the other; SQLite has one
writer at a time, and a no-op UPDATE of the event row takes its write lock just the same.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from chapter.events.models import Event, Registration, RegistrationStatus
from chapter.extensions import db
from chapter.payments.models import IN_FLIGHT, Payment


def lock_event(event_id: int) -> None:
    """Hold the event's row until the transaction ends: every change of its seats goes through here."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Event.id).where(Event.id == event_id).with_for_update())
    else:
        db.session.execute(sa.update(Event).where(Event.id == event_id).values(id=Event.id)
                           .execution_options(synchronize_session=False))


def holds_seat(now: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition of a registration that takes a seat at `now`."""
    paying = sa.exists().where(Payment.order_id == Registration.order_id, Payment.status.in_(IN_FLIGHT))
    return sa.or_(
        Registration.status == RegistrationStatus.PAID,
        sa.and_(Registration.status == RegistrationStatus.PENDING,
                sa.or_(Registration.hold_expires_at > now, paying)),
        sa.and_(Registration.status == RegistrationStatus.OFFERED,
                sa.or_(Registration.offer_expires_at > now, paying)),
    )


def seats_taken(event_id: int, now: datetime) -> int:
    return db.session.scalar(sa.select(sa.func.count(Registration.id)).where(
        Registration.event_id == event_id, holds_seat(now))) or 0


def seats_left(event: Event, now: datetime) -> int | None:
    """Seats still free at `now` (None: no limit)."""
    if event.capacity is None:
        return None
    return max(0, event.capacity - seats_taken(event.id, now))


def seats_taken_by_event(event_ids: list[int], now: datetime) -> dict[int, int]:
    """Seats taken per event, in one query (lists and calendars)."""
    if not event_ids:
        return {}
    rows = db.session.execute(sa.select(Registration.event_id, sa.func.count(Registration.id)).where(
        Registration.event_id.in_(event_ids), holds_seat(now)).group_by(Registration.event_id))
    return {event_id: count for event_id, count in rows}


def next_waitlist_position(event_id: int) -> int:
    return (db.session.scalar(sa.select(sa.func.max(Registration.waitlist_position)).where(
        Registration.event_id == event_id)) or 0) + 1
