"""Demo data of events part B: attendance of the past demo events, made final, so their points are credited.

Runs after the events' own demo seed (ev-core's `chapter/seed/events.py`): for each event that has ended,
about four in five of its confirmed registrants are checked in by one of the chapter's event managers, and
attendance is made final through the same service officers use, so attendees' transcripts show the points.
"""
from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.chapters.models import OfficerPosition, OfficerTerm
from chapter.core.models import utcnow
from chapter.events import attendance
from chapter.events.models import Event, EventStatus, Registration, RegistrationStatus
from chapter.extensions import db

SHOW_UP_RATE = 0.8
DOORS_OPEN = timedelta(minutes=15)  # check-ins a quarter of an hour before the start; final as good after the end


def _door_officer(event: Event) -> User | None:
    """Who checks people in: one of the chapter's event managers, else whoever created the event."""
    holder = db.session.scalar(sa.select(User).join(OfficerTerm, OfficerTerm.user_id == User.id)
                               .join(OfficerPosition, OfficerTerm.position_id == OfficerPosition.id)
                               .where(OfficerTerm.chapter_id == event.chapter_id, OfficerPosition.can_manage_events)
                               .order_by(OfficerTerm.id).limit(1))
    return holder or event.created_by


def seed_demo_attendance(rng: random.Random) -> dict[str, int]:
    """Check in and credit the attendees of every published demo event that has ended; returns the counts."""
    now = utcnow()
    counts = {"events": 0, "checked_in": 0, "credited": 0}
    always_there = _demo_member_attended(now)
    past = db.session.scalars(sa.select(Event).where(Event.status == EventStatus.PUBLISHED, Event.ends_at < now)
                              .order_by(Event.starts_at)).all()
    for event in past:
        officer = _door_officer(event)
        if officer is None:
            continue
        registrants = db.session.scalars(sa.select(Registration).where(
            Registration.event_id == event.id, Registration.status == RegistrationStatus.PAID)
            .order_by(Registration.id)).all()
        for registration in registrants:
            if registration.id == always_there or rng.random() < SHOW_UP_RATE:
                counts["checked_in"] += attendance.check_in(registration, actor=officer,
                                                            now=event.starts_at - DOORS_OPEN)
        outcome = attendance.make_attendance_final(event, actor=officer, now=event.ends_at + DOORS_OPEN)
        counts["events"] += 1
        counts["credited"] += outcome.credited
    db.session.flush()
    return counts


def _demo_member_attended(now) -> int | None:
    """The demo member attended their chapter's last meeting (their transcript shows its points): their registration."""
    from chapter.events.models import EventKind, PriceCategory
    from chapter.members.models import Member
    from chapter.seed.members import DEMO_DOMAIN

    member = db.session.scalar(sa.select(Member).where(Member.email == f"member@{DEMO_DOMAIN}"))
    if member is None or member.home_chapter_id is None:
        return None
    event = db.session.scalar(sa.select(Event).where(
        Event.chapter_id == member.home_chapter_id, Event.kind == EventKind.MEETING, Event.ends_at < now,
        Event.status == EventStatus.PUBLISHED).order_by(Event.starts_at.desc()).limit(1))
    if event is None:
        return None
    registration = db.session.scalar(sa.select(Registration).where(Registration.event_id == event.id,
                                                                   Registration.member_id == member.id))
    if registration is None:
        registration = Registration(event_id=event.id, user_id=member.user_id, member_id=member.id,
                                    name=member.full_name, email=member.email, category=PriceCategory.MEMBER,
                                    price_cents=event.price_for(PriceCategory.MEMBER) or 0, currency=event.currency,
                                    status=RegistrationStatus.PAID, paid_at=event.starts_at - timedelta(days=10))
        db.session.add(registration)
        db.session.flush()
    return registration.id if registration.status is RegistrationStatus.PAID else None
