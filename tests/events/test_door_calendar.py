"""Calendars: an event's .ics in its own time zone, sessions as VEVENTs, venue only in a registrant's own file."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar

from chapter.events.models import EventKind, EventStatus
from chapter.extensions import db
from tests import factories
from tests.events import factories as events


def _parsed(response):
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    return icalendar.Calendar.from_ical(response.get_data())


def test_an_events_ics_gives_the_start_in_the_events_zone_and_the_same_instant(app, client):
    chapter = factories.chapter(40, timezone="America/New_York")
    # 23:00 UTC on 10 March 2027 is 18:00 in New York (EST, before the switch to summer time on 14 March).
    meeting = events.event(chapter, starts_at=datetime(2027, 3, 10, 23, 0), hours=2)
    db.session.commit()

    calendar = _parsed(client.get(f"/events/{meeting.id}/calendar.ics"))
    (vevent,) = calendar.walk("VEVENT")
    start = vevent.decoded("dtstart")

    assert start.tzinfo.key == "America/New_York" and (start.hour, start.minute) == (18, 0)
    assert start == datetime(2027, 3, 10, 23, 0, tzinfo=timezone.utc)
    assert vevent.decoded("dtend") - start == timedelta(hours=2)
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    assert b"DTSTART;TZID=America/New_York:20270310T180000" in client.get(f"/events/{meeting.id}/calendar.ics").get_data()
    assert "LOCATION" not in vevent and "Ballroom" not in calendar.to_ical().decode()


def test_a_course_across_the_summer_time_switch_keeps_each_session_at_its_local_hour(app, client):
    chapter = factories.chapter(40, timezone="America/Chicago")
    zone = ZoneInfo("America/Chicago")
    first = datetime(2027, 3, 9, 18, 30, tzinfo=zone).astimezone(timezone.utc).replace(tzinfo=None)
    course = events.event(chapter, kind=EventKind.REVIEW_COURSE, sessions=3, starts_at=first,
                          title="CPIM Part 1")
    db.session.commit()

    vevents = _parsed(client.get(f"/events/{course.id}/calendar.ics")).walk("VEVENT")

    starts = [v.decoded("dtstart") for v in vevents]
    assert len({str(v["UID"]) for v in vevents}) == 3
    # A week apart in UTC (the factory's sessions): 18:30 CST, then 19:30 CDT after 14 March, the same instants.
    assert [s.astimezone(timezone.utc).replace(tzinfo=None) for s in starts] == [first + timedelta(days=7 * n) for n in range(3)]
    assert [(s.hour, s.minute) for s in starts] == [(18, 30), (19, 30), (19, 30)]
    assert [str(v["SUMMARY"]) for v in vevents] == ["CPIM Part 1: Session 1", "CPIM Part 1: Session 2", "CPIM Part 1: Session 3"]


def test_a_registrants_own_ics_has_the_venue_and_the_online_link(app, client):
    chapter = factories.chapter(40)
    member = factories.member(home=chapter, with_user=True)
    webinar = events.event(chapter, online_url="https://meet.example.org/pdm-42")
    ticket = events.registration(webinar, member=member, user=member.user)
    db.session.commit()
    client.login(member.user.email)

    (vevent,) = _parsed(client.get(f"/tickets/{ticket.id}/calendar.ics")).walk("VEVENT")

    assert str(vevent["LOCATION"]) == "Hilton Garden Inn, Ballroom B"
    assert "https://meet.example.org/pdm-42" in str(vevent["DESCRIPTION"])


def test_a_chapters_feed_lists_its_published_and_cancelled_events_not_drafts_nor_other_chapters(app, client):
    chapter, other = factories.chapter(40), factories.chapter(31)
    events.event(chapter, title="Plant tour")
    events.event(chapter, title="Called off", status=EventStatus.CANCELLED)
    events.event(chapter, title="Still a draft", status=EventStatus.DRAFT)
    events.event(other, title="Elsewhere")
    db.session.commit()

    vevents = _parsed(client.get("/chapters/40/events.ics")).walk("VEVENT")

    assert {str(v["SUMMARY"]): str(v["STATUS"]) for v in vevents} == {"Plant tour": "CONFIRMED", "Called off": "CANCELLED"}
    assert client.get("/chapters/999/events.ics").status_code == 404
