"""Check-in at the door and attendance made final: each attendee's points credited exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.certifications.models import PointEntry, PointStatus
from chapter.core.errors import DomainError
from chapter.core.models import utcnow
from chapter.events import attendance
from chapter.events.models import EventStatus, RegistrationStatus
from chapter.extensions import db
from tests import factories
from tests.events import factories as events


def _past_meeting(hours=2.0, **fields):
    chapter = factories.chapter()
    meeting = events.event(chapter, starts_at=utcnow() - timedelta(hours=3), hours=hours, **fields)
    return chapter, meeting


def _points_of(member):
    return db.session.scalars(sa.select(PointEntry).where(PointEntry.member_id == member.id)).all()


def test_checking_in_twice_and_finalising_twice_credits_the_points_once(app):
    chapter, meeting = _past_meeting(hours=2.0)
    officer = factories.officer(chapter, "vp_programs")
    member = factories.member(home=chapter, with_user=True)
    registration = events.registration(meeting, member=member, user=member.user)

    assert attendance.check_in(registration, actor=officer) is True
    assert attendance.check_in(registration, actor=officer) is False
    first = attendance.make_attendance_final(meeting, actor=officer)
    second = attendance.make_attendance_final(meeting, actor=officer)

    entries = _points_of(member)
    assert [(e.points, e.status, e.automatic, e.chapter_id) for e in entries] == [(2, PointStatus.APPROVED, True, chapter.id)]
    assert entries[0].earned_on == attendance.local_start(meeting).date()
    assert (first.credited, second.credited, second.already_final) == (1, 0, True)
    assert meeting.status is EventStatus.COMPLETED and registration.points_credited_at is not None


def test_a_check_in_after_attendance_is_final_credits_that_attendee_at_once_and_only_once(app):
    chapter, meeting = _past_meeting(hours=1.5)
    officer = factories.officer(chapter, "vp_programs")
    member = factories.member(home=chapter)
    late = events.registration(meeting, member=member)
    attendance.make_attendance_final(meeting, actor=officer)

    attendance.check_in(late, actor=officer)
    attendance.check_in(late, actor=officer)
    attendance.make_attendance_final(meeting, actor=officer)

    assert [e.points for e in _points_of(member)] == [2]  # 1.5 instructional hours round half up


def test_only_attendees_who_are_members_earn_points_and_absent_registrants_none(app):
    chapter, meeting = _past_meeting()
    officer = factories.officer(chapter, "president")
    present, absent = factories.member(home=chapter), factories.member(home=chapter)
    events.registration(meeting, member=absent)
    attendance.check_in(events.registration(meeting, member=present), actor=officer)
    attendance.check_in(events.registration(meeting, name="Visiting Non-member"), actor=officer)

    outcome = attendance.make_attendance_final(meeting, actor=officer)

    assert (outcome.attendees, outcome.credited) == (2, 1)
    assert len(_points_of(present)) == 1 and _points_of(absent) == []


@pytest.mark.parametrize("status", [RegistrationStatus.WAITLISTED, RegistrationStatus.PENDING, RegistrationStatus.CANCELLED])
def test_a_registration_that_is_not_confirmed_cannot_be_checked_in(app, status):
    chapter, meeting = _past_meeting()
    officer = factories.officer(chapter, "president")
    registration = events.registration(meeting, status=status)
    with pytest.raises(DomainError, match="not confirmed"):
        attendance.check_in(registration, actor=officer)
    assert registration.checked_in_at is None


def test_attendance_cannot_be_final_before_the_event_starts(app):
    chapter = factories.chapter()
    meeting = events.event(chapter)  # 30 days from now
    with pytest.raises(DomainError, match="once the event has started"):
        attendance.make_attendance_final(meeting, actor=factories.officer(chapter, "president"))
    assert meeting.attendance_final_at is None


def test_the_demo_attendance_credits_the_attendees_of_past_events_only(app):
    import random

    from chapter.seed.event_attendance import seed_demo_attendance

    chapter, past = _past_meeting(hours=2.0)
    factories.officer(chapter, "vp_programs")
    upcoming = events.event(chapter)
    members = [factories.member(home=chapter) for _ in range(10)]
    for member in members:
        events.registration(past, member=member)
        events.registration(upcoming, member=member)
    past.ends_at = utcnow() - timedelta(minutes=30)

    counts = seed_demo_attendance(random.Random(7))

    credited = db.session.scalar(sa.select(sa.func.count()).select_from(PointEntry))
    assert counts["events"] == 1 and 0 < counts["checked_in"] == counts["credited"] == credited <= 10
    assert past.status is EventStatus.COMPLETED and upcoming.status is EventStatus.PUBLISHED
    assert seed_demo_attendance(random.Random(7))["credited"] == 0  # nothing credited twice


def test_the_demo_has_held_events_with_attendance_and_the_demo_members_points(app):
    from chapter.seed import demo
    from chapter.seed.members import DEMO_DOMAIN
    from chapter.events.models import Event, Registration
    from chapter.members.models import Member

    demo.seed_demo(members=200, chapters=9)

    member = db.session.scalar(sa.select(Member).where(Member.email == f"member@{DEMO_DOMAIN}"))
    held = db.session.scalars(sa.select(Event).where(Event.status == EventStatus.COMPLETED)).all()
    attended = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.points_credited_at.is_not(None)))
    assert len(held) >= 4 and attended > 10
    assert any(e.description.startswith("Attended ") for e in _points_of(member))
