"""Reminders a week and a day before, each sent once, with the venue or link and the ticket; the real SMTP server."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.events.door_models import EventReminder
from chapter.events.models import PriceCategory, RegistrationStatus
from chapter.extensions import db
from chapter.jobs import tasks
from tests import factories
from tests.conftest import run_jobs, text_of
from tests.events import factories as events

START = datetime(2027, 3, 20, 23, 0)  # 19:00 in New York (summer time since 14 March)


def _visitor(meeting, name: str, email: str, **fields):
    registration = events.registration(meeting, name=name, category=PriceCategory.NON_MEMBER, **fields)
    registration.email = email
    db.session.flush()
    return registration


def _reminders_at(clock, moment: datetime) -> None:
    clock(moment.isoformat())
    tasks.event_reminders.call_local()  # what a worker runs when the scheduler enqueues it (hourly)
    run_jobs()


def test_each_registrant_gets_a_week_and_a_day_reminder_once(app, clock, smtp_server):
    clock("2027-03-01T12:00:00")
    chapter = factories.chapter(40, name="Schuylkill Valley", timezone="America/New_York")
    meeting = events.event(chapter, title="March PDM", starts_at=START, online_url="https://meet.example.org/march")
    early = events.registration(meeting, member=factories.member(home=chapter, email="early@example.org"))
    _visitor(meeting, "Wait Listed", "waiting@example.org", status=RegistrationStatus.WAITLISTED)
    db.session.commit()

    _reminders_at(clock, START - timedelta(days=8))  # too early: nothing
    assert len(smtp_server) == 0
    late = _visitor(meeting, "Late Comer", "late@example.org")  # registers 8 days before
    late.created_at = START - timedelta(days=6, hours=12)
    db.session.commit()

    _reminders_at(clock, START - timedelta(days=6, hours=20))
    _reminders_at(clock, START - timedelta(days=6, hours=19))  # the next hour's run sends nothing again
    assert [(m["To"], m["Subject"]) for m in smtp_server] == [("early@example.org", "Reminder: March PDM, Sat 20 Mar at 19:00")]
    body = text_of(smtp_server[0])
    assert "Join online: https://meet.example.org/march" in body and "Hilton Garden Inn, Ballroom B" in body
    assert f"/tickets/{early.id}" in body and "a week from now" in body

    _reminders_at(clock, START - timedelta(hours=20))
    _reminders_at(clock, START - timedelta(hours=19))
    assert sorted(m["To"] for m in smtp_server[1:]) == ["early@example.org", "late@example.org"]
    assert all("See you tomorrow" in text_of(m) for m in smtp_server[1:])
    assert len(smtp_server) == 3
    kinds = db.session.execute(sa.select(EventReminder.registration_id, EventReminder.kind)).all()
    assert sorted((r, k.value) for r, k in kinds) == sorted([(early.id, "week"), (early.id, "day"), (late.id, "day")])
