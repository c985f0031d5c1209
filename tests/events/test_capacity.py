"""Capacity under concurrency: many people registering for few seats at once never get a seat twice; the rest
wait in order. PostgreSQL locks the event row (SELECT ... FOR UPDATE); SQLite has one writer at a time."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from chapter.auth.models import User
from chapter.events import registration as registrations
from chapter.events.models import Event, Registration, RegistrationStatus
from chapter.extensions import db
from tests import factories
from tests.events import factories as events

PEOPLE, SEATS = 16, 5


def _register_all_at_once(app, event_id: int, user_ids: list[int]) -> list[str]:
    start = threading.Barrier(len(user_ids))
    outcomes: list[str] = []

    def press(user_id: int):
        with app.app_context():
            try:
                start.wait(timeout=30)  # before any connection is taken: the pool holds fewer than PEOPLE
                user = db.session.get(User, user_id)
                event = db.session.get(Event, event_id)
                # One press each, no retry: on SQLite the writers queue for the write lock (busy_timeout).
                made = registrations.register(event, user=user)
                db.session.commit()
                outcomes.append(made.status.value)
            except Exception as error:  # shown by the test's assertion on the outcomes
                db.session.rollback()
                outcomes.append(f"{type(error).__name__}: {error}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_sixteen_people_for_five_seats_at_once_get_five_held_seats_and_an_ordered_waitlist(app):
    chapter = factories.chapter()
    meeting = events.event(chapter, capacity=SEATS)
    people = [factories.member(home=chapter, with_user=True).user_id for _ in range(PEOPLE)]
    db.session.commit()
    outcomes = _register_all_at_once(app, meeting.id, people)
    assert sorted(outcomes) == sorted(["pending"] * SEATS + ["waitlisted"] * (PEOPLE - SEATS))
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Registration).where(Registration.event_id == meeting.id)).all()
    held = [r for r in rows if r.status is RegistrationStatus.PENDING]
    assert len(held) == SEATS and len({r.user_id for r in rows}) == PEOPLE
    assert sorted(r.waitlist_position for r in rows if r.status is RegistrationStatus.WAITLISTED) == list(
        range(1, PEOPLE - SEATS + 1))
    assert all(r.order_id for r in held) and len({r.order_id for r in held}) == SEATS
