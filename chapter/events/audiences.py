"""Audience "event_registrants" for messages (communications): an event's registrants with an address —
those confirmed (paid or free), and with params {"event_id": N, "include": "waitlist"} the waitlist too."""
from __future__ import annotations

import sqlalchemy as sa

from chapter.core import audiences
from chapter.events.models import Event, Registration, RegistrationStatus
from chapter.events.times import format_local
from chapter.extensions import db
from chapter.core.params import db_int


def _event(chapter_id: int, params: dict) -> Event | None:
    event_id = db_int(str(params.get("event_id", "")))
    event = db.session.get(Event, event_id) if event_id else None
    return event if event is not None and event.chapter_id == chapter_id else None


def resolve(chapter_id: int, params: dict) -> list[audiences.Recipient]:
    """The registrants of an event of that chapter (another chapter's event: nobody)."""
    event = _event(chapter_id, params)
    if event is None:
        return []
    statuses = [RegistrationStatus.PAID]
    if params.get("include") == "waitlist":
        statuses += [RegistrationStatus.WAITLISTED, RegistrationStatus.OFFERED]
    rows = db.session.execute(sa.select(Registration.email, Registration.name, Registration.user_id,
                                        Registration.member_id).where(
        Registration.event_id == event.id, Registration.status.in_(statuses), Registration.email.is_not(None))
        .order_by(Registration.id)).all()
    seen: set[str] = set()
    found = []
    for email, name, user_id, member_id in rows:
        if email.lower() not in seen:
            seen.add(email.lower())
            found.append(audiences.Recipient(email=email, name=name, user_id=user_id, member_id=member_id))
    return found


def describe(params: dict) -> str:
    event_id = db_int(str(params.get("event_id", "")))
    event = db.session.get(Event, event_id) if event_id else None
    if event is None:
        return "Registrants of an event"
    return f"Registrants of {event.title}, {format_local(event.starts_at, event.timezone, with_zone=False)[:15]}"


audiences.register("event_registrants", "Registrants of an event", resolve, describe)
