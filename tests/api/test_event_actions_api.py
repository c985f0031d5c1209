"""Officers' programs publish, cancel and partially change events through the API, with the events pages'
effects: a cancelled event's registrants are refunded in full and told by mail, a new place is told to them;
a second publish or cancel is a 409 problem, a bad field a 422 naming it, a token without the right a 403."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.events.models import Event, EventStatus, PriceCategory, Registration, RegistrationStatus
from chapter.extensions import db
from chapter.payments.models import Payment
from tests import factories
from tests.api.conftest import make_token
from tests.conftest import run_jobs, text_of
from tests.events import factories as event_factories
from tests.payments.helpers import pay_order


@pytest.fixture
def chapters(app):
    a, b = factories.chapter(40), factories.chapter(31)
    president = factories.officer(a, "president")  # the events right
    secretary = factories.officer(a, "secretary")  # roster, no events right
    draft = event_factories.event(a, title="Plant tour at Acme", status=EventStatus.DRAFT,
                                  professional_development=False)
    elsewhere = event_factories.event(b, title="Elsewhere", status=EventStatus.DRAFT)
    db.session.commit()
    return a, president, secretary, draft, elsewhere


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_an_officer_publishes_a_draft_and_publishing_it_again_is_a_409(chapters, api):
    a, president, _, draft, _ = chapters
    token = make_token(president, ["events:write"], [a])
    published = api.post(f"/chapters/40/events/{draft.id}/publish", token)
    assert published.status_code == 200, published.get_json()
    assert published.get_json()["status"] == "published"
    db.session.expire_all()
    event = db.session.get(Event, draft.id)
    assert event.status is EventStatus.PUBLISHED and event.published_at is not None
    again = problem_of(api.post(f"/chapters/40/events/{draft.id}/publish", token), 409)
    assert again["detail"] == "Only a draft is published: this event is published."


def test_an_event_that_has_started_is_not_published_a_422_that_says_why(chapters, api):
    a, president, _, draft, _ = chapters
    draft.starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    refused = problem_of(api.post(f"/chapters/40/events/{draft.id}/publish", make_token(president, ["events:write"], [a])), 422)
    assert "already started" in refused["detail"]
    db.session.expire_all()
    assert db.session.get(Event, draft.id).status is EventStatus.DRAFT


def test_cancelling_through_the_api_refunds_the_registrant_in_full_and_tells_them_by_mail(
        app, client, api, stripe_peer, smtp_server):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    meeting = event_factories.event(chapter, title="Plant tour at Acme")
    member = factories.member(home=chapter, with_user=True)
    db.session.commit()
    client.login(member.email)
    response = client.submit(f"/events/{meeting.id}/register", {}, form_url=f"/events/{meeting.id}")
    order_id = int(re.search(r"/pay/(\d+)", response.headers["Location"]).group(1))
    assert pay_order(client, stripe_peer, order_id).get_json()["status"] == "succeeded"
    run_jobs()
    smtp_server.clear()
    token = make_token(president, ["events:write"], [chapter])

    cancelled = api.post(f"/chapters/40/events/{meeting.id}/cancel", token)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    run_jobs()
    db.session.expire_all()
    price = meeting.price_for(PriceCategory.MEMBER)
    assert price and db.session.scalar(sa.select(Payment.refunded_cents)) == price
    registration = db.session.scalar(sa.select(Registration))
    assert registration.status is RegistrationStatus.CANCELLED and registration.refund_cents == price
    mail = [m for m in smtp_server if m["Subject"] == "Cancelled: Plant tour at Acme"]
    assert [m["To"] for m in mail] == [member.email]
    assert db.session.get(Event, meeting.id).status is EventStatus.CANCELLED

    again = problem_of(api.post(f"/chapters/40/events/{meeting.id}/cancel", token), 409)
    assert again["detail"] == "This event is already cancelled."
    changed = problem_of(api.patch(f"/chapters/40/events/{meeting.id}", token, json={"title": "Back on"}), 409)
    assert changed["detail"] == "A cancelled event cannot be changed."
    run_jobs()
    assert len([m for m in smtp_server if m["Subject"].startswith("Cancelled")]) == 1  # told once


def test_patch_changes_only_the_fields_given_and_registrants_hear_of_a_new_venue(app, api, smtp_server):
    chapter = factories.chapter(40)
    president = factories.officer(chapter, "president")
    meeting = event_factories.event(chapter, title="Monthly PD meeting", sessions=2, professional_development=False)
    member = factories.member(home=chapter, last_name="Lovelace")
    event_factories.registration(meeting, member=member)
    db.session.commit()
    before = api.get(f"/chapters/40/events/{meeting.id}", make_token(president, ["events:read"], [chapter])).get_json()
    token = make_token(president, ["events:write"], [chapter])

    changed = api.patch(f"/chapters/40/events/{meeting.id}", token, json={"venue": "Acme works, gate 3"})
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert after["venue"] == "Acme works, gate 3"
    assert {k: v for k, v in after.items() if k != "venue"} == {k: v for k, v in before.items() if k != "venue"}
    db.session.expire_all()
    event = db.session.get(Event, meeting.id)
    assert event.venue == "Acme works, gate 3" and len(event.sessions) == 2
    assert event.professional_development is False  # not in the API: kept
    run_jobs()
    told = [m for m in smtp_server if m["Subject"] == "Changed: Monthly PD meeting"]
    assert [m["To"] for m in told] == [member.email]
    assert "The venue is now Acme works, gate 3 (was Hilton Garden Inn, Ballroom B)." in text_of(told[0])

    renamed = api.patch(f"/chapters/40/events/{meeting.id}", token,
                        json={"title": "PD meeting", "prices": [{"category": "member", "amount_cents": 0}]})
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["title"] == "PD meeting" and renamed.get_json()["prices"] == [
        {"category": "member", "amount_cents": 0}]  # a list given replaces the whole list
    assert renamed.get_json()["sessions"] == before["sessions"]
    run_jobs()
    assert len([m for m in smtp_server if m["Subject"].startswith("Changed")]) == 1  # no new date or place


@pytest.mark.parametrize("body, field", [
    ({"capacity": 0}, "capacity"),
    ({"title": None}, "title"),
    ({"status": "published"}, "status"),
    ({"kind": "party"}, "kind"),
    ({"sessions": []}, "sessions"),
    ({"registration_closes_at": "2199-01-01T00:00:00Z"}, "registration_closes_at"),  # the service's rule
    ({"venue": None}, "venue"),  # no venue and no online link: the service's rule
    ({"prices": [{"category": "member", "amount_cents": -5}]}, "prices.0.amount_cents"),
])
def test_patch_with_a_bad_field_is_a_problem_naming_it_and_changes_nothing(chapters, api, body, field):
    a, president, _, draft, _ = chapters
    refused = problem_of(api.patch(f"/chapters/40/events/{draft.id}", make_token(president, ["events:write"], [a]),
                                   json=body), 422)
    assert field in [error["field"] for error in refused["errors"]], refused
    db.session.expire_all()
    event = db.session.get(Event, draft.id)
    assert event.capacity == 50 and event.title == "Plant tour at Acme" and event.venue
    assert event.status is EventStatus.DRAFT


def test_a_roster_token_or_a_position_without_the_events_right_gets_a_403_and_changes_nothing(chapters, api):
    a, president, secretary, draft, _ = chapters
    for token in (make_token(president, ["roster:read", "events:read"], [a]), make_token(secretary, ["events:write"], [a])):
        for response in (api.post(f"/chapters/40/events/{draft.id}/publish", token),
                         api.post(f"/chapters/40/events/{draft.id}/cancel", token),
                         api.patch(f"/chapters/40/events/{draft.id}", token, json={"title": "Mine now"})):
            problem_of(response, 403)
    db.session.expire_all()
    event = db.session.get(Event, draft.id)
    assert event.status is EventStatus.DRAFT and event.title == "Plant tour at Acme"


def test_another_chapters_event_is_a_404_and_another_chapter_a_403(chapters, api):
    a, president, _, _, elsewhere = chapters
    token = make_token(president, ["events:write"], [a])
    for response in (api.post(f"/chapters/40/events/{elsewhere.id}/publish", token),
                     api.post(f"/chapters/40/events/{elsewhere.id}/cancel", token),
                     api.patch(f"/chapters/40/events/{elsewhere.id}", token, json={"title": "Mine now"})):
        assert problem_of(response, 404)["detail"] == f"Chapter 40 has no event {elsewhere.id}."
    problem_of(api.post(f"/chapters/31/events/{elsewhere.id}/publish", token), 403)
    db.session.expire_all()
    event = db.session.get(Event, elsewhere.id)
    assert event.status is EventStatus.DRAFT and event.title == "Elsewhere"


def test_the_document_lists_publish_cancel_and_patch_with_their_problems(app, api):
    paths = api.get("/openapi.json").get_json()["paths"]
    one = paths["/api/v1/chapters/{number}/events/{event_id}"]
    assert "patch" in one and "409" in one["patch"]["responses"] and "422" in one["patch"]["responses"]
    for action in ("publish", "cancel"):
        operation = paths[f"/api/v1/chapters/{{number}}/events/{{event_id}}/{action}"]["post"]
        assert "409" in operation["responses"] and operation["security"] == [{"bearer": []}]
