"""Officers create an event (times typed in the event's zone, stored UTC), see messages by the field with what
they typed kept, publish, edit (registrants told of a new date), cancel (everyone refunded in full and told)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.events.models import Event, EventKind, EventStatus, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from chapter.payments.models import Payment
from tests import factories
from tests.conftest import run_jobs
from tests.events import factories as events
from tests.payments.helpers import pay_order


def _form(**changes) -> dict:
    start = (utcnow() + timedelta(days=40)).date()
    data = {"title": "CPIM Part 1 review", "kind": "review_course", "description_md": "Six **evenings**.",
            "timezone": "America/Chicago", "sessions-0-starts": f"{start}T18:00", "sessions-0-ends": f"{start}T21:00",
            "sessions-0-hours": "3.0", "sessions-1-starts": f"{start + timedelta(days=7)}T18:00",
            "sessions-1-ends": f"{start + timedelta(days=7)}T21:00", "sessions-1-hours": "3.0",
            "venue": "Community college, room 12", "capacity": "20", "price_member": "450.00",
            "price_non_member": "650.00", "materials_fee_cents": "120.00", "tiers-0-days_before": "14",
            "tiers-0-percent": "100", "tiers-1-days_before": "7", "tiers-1-percent": "50", "tiers-2-days_before": "0",
            "tiers-2-percent": "0", "chapter_share_percent": "100", "professional_development": "y"}
    data.update(changes)
    return data


def test_an_officer_creates_a_review_course_in_the_chapters_zone_stored_in_utc(app, client):
    chapter = factories.chapter()
    vp = factories.officer(chapter, "vp_education")
    db.session.commit()
    client.login(vp.email)
    url = f"/chapters/{chapter.number}/events/new"
    response = client.submit(url, _form())
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    event = db.session.scalar(sa.select(Event))
    assert event.kind is EventKind.REVIEW_COURSE and event.status is EventStatus.DRAFT
    assert event.starts_at.hour == 0 and event.starts_at.minute == 0  # 18:00 in Chicago (CST, UTC-6)
    assert event.instructional_hours == 6 and len(event.sessions) == 2
    assert event.price_for(PriceCategory.MEMBER) == 45000 and event.price_for(PriceCategory.STUDENT) is None
    assert event.materials_fee_cents == 12000
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "<strong>evenings</strong>" in page and "18:00 CST" in page


def test_a_bad_form_keeps_what_was_typed_and_says_what_is_wrong_by_the_field(app, client):
    chapter = factories.chapter()
    vp = factories.officer(chapter, "vp_programs")
    db.session.commit()
    client.login(vp.email)
    url = f"/chapters/{chapter.number}/events/new"
    page = client.submit(url, _form(timezone="Mars/Olympus", capacity="-3")).get_data(as_text=True)
    assert "Capacity: Number must be between 1 and 100000." in page and 'value="CPIM Part 1 review"' in page
    page = client.submit(url, _form(timezone="Mars/Olympus")).get_data(as_text=True)
    assert "Choose a time zone such as America/Chicago" in page and 'value="Mars/Olympus"' in page
    page = client.submit(url, _form(**{"sessions-0-ends": _form()["sessions-0-starts"].replace("18:00", "17:00")})).get_data(as_text=True)
    assert "Session 1 ends before it starts." in page
    page = client.submit(url, _form(price_member="12,5x")).get_data(as_text=True)
    assert "Member price: Enter an amount like 210.00" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_moving_a_published_event_tells_its_registrants_and_cancelling_refunds_everyone(app, client, stripe_peer,
                                                                                       smtp_server):
    chapter = factories.chapter()
    president = factories.officer(chapter, "president")
    meeting = events.event(chapter, title="Plant tour at Acme", kind=EventKind.PLANT_TOUR)
    member = factories.member(home=chapter, with_user=True)
    db.session.commit()
    client.login(member.email)
    response = client.submit(f"/events/{meeting.id}/register", {}, form_url=f"/events/{meeting.id}")
    order_id = int(re.search(r"/pay/(\d+)", response.headers["Location"]).group(1))
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    client.logout()
    client.login(president.email)
    edit = client.get(f"/events/{meeting.id}/edit").get_data(as_text=True)
    starts = re.search(r'name="sessions-0-starts"[^>]*value="([^"]+)"', edit).group(1)
    later = (datetime.fromisoformat(starts) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    ends = (datetime.fromisoformat(later) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = {name: value for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', edit)
            if name != "csrf_token" and not name.startswith(("add_session", "save"))}
    form.update({"sessions-0-starts": later, "sessions-0-ends": ends, "title": "Plant tour at Acme",
                 "kind": "plant_tour", "professional_development": "y"})
    response = client.submit(f"/events/{meeting.id}/edit", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    run_jobs()
    changed = [m for m in smtp_server if m["Subject"] == "Changed: Plant tour at Acme"]
    assert [m["To"] for m in changed] == [member.email]
    confirm = client.get(f"/events/{meeting.id}/cancel").get_data(as_text=True)
    assert "refunded in full" in confirm
    client.submit(f"/events/{meeting.id}/cancel", {"confirmed": "yes"}, form_url=f"/events/{meeting.id}/cancel")
    run_jobs()
    db.session.expire_all()
    assert db.session.scalar(sa.select(Payment.refunded_cents)) == 2500
    registration = db.session.scalar(sa.select(Registration))
    assert registration.status is RegistrationStatus.CANCELLED and registration.refund_cents == 2500
    assert any(m["Subject"] == "Cancelled: Plant tour at Acme" and m["To"] == member.email for m in smtp_server)


def test_the_officers_list_is_searchable_sortable_and_paged(app, client):
    chapter = factories.chapter()
    vp = factories.officer(chapter, "vp_programs")
    for n in range(30):
        events.event(chapter, title=f"Meeting {n:02d}", starts_at=utcnow() + timedelta(days=n + 1))
    events.event(chapter, title="Plant tour", status=EventStatus.DRAFT)
    events.event(factories.chapter(), title="Someone else's")
    db.session.commit()
    client.login(vp.email)
    page = client.get(f"/chapters/{chapter.number}/events?sort=title&dir=asc").get_data(as_text=True)
    assert "31 events" in page and page.index("Meeting 00") < page.index("Meeting 01") and "Someone else" not in page
    assert "Meeting 29" not in page and "Meeting 29" in client.get(
        f"/chapters/{chapter.number}/events?sort=title&dir=asc&page=2").get_data(as_text=True)
    found = client.get(f"/chapters/{chapter.number}/events?q=plant").get_data(as_text=True)
    assert "1 event" in found and "Plant tour" in found and "Meeting 01" not in found
