"""Every event route for every role: the chapter's event officer, an officer of another chapter, a treasurer of
the chapter (no event right), a member, the anonymous, staff."""
from __future__ import annotations

import pytest

from chapter.events.models import EventStatus
from chapter.extensions import db
from tests import factories
from tests.conftest import CSRF_PATTERN
from tests.events import factories as events

ROLES = ["vp_programs", "other_president", "treasurer", "member", "anonymous", "staff"]
MANAGERS = {"vp_programs", "staff"}


@pytest.fixture
def world(app):
    chapter = factories.chapter()
    other = factories.chapter()
    people = {"vp_programs": factories.officer(chapter, "vp_programs"),
              "other_president": factories.officer(other, "president"),
              "treasurer": factories.officer(chapter, "treasurer"),
              "member": factories.member(home=chapter, with_user=True).user, "staff": factories.staff()}
    published = events.event(chapter, title="Published meeting")
    draft = events.event(chapter, title="Draft meeting", status=EventStatus.DRAFT)
    owner = factories.member(home=chapter, with_user=True)
    registration = events.registration(published, user=owner.user, member=owner)
    db.session.commit()
    return {"chapter": chapter, "people": people, "published": published, "draft": draft,
            "registration": registration}


def _as(client, world, role):
    if role != "anonymous":
        client.login(world["people"][role].email)
    return client


def _expected_manage(role):
    return {"anonymous": 302}.get(role, 200 if role in MANAGERS else 403)


def _get(client, url):
    return client.get(url).status_code


def _post(client, url, form_url, data=None):
    page = client.get(form_url).get_data(as_text=True)
    token = CSRF_PATTERN.search(page)
    payload = dict(data or {}, csrf_token=token.group(1) if token else "")
    return client.client.post(url, data=payload).status_code


@pytest.mark.parametrize("role", ROLES)
def test_officer_routes_answer_only_those_who_manage_the_chapters_events(app, client, world, role):
    _as(client, world, role)
    number, published, draft = world["chapter"].number, world["published"].id, world["draft"].id
    expected = _expected_manage(role)
    assert _get(client, f"/chapters/{number}/events") == expected
    assert _get(client, f"/chapters/{number}/events/new") == expected
    assert _get(client, f"/events/{published}/edit") == expected
    assert _get(client, f"/events/{published}/cancel") == expected
    assert _get(client, f"/events/{draft}") == (200 if role in MANAGERS else 404)
    publish = _post(client, f"/events/{draft}/publish", "/my/events" if role != "anonymous" else "/login")
    assert publish == ({"anonymous": 302}.get(role, 302 if role in MANAGERS else 403))
    db.session.expire_all()
    assert (db.session.get(type(world["draft"]), draft).status is EventStatus.PUBLISHED) == (role in MANAGERS)


@pytest.mark.parametrize("role", ROLES)
def test_public_and_member_routes_answer_everyone_as_they_should(app, client, world, role):
    _as(client, world, role)
    published, registration = world["published"].id, world["registration"].id
    assert _get(client, "/events") == 200
    assert _get(client, f"/events/{published}") == 200
    assert _get(client, "/my/events") == (302 if role == "anonymous" else 200)
    # Someone else's registration is no page of theirs.
    assert _get(client, f"/my/events/{registration}/cancel") == (302 if role == "anonymous" else 404)
    pay = _post(client, f"/my/events/{registration}/pay", "/login" if role == "anonymous" else "/my/events")
    assert pay == (302 if role == "anonymous" else 404)
    register = _post(client, f"/events/{published}/register", "/login" if role == "anonymous" else f"/events/{published}")
    assert register == 302  # anonymous: to the log-in page; the others: registered (to paying or My events)


def test_the_owner_reaches_their_registration_and_the_venue_only_once_registered(app, client, world):
    owner = world["registration"].user
    page = client.get(f"/events/{world['published'].id}").get_data(as_text=True)
    assert "Hilton Garden Inn" not in page and "shown to registrants" in page
    client.login(owner.email)
    assert "Hilton Garden Inn" in client.get(f"/events/{world['published'].id}").get_data(as_text=True)
    assert _get(client, f"/my/events/{world['registration'].id}/cancel") == 200
