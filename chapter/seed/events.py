"""The events feature's seed: the officer right to manage events (reference), demo events (demo)."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.chapters.models import OfficerPosition
from chapter.extensions import db

# Positions that manage a chapter's events on a fresh installation (the migration sets the same).
EVENT_MANAGERS = ("president", "vp_programs", "vp_education")


def with_event_rights(positions: list[OfficerPosition]) -> list[OfficerPosition]:
    """The standard positions (unsaved) with the event right of the standard managers."""
    for position in positions:
        position.can_manage_events = position.code in EVENT_MANAGERS
    return positions


def ensure_event_rights() -> None:
    """Give the standard event managers the right, once: when no position has it yet (staff may change it
    afterwards on the positions' data, and seeding again does not undo that)."""
    if db.session.scalar(sa.select(sa.exists().where(OfficerPosition.can_manage_events.is_(True)))):
        return
    for position in db.session.scalars(sa.select(OfficerPosition).where(OfficerPosition.code.in_(EVENT_MANAGERS))):
        position.can_manage_events = True
    db.session.flush()


# --- Demo ------------------------------------------------------------------------------------------

DEMO_EVENTS = [  # (title, kind, days from today, hours, capacity, member price, non-member price)
    ("Monthly PD meeting: S&OP that sticks", "meeting", 12, 1.5, 60, 2500, 4000),
    ("Plant tour: a bottling line", "plant_tour", 26, 2.0, 20, 0, 1500),
    ("Webinar: demand sensing", "webinar", 5, 1.0, None, 0, 0),
    ("Monthly PD meeting: inventory by the numbers", "meeting", -20, 1.5, 60, 2500, 4000),
    ("Plant tour: cold chain warehouse", "plant_tour", -45, 2.0, 15, 0, 1500),
]


def seed_demo_events(rng, day, chapters: int = 4) -> int:
    """Past and upcoming events in the first chapters, with registrations (the demo member is registered for
    chapter #1's next meeting); a CPIM review course in chapter #1. Returns how many events."""
    from datetime import datetime, time, timedelta
    from decimal import Decimal

    from chapter.chapters.models import Chapter
    from chapter.events.models import (
        Event, EventKind, EventPrice, EventSession, EventStatus, PriceCategory, RefundTier, Registration,
        RegistrationStatus,
    )
    from chapter.events.times import to_utc
    from chapter.members.models import Member

    made = 0
    for chapter in db.session.scalars(sa.select(Chapter).order_by(Chapter.number).limit(chapters)):
        tz = chapter.timezone or "America/New_York"
        members = db.session.scalars(sa.select(Member).where(Member.home_chapter_id == chapter.id,
                                                             Member.user_id.is_not(None)).order_by(Member.id).limit(40)).all()
        members = members or db.session.scalars(sa.select(Member).where(Member.home_chapter_id == chapter.id)
                                                 .order_by(Member.id).limit(40)).all()
        plan = list(DEMO_EVENTS)
        if made == 0:
            plan.append(("CPIM Part 1 review course", "review_course", 40, 3.0, 25, 45000, 65000))
        for title, kind, offset, hours, capacity, member_cents, visitor_cents in plan:
            sessions = 6 if kind == "review_course" else 1
            first = to_utc(datetime.combine(day + timedelta(days=offset), time(18, 0)), tz)
            event = Event(chapter_id=chapter.id, kind=EventKind(kind), title=title, timezone=tz, currency=chapter.currency,
                          description_md=f"**{title}**. Dinner at 18:00, speaker at 18:45. Bring a colleague.",
                          starts_at=first, ends_at=first + timedelta(days=7 * (sessions - 1), hours=hours),
                          venue=None if kind == "webinar" else (chapter.meeting_place or f"{chapter.city} Conference Center"),
                          online_url="https://meet.example.org/demo" if kind == "webinar" else None,
                          capacity=capacity, status=EventStatus.PUBLISHED,
                          published_at=first - timedelta(days=60), materials_fee_cents=12000 if sessions > 1 else 0)
            for n in range(sessions):
                start = first + timedelta(days=7 * n)
                event.sessions.append(EventSession(position=n + 1, title=f"Evening {n + 1}" if sessions > 1 else None,
                                                   starts_at=start, ends_at=start + timedelta(hours=hours),
                                                   instructional_hours=Decimal(str(hours))))
            for category, cents in ((PriceCategory.MEMBER, member_cents), (PriceCategory.NON_MEMBER, visitor_cents),
                                    (PriceCategory.STUDENT, member_cents // 2), (PriceCategory.GUEST, visitor_cents)):
                event.prices.append(EventPrice(category=category, amount_cents=cents))
            for days, percent in ((14, 100), (7, 50), (0, 0)):
                event.refund_tiers.append(RefundTier(days_before=days, percent=percent))
            db.session.add(event)
            db.session.flush()
            take = min(len(members), (capacity or 30) * 2 // 3)
            for member in rng.sample(members, take) if take else []:
                db.session.add(Registration(
                    event_id=event.id, user_id=member.user_id, member_id=member.id, name=member.full_name,
                    email=member.email, category=PriceCategory.MEMBER, price_cents=member_cents, currency=event.currency,
                    status=RegistrationStatus.PAID, paid_at=first - timedelta(days=rng.randrange(3, 30))))
            made += 1
    _register_demo_member(day)
    db.session.flush()
    return made


def _register_demo_member(day) -> None:
    """The demo member holds a seat at the next meeting of chapter #1 (My events shows it)."""
    from chapter.events.models import Event, EventKind, PriceCategory, Registration, RegistrationStatus
    from chapter.core.models import utcnow
    from chapter.members.models import Member
    from chapter.seed.members import DEMO_DOMAIN

    member = db.session.scalar(sa.select(Member).where(Member.email == f"member@{DEMO_DOMAIN}"))
    if member is None or member.home_chapter_id is None:
        return
    event = db.session.scalar(sa.select(Event).where(Event.chapter_id == member.home_chapter_id,
                                                     Event.kind == EventKind.MEETING, Event.starts_at > utcnow())
                              .order_by(Event.starts_at))
    if event is None or db.session.scalar(sa.select(Registration.id).where(
            Registration.event_id == event.id, Registration.member_id == member.id)) is not None:
        return
    db.session.add(Registration(event_id=event.id, user_id=member.user_id, member_id=member.id, name=member.full_name,
                                email=member.email, category=PriceCategory.MEMBER, price_cents=event.price_for(
                                    PriceCategory.MEMBER) or 0, currency=event.currency,
                                status=RegistrationStatus.PAID, paid_at=utcnow()))
