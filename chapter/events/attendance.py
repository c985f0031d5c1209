"""Attendance: check-in at the door, attendance made final, maintenance points credited once per attendee.

Exactly once, whoever does it twice: a check-in is a conditional UPDATE (`checked_in_at IS NULL`), making
attendance final is one (`attendance_final_at IS NULL`), and each attendee's points are claimed by one
(`points_credited_at IS NULL`) before the point entry is written in the same transaction. A check-in after
attendance was made final (a correction) credits that attendee at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from chapter.certifications import points as point_services
from chapter.certifications.models import PointCategory
from chapter.core import audit
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.events.models import Event, EventStatus, Registration, RegistrationStatus
from chapter.extensions import db

if TYPE_CHECKING:
    from chapter.auth.models import User


class CheckInRefused(DomainError):
    """This registration cannot be checked in (not paid, cancelled, another event)."""


def local_time(event: Event, moment: datetime | None) -> datetime | None:
    """A stored (naive UTC) moment in the event's own time zone."""
    if moment is None:
        return None
    try:
        zone = ZoneInfo(event.timezone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def local_start(event: Event) -> datetime:
    """The event's start in its own time zone (the day its points are earned on)."""
    return local_time(event, event.starts_at)


def check_in(registration: Registration, *, actor: User, now: datetime | None = None) -> bool:
    """Check a paid registrant in; True when this call did it, False when they already were (harmless)."""
    event = registration.event
    if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
        raise CheckInRefused(f"{event.title} is {event.status.label.lower()}: nobody can be checked in.")
    if registration.checked_in_at is not None:
        return False
    if registration.status is not RegistrationStatus.PAID:
        raise CheckInRefused(f"{registration.name}'s registration is {registration.status.label.lower()}, "
                             "not confirmed: register them as a walk-in or ask them to pay first.")
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(Registration)
        .where(Registration.id == registration.id, Registration.checked_in_at.is_(None),
               Registration.status == RegistrationStatus.PAID)
        .values(checked_in_at=now, checked_in_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(registration, ["checked_in_at", "checked_in_by_id"])
    if not claimed:
        return False
    if event.attendance_final_at is not None:
        credit_points(registration, now=now)
    return True


def undo_check_in(registration: Registration, *, actor: User) -> None:
    """Take back a check-in tapped by mistake, while attendance is not final."""
    if registration.event.attendance_final_at is not None:
        raise CheckInRefused("Attendance is final: points were credited, the check-in stays.")
    registration.checked_in_at = None
    registration.checked_in_by_id = None
    audit.record("event.check_in_undone", actor=actor, chapter_id=registration.event.chapter_id,
                 member_id=registration.member_id, summary=f"Check-in of {registration.name} undone "
                 f"({registration.event.title})")
    db.session.flush()


@dataclass(frozen=True)
class FinalAttendance:
    """What making attendance final did."""

    attendees: int
    credited: int
    already_final: bool


def make_attendance_final(event: Event, *, actor: User, now: datetime | None = None) -> FinalAttendance:
    """Close attendance after the event starts and credit every attendee's points (a second call credits none)."""
    now = now or utcnow()
    if event.status not in (EventStatus.PUBLISHED, EventStatus.COMPLETED):
        raise DomainError(f"{event.title} is {event.status.label.lower()}: attendance cannot be made final.")
    if now < event.starts_at:
        raise DomainError("Attendance can be made final once the event has started.")
    closed = db.session.execute(
        sa.update(Event).where(Event.id == event.id, Event.attendance_final_at.is_(None))
        .values(attendance_final_at=now, status=EventStatus.COMPLETED)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(event, ["attendance_final_at", "status"])
    attendees = list(db.session.scalars(sa.select(Registration).where(
        Registration.event_id == event.id, Registration.checked_in_at.is_not(None),
        Registration.points_credited_at.is_(None))))
    credited = sum(1 for registration in attendees if credit_points(registration, now=now))
    if closed:
        audit.record("event.attendance_final", actor=actor, chapter_id=event.chapter_id,
                     summary=f"Attendance of {event.title} made final: {credited} attendee(s) credited")
    db.session.flush()
    return FinalAttendance(attendees=attended_count(event), credited=credited, already_final=not closed)


def attended_count(event: Event) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.event_id == event.id, Registration.checked_in_at.is_not(None))) or 0


def points_category(event: Event) -> PointCategory | None:
    return event.points_category or point_services.default_attendance_category()


def points_units(event: Event, category: PointCategory) -> int:
    """Units of the category the event is worth: its instructional hours (rounded half up), or 1 per event."""
    if category.unit != "hour":
        return 1 if event.instructional_hours > 0 else 0
    return int(Decimal(event.instructional_hours).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def points_worth(event: Event) -> int:
    """The maintenance points an attendee of `event` earns."""
    category = points_category(event)
    return 0 if category is None else points_units(event, category) * category.points_per_unit


def credit_points(registration: Registration, *, now: datetime) -> bool:
    """Credit one attendee (a member) with the event's points, approved; False when already credited or none due."""
    event = registration.event
    member_id = registration.member_id or _member_of_user(registration.user_id)
    category = points_category(event)
    if member_id is None or category is None or points_units(event, category) <= 0:
        return False
    claimed = db.session.execute(
        sa.update(Registration).where(Registration.id == registration.id, Registration.points_credited_at.is_(None),
                                      Registration.checked_in_at.is_not(None))
        .values(points_credited_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(registration, ["points_credited_at"])
    if not claimed:
        return False
    from chapter.events.tickets import certificate_url

    point_services.record_earned_points(
        member_id, category, points_units(event, category), local_start(event).date(),
        f"Attended {event.title} ({event.chapter.name})", chapter_id=event.chapter_id,
        evidence_url=certificate_url(registration))
    return True


def _member_of_user(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    from chapter.members.models import Member

    return db.session.scalar(sa.select(Member.id).where(Member.user_id == user_id))
