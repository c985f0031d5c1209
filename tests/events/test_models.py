"""The events data model: an event with sessions, prices and tiers; registrations; the managers' right."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from chapter.events.models import Event, EventKind, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from tests import factories
from tests.events import factories as events


def test_a_review_course_sums_its_sessions_hours_and_keeps_its_prices_and_tiers(app):
    chapter = factories.chapter()
    course = events.event(chapter, kind=EventKind.REVIEW_COURSE, sessions=6, hours=3.0, title="CPIM Part 1")
    db.session.expire_all()
    loaded = db.session.get(Event, course.id)
    assert loaded.instructional_hours == Decimal("18.0")
    assert [s.position for s in loaded.sessions] == [1, 2, 3, 4, 5, 6]
    assert loaded.price_for(PriceCategory.GUEST) == 3000
    assert [(t.days_before, t.percent) for t in loaded.refund_tiers] == [(14, 100), (7, 50), (0, 0)]
    assert loaded.chapter_share_percent == 100 and not loaded.is_free


def test_a_person_has_one_live_registration_per_event_and_each_ticket_code_is_unique(app):
    chapter = factories.chapter()
    meeting = events.event(chapter)
    person = factories.user()
    first = events.registration(meeting, user=person)
    events.registration(meeting, user=person, status=RegistrationStatus.CANCELLED)  # cancelled ones do not count
    guest = events.registration(meeting, user=person, category=PriceCategory.GUEST, guest_of=first, name="Guest")
    assert first.ticket_code != guest.ticket_code and len(first.ticket_code) >= 16
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            events.registration(meeting, user=person, status=RegistrationStatus.WAITLISTED)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == 3


def test_president_and_the_programme_vps_manage_events_by_default(app):
    assert {code: factories.position(code).can_manage_events
            for code in ("president", "vp_programs", "vp_education", "treasurer", "vp_membership")} == {
        "president": True, "vp_programs": True, "vp_education": True, "treasurer": False, "vp_membership": False}
