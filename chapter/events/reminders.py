"""Reminders before an event: a mail a week before and a day before to each confirmed registrant, each once.

The periodic task `event_reminders` (hourly, chapter/jobs/tasks.py) calls `send_due_reminders(now)`. A
reminder is due when the event starts within its lead time (7 days, 1 day) and not within the next one's;
the week reminder is skipped for whoever registered less than a week before (their confirmation is fresh).
An `EventReminder` row per (registration, kind), unique, is written with the mail in one transaction:
a second run, or a second worker, sends nothing again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from chapter.core.mail import send_mail
from chapter.events.door_models import EventReminder, ReminderKind
from chapter.events.models import Event, EventStatus, Registration, RegistrationStatus
from chapter.extensions import db

LEAD_TIMES = {ReminderKind.WEEK: timedelta(days=7), ReminderKind.DAY: timedelta(days=1)}
BATCH = 500


@dataclass
class ReminderRun:
    sent: dict[str, int] = field(default_factory=lambda: {kind.value: 0 for kind in ReminderKind})

    @property
    def total(self) -> int:
        return sum(self.sent.values())


def due_statement(kind: ReminderKind, now: datetime) -> sa.Select:
    """Confirmed registrations of published events whose `kind` reminder is due at `now` and not yet sent."""
    lead = LEAD_TIMES[kind]
    window_start = now + LEAD_TIMES[ReminderKind.DAY] if kind is ReminderKind.WEEK else now
    sent = sa.select(EventReminder.id).where(EventReminder.registration_id == Registration.id,
                                             EventReminder.kind == kind).exists()
    statement = (sa.select(Registration).join(Event, Registration.event_id == Event.id).where(
        Event.status == EventStatus.PUBLISHED, Event.starts_at > window_start, Event.starts_at <= now + lead,
        Registration.status == RegistrationStatus.PAID, Registration.email.is_not(None), ~sent)
        .options(joinedload(Registration.event).joinedload(Event.chapter))
        .order_by(Registration.id).limit(BATCH))
    if kind is ReminderKind.WEEK:
        # Registered within the last week before the start: the confirmation said it all.
        statement = statement.where(Registration.created_at <= Event.starts_at - lead) \
            if db.engine.dialect.name == "postgresql" else statement.where(
                sa.func.julianday(Event.starts_at) - sa.func.julianday(Registration.created_at) >= lead.days)
    return statement


def send_due_reminders(now: datetime) -> ReminderRun:
    """Mail every reminder due at `now` (flush only: the periodic task commits)."""
    from chapter.events.attendance import local_start
    from chapter.events.tickets import ticket_url

    run = ReminderRun()
    for kind in (ReminderKind.DAY, ReminderKind.WEEK):
        for registration in db.session.scalars(due_statement(kind, now)).unique().all():
            event = registration.event
            db.session.add(EventReminder(registration_id=registration.id, kind=kind, sent_at=now))
            send_mail(registration.email, f"Reminder: {event.title}, {local_start(event):%a %d %b at %H:%M}",
                      "event_reminder", registration=registration, event=event, kind=kind,
                      starts=local_start(event), ticket_link=ticket_url(registration))
            run.sent[kind.value] += 1
        db.session.flush()
    return run
