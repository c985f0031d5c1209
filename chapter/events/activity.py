"""Activity "pd_event" for chapter health and standards: the chapter's professional-development events held
in [start, end) (not drafts, not cancelled), count = attendance: those checked in if anyone was, else the paid
registrations."""
from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from flask import current_app

from chapter.core import activity
from chapter.events.models import Event, EventStatus, Registration, RegistrationStatus
from chapter.extensions import db


def events_held(chapter_id: int, start: date, end: date) -> list[activity.Item]:
    checked_in = sa.func.count(Registration.id).filter(Registration.checked_in_at.is_not(None))
    paid = sa.func.count(Registration.id).filter(Registration.status == RegistrationStatus.PAID)
    rows = db.session.execute(
        sa.select(Event.id, Event.title, Event.starts_at, checked_in, paid)
        .outerjoin(Registration, Registration.event_id == Event.id)
        .where(Event.chapter_id == chapter_id, Event.professional_development.is_(True),
               Event.status.in_([EventStatus.PUBLISHED, EventStatus.COMPLETED]),
               Event.starts_at >= datetime.combine(start, time.min), Event.starts_at < datetime.combine(end, time.min))
        .group_by(Event.id, Event.title, Event.starts_at).order_by(Event.starts_at)).all()
    return [activity.Item(day=starts.date(), title=title, url=_url(event_id), count=int(attended or paid_count))
            for event_id, title, starts, attended, paid_count in rows]


def _url(event_id: int) -> str:
    """The event page's path, in a request or not (a report built by a job)."""
    return current_app.url_map.bind("localhost").build("events.event_page", {"event_id": event_id})


activity.register("pd_event", "Professional-development events held", events_held)
