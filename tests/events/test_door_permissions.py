"""The permission matrix of every door, registrations, ticket, calendar and certificate route, for every role."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chapter.core.models import utcnow
from chapter.events import attendance
from chapter.extensions import db
from tests import factories
from tests.chapters.test_roster_tools_permissions import outcome
from tests.events import factories as events

ROLES = ["anonymous", "member", "registrant", "officer_of_other_chapter", "vp_membership", "vp_programs", "staff"]
MANAGERS = {"vp_programs", "staff"}  # positions with can_manage_events, and staff
DOOR = MANAGERS | {"vp_membership"}  # any officer of the chapter may work the door
OWNERS = MANAGERS | {"registrant"}
PUBLIC = set(ROLES)


@pytest.fixture
def world(app):
    """Chapter #40 with a meeting under way (a registrant) and one held earlier whose attendance is final."""
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31, name="Pittsburgh")
    registrant = factories.member(home=home, with_user=True, first_name="Rhea", last_name="Registrant")
    people = {"member": factories.member(home=home, with_user=True).user, "registrant": registrant.user,
              "officer_of_other_chapter": factories.officer(other, "vp_programs"),
              "vp_membership": factories.officer(home, "vp_membership"),
              "vp_programs": factories.officer(home, "vp_programs"), "staff": factories.staff()}
    meeting = events.event(home, title="December PDM", starts_at=utcnow() - timedelta(hours=1))
    ticket = events.registration(meeting, member=registrant, user=registrant.user)
    held = events.event(home, title="November PDM", starts_at=utcnow() - timedelta(days=20))
    attended = events.registration(held, member=registrant, user=registrant.user)
    attendance.check_in(attended, actor=people["vp_programs"])
    attendance.make_attendance_final(held, actor=people["vp_programs"])
    db.session.commit()
    return {"people": people, "meeting": meeting, "ticket": ticket, "attended": attended}


ALLOWED = {
    "registrations": MANAGERS, "export": MANAGERS, "door": DOOR, "door check-in": DOOR,
    "ticket check-in page": PUBLIC, "ticket check-in": DOOR, "walk-in form": DOOR, "walk-in": DOOR,
    "ticket": OWNERS, "ticket ics": OWNERS, "event ics": PUBLIC, "chapter feed": PUBLIC,
    "certificate": OWNERS, "certificate pdf": OWNERS, "attendance final": MANAGERS,
}
PUBLIC_ROUTES = {"ticket check-in page", "event ics", "chapter feed"}


def expected_for(role: str) -> dict[str, str]:
    if role == "anonymous":
        return {name: "allowed" if name in PUBLIC_ROUTES else "login" for name in ALLOWED}
    return {name: "allowed" if role in who else "refused" for name, who in ALLOWED.items()}


def attempt_every_route(client, world, token_page: str) -> dict[str, str]:
    event_id, ticket, attended = world["meeting"].id, world["ticket"], world["attended"]
    gets = {
        "registrations": f"/events/{event_id}/registrations", "door": f"/events/{event_id}/door",
        "ticket check-in page": f"/t/{ticket.ticket_code}", "walk-in form": f"/events/{event_id}/walk-in",
        "ticket": f"/tickets/{ticket.id}", "ticket ics": f"/tickets/{ticket.id}/calendar.ics",
        "event ics": f"/events/{event_id}/calendar.ics", "chapter feed": "/chapters/40/events.ics",
        "certificate": f"/tickets/{attended.id}/certificate", "certificate pdf": f"/tickets/{attended.id}/certificate.pdf",
    }
    posts = {  # name: (url, form, where a success redirects; None: a 200 answer)
        "export": (f"/events/{event_id}/registrations.csv?filter=paid", {}, None),
        "door check-in": (f"/events/{event_id}/registrations/{ticket.id}/check-in", {}, rf"/events/{event_id}/door"),
        "ticket check-in": (f"/t/{ticket.ticket_code}", {}, rf"/t/{ticket.ticket_code}$"),
        "walk-in": (f"/events/{event_id}/walk-in", {"name": "Walk In", "category": "non_member", "paid_by": "cash"},
                    rf"/events/{event_id}/door$"),
        "attendance final": (f"/events/{event_id}/attendance", {}, rf"/events/{event_id}/registrations$"),
    }
    seen = {name: outcome(client.get(url)) for name, url in gets.items()}
    for name, (url, data, done_at) in posts.items():
        seen[name] = outcome(client.submit(url, data, form_url=token_page), done_at)
    return {name: seen[name] for name in ALLOWED}


@pytest.mark.parametrize("role", ROLES)
def test_every_door_route_for(role, world, client):
    token_page = "/login"
    if role != "anonymous":
        client.login(world["people"][role].email)
        token_page = "/chapters"
    assert attempt_every_route(client, world, token_page) == expected_for(role)


@pytest.mark.parametrize("role", ["anonymous", "member", "registrant", "officer_of_other_chapter"])
def test_a_tickets_check_in_page_shows_nothing_private_to_those_who_cannot_check_in(role, world, client):
    if role != "anonymous":
        client.login(world["people"][role].email)
        client.get("/chapters")  # the welcome message (with the user's name) is shown there
    page = client.get(f"/t/{world['ticket'].ticket_code}").get_data(as_text=True).split('id="content"')[1]
    assert "December PDM" in page
    assert "Registrant" not in page and "Ballroom" not in page and "Check in</button>" not in page


def test_an_officer_at_the_door_sees_the_holder_and_one_check_in_button(world, client):
    client.login(world["people"]["vp_membership"].email)
    page = client.get(f"/t/{world['ticket'].ticket_code}").get_data(as_text=True)
    assert "Rhea Registrant" in page and page.count("Check in</button>") == 1
    client.submit(f"/t/{world['ticket'].ticket_code}", {}, form_url=f"/t/{world['ticket'].ticket_code}")
    again = client.submit(f"/t/{world['ticket'].ticket_code}", {}, form_url="/chapters", follow_redirects=True)
    assert "already checked in" in again.get_data(as_text=True)
    assert "Check in</button>" not in client.get(f"/t/{world['ticket'].ticket_code}").get_data(as_text=True)
