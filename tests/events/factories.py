"""Factories for events tests: an event with a session, prices and the standard refund tiers; a registration."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from chapter.auth.models import User
from chapter.chapters.models import Chapter
from chapter.core.models import utcnow
from chapter.events.models import (
    Event, EventKind, EventPrice, EventSession, EventStatus, PriceCategory, RefundTier, Registration,
    RegistrationStatus,
)
from chapter.extensions import db
from chapter.members.models import Member

STANDARD_TIERS = ((14, 100), (7, 50), (0, 0))
STANDARD_PRICES = {PriceCategory.MEMBER: 2500, PriceCategory.NON_MEMBER: 4000, PriceCategory.STUDENT: 1000,
                   PriceCategory.CORPORATE: 2000, PriceCategory.GUEST: 3000}


def event(of: Chapter, *, title: str = "Monthly PD meeting", kind: EventKind = EventKind.MEETING,
          starts_at: datetime | None = None, hours: float = 1.5, capacity: int | None = 50,
          prices: dict[PriceCategory, int] | None = None, tiers=STANDARD_TIERS,
          status: EventStatus = EventStatus.PUBLISHED, sessions: int = 1, created_by: User | None = None,
          **fields) -> Event:
    """A published event 30 days from now (one session of `hours` per session), standard prices and tiers."""
    starts = starts_at or (utcnow() + timedelta(days=30)).replace(hour=23, minute=0, second=0, microsecond=0)
    length = timedelta(hours=max(hours, 1))
    made = Event(chapter_id=of.id, title=title, kind=kind, starts_at=starts,
                 ends_at=starts + length + timedelta(days=7 * (sessions - 1)),
                 timezone=fields.pop("timezone", None) or of.timezone or "America/New_York", currency=of.currency,
                 capacity=capacity,
                 venue="Hilton Garden Inn, Ballroom B", status=status, created_by=created_by,
                 published_at=utcnow() if status != EventStatus.DRAFT else None, **fields)
    for n in range(sessions):
        day = starts + timedelta(days=7 * n)
        made.sessions.append(EventSession(position=n + 1, title=f"Session {n + 1}" if sessions > 1 else None,
                                          starts_at=day, ends_at=day + length,
                                          instructional_hours=Decimal(str(hours))))
    for category, cents in (STANDARD_PRICES if prices is None else prices).items():
        made.prices.append(EventPrice(category=category, amount_cents=cents))
    for days, percent in tiers:
        made.refund_tiers.append(RefundTier(days_before=days, percent=percent))
    db.session.add(made)
    db.session.flush()
    return made


def registration(for_event: Event, *, user: User | None = None, member: Member | None = None,
                 status: RegistrationStatus = RegistrationStatus.PAID,
                 category: PriceCategory = PriceCategory.MEMBER, name: str | None = None, **fields) -> Registration:
    """A registration as written by the services (no order: use the services for paid-by-card ones)."""
    made = Registration(event_id=for_event.id, user=user, member=member, category=category,
                        name=name or (user.name if user else member.full_name if member else "Guest Person"),
                        email=user.email if user else member.email if member else None,
                        price_cents=for_event.price_for(category) or 0, currency=for_event.currency, status=status,
                        paid_at=utcnow() if status == RegistrationStatus.PAID else None, **fields)
    db.session.add(made)
    db.session.flush()
    return made
