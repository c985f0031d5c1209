"""The activity and audience providers other features read: events held (count = attendance) and registrants."""
from __future__ import annotations

from datetime import timedelta

from chapter.core import activity, audiences
from chapter.core.models import utcnow
from chapter.events.models import EventStatus, RegistrationStatus
from tests import factories
from tests.events import factories as events


def test_events_held_counts_check_ins_when_there_are_any_else_paid_registrations(app):
    chapter = factories.chapter()
    day = utcnow().date()
    checked = events.event(chapter, title="Checked", starts_at=utcnow() - timedelta(days=3))
    paid_only = events.event(chapter, title="Paid only", starts_at=utcnow() - timedelta(days=2))
    events.event(chapter, title="Cancelled", starts_at=utcnow() - timedelta(days=2), status=EventStatus.CANCELLED)
    events.event(chapter, title="Social", starts_at=utcnow() - timedelta(days=2), professional_development=False)
    events.event(chapter, title="Later", starts_at=utcnow() + timedelta(days=40))
    for n in range(3):
        events.registration(checked, user=factories.user(), checked_in_at=utcnow() if n == 0 else None)
        events.registration(paid_only, user=factories.user())
    events.registration(paid_only, user=factories.user(), status=RegistrationStatus.CANCELLED)
    items = activity.items("pd_event", chapter.id, day - timedelta(days=30), day + timedelta(days=1))
    assert [(i.title, i.count) for i in items] == [("Checked", 1), ("Paid only", 3)]
    assert items[0].url == f"/events/{checked.id}"


def test_event_registrants_are_the_confirmed_ones_of_that_chapters_event_only(app):
    chapter = factories.chapter()
    meeting = events.event(chapter, title="Lean basics")
    confirmed = events.registration(meeting, user=factories.user("a@example.org"))
    events.registration(meeting, user=factories.user("b@example.org"), status=RegistrationStatus.WAITLISTED)
    audience = audiences.get("event_registrants")
    assert [r.email for r in audience.resolve(chapter.id, {"event_id": meeting.id})] == [confirmed.email]
    assert len(audience.resolve(chapter.id, {"event_id": meeting.id, "include": "waitlist"})) == 2
    assert audience.resolve(factories.chapter().id, {"event_id": meeting.id}) == []
    assert audience.describe({"event_id": meeting.id}).startswith("Registrants of Lean basics")
