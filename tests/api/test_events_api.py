"""Events through the API: officers' tokens read their chapter's events and registrations; a token with
events:write of a position with the events right creates and updates them; roster:read cannot."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.core.models import utcnow
from chapter.events.models import Event, EventStatus
from chapter.extensions import db
from tests import factories
from tests.api.conftest import make_token
from tests.events import factories as event_factories


def event_body(**changes) -> dict:
    starts = (utcnow() + timedelta(days=40)).replace(microsecond=0)
    body = {"title": "Plant tour at Acme", "kind": "plant_tour", "timezone": "America/New_York",
            "venue": "Acme works, Reading", "capacity": 30,
            "sessions": [{"starts_at": starts.isoformat() + "Z", "ends_at": (starts + timedelta(hours=2)).isoformat() + "Z",
                          "instructional_hours": 1.5}],
            "prices": [{"category": "member", "amount_cents": 1500}, {"category": "non_member", "amount_cents": 3000}],
            "refund_tiers": [{"days_before": 7, "percent": 100}]}
    body.update(changes)
    return body


@pytest.fixture
def chapters(app):
    a, b = factories.chapter(40), factories.chapter(31)
    president = factories.officer(a, "president")  # the events right
    secretary = factories.officer(a, "secretary")  # roster, no events right
    mine = event_factories.event(a, title="Monthly PD meeting")
    event_factories.event(b, title="Elsewhere")
    event_factories.registration(mine, member=factories.member(home=a, last_name="Lovelace"))
    db.session.commit()
    return a, b, president, secretary, mine


def test_an_events_token_reads_its_chapters_events_and_registrations_only(chapters, api):
    a, b, president, _, mine = chapters
    token = make_token(president, ["events:read"], [a])
    listed = api.get("/chapters/40/events", token).get_json()["items"]
    assert [e["title"] for e in listed] == ["Monthly PD meeting"]
    assert listed[0]["prices"] and listed[0]["sessions"][0]["instructional_hours"] == 1.5
    registrations = api.get(f"/chapters/40/events/{mine.id}/registrations", token).get_json()["items"]
    assert [r["name"] for r in registrations] == ["Alex Lovelace"]
    assert api.get("/chapters/31/events", token).status_code == 403
    other = db.session.scalar(sa.select(Event).where(Event.chapter_id == b.id))
    assert api.get(f"/chapters/40/events/{other.id}", token).status_code == 404


def test_an_officer_with_the_events_right_creates_and_updates_an_event(chapters, api):
    token = make_token(chapters[2], ["events:read", "events:write"], [chapters[0]])
    created = api.post("/chapters/40/events", token, json=event_body())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["chapter"] == 40 and body["capacity"] == 30
    changed = api.client.put(f"/api/v1/chapters/40/events/{body['id']}", json=event_body(title="Plant tour, new date"),
                             headers={"Authorization": f"Bearer {token}"})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Plant tour, new date"
    event = db.session.get(Event, body["id"])
    assert event.status is EventStatus.DRAFT and event.title == "Plant tour, new date"


def test_a_roster_token_cannot_write_events_nor_a_position_without_the_right(chapters, api):
    a, _, president, secretary, _ = chapters
    refused = api.post("/chapters/40/events", make_token(president, ["roster:read"], [a]), json=event_body())
    assert refused.status_code == 403 and "events:write" in refused.get_json()["detail"]
    refused = api.post("/chapters/40/events", make_token(secretary, ["events:write"], [a]), json=event_body())
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 2


def test_an_event_that_breaks_a_rule_is_a_422_naming_the_field(chapters, api):
    token = make_token(chapters[2], ["events:write"], [chapters[0]])
    starts = utcnow() + timedelta(days=5)
    backwards = event_body(sessions=[{"starts_at": starts.isoformat(), "ends_at": (starts - timedelta(hours=1)).isoformat()}])
    for body, field in ((backwards, "sessions"), (event_body(timezone="Mars/Olympus"), "timezone"),
                        (event_body(kind="party"), "kind"), ({"title": "x"}, "prices")):
        response = api.post("/chapters/40/events", token, json=body)
        assert response.status_code == 422, (field, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert field in [error["field"] for error in response.get_json()["errors"]], response.get_json()
    assert api.post("/chapters/40/events", token, data="{not json", content_type="application/json").status_code == 400
