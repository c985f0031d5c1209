"""Who may open every treasury route: staff everything; a chapter treasurer only their chapter's money."""
import pytest

from chapter.extensions import db
from tests import factories

GET_ROUTES = ["/treasury/", "/treasury/payouts", "/treasury/payouts/po_none", "/treasury/reports/revenue",
              "/treasury/reports/chapters", "/treasury/reports/refunds", "/treasury/reports/members",
              "/treasury/reports/revenue?format=csv", "/treasury/ledger.csv?month=2026-11", "/treasury/chapters/40",
              "/treasury/chapters/31"]
POST_ROUTES = ["/treasury/sync", "/treasury/transactions/txn_x/recover", "/treasury/chapters/40/remittances",
               "/treasury/chapters/31/remittances", "/treasury/offline-payments", "/treasury/periods/close",
               "/treasury/periods/reopen"]

# What each role gets: a status per route (200 or a redirect after a post means allowed).
ALLOWED = "ok"
EXPECTED_GET = {
    "staff": {r: ALLOWED for r in GET_ROUTES} | {"/treasury/payouts/po_none": 404},
    "treasurer": {r: 403 for r in GET_ROUTES} | {"/treasury/": ALLOWED, "/treasury/chapters/40": ALLOWED},
    "secretary": {r: 403 for r in GET_ROUTES},
    "member": {r: 403 for r in GET_ROUTES},
}


def _member_login(home):
    factories.member(home=home, email="mo@example.org", with_user=True)
    return type("Login", (), {"email": "mo@example.org"})


@pytest.fixture
def people(app):
    home = factories.chapter(40, name="Schuylkill Valley")
    other = factories.chapter(31, name="Pittsburgh")
    found = {"staff": factories.staff(), "treasurer": factories.officer(home, "treasurer"),
             "secretary": factories.officer(home, "secretary"),
             "member": _member_login(home)}
    factories.officer(other, "treasurer")
    db.session.commit()
    return found


@pytest.mark.parametrize("role", list(EXPECTED_GET))
def test_every_treasury_page_for_every_role(people, client, role):
    client.login(people[role].email)
    for route in GET_ROUTES:
        status = client.get(route).status_code
        expected = EXPECTED_GET[role][route]
        assert (status == 200 if expected == ALLOWED else status == expected), (role, route, status)


@pytest.mark.parametrize("role", ["treasurer", "secretary", "member"])
def test_only_staff_may_post_to_the_treasury(people, client, role):
    client.login(people[role].email)
    token = client.csrf_token("/chapters")
    for route in POST_ROUTES:
        status = client.client.post(route, data={"csrf_token": token}).status_code
        assert status == 403, (role, route, status)


def test_anonymous_visitors_are_sent_to_log_in(people, client):
    for route in GET_ROUTES:
        assert client.get(route).status_code == 302, route


def test_a_chapter_treasurer_sees_their_remittance_and_not_another_chapters(people, client):
    client.login(people["treasurer"].email)
    assert "Schuylkill Valley" in client.get("/treasury/chapters/40").get_data(as_text=True)
    assert client.get("/treasury/chapters/31").status_code == 403


def test_the_treasury_link_shows_for_staff_and_treasurers_only(people, client):
    for role, shown in [("staff", True), ("treasurer", True), ("secretary", False), ("member", False)]:
        client.login(people[role].email)
        assert ('href="/treasury/"' in client.get("/chapters").get_data(as_text=True)) is shown, role
        client.logout()
