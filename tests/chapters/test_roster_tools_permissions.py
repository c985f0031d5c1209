"""The permission matrix of every roster, member, export, import, transfer and audit route, for every role."""
import io
import re

import pytest

from chapter.seed.reference import OFFICER_POSITIONS
from chapter.extensions import db
from tests import factories

POSITIONS = [row[0] for row in OFFICER_POSITIONS]
ROSTER_POSITIONS = {row[0] for row in OFFICER_POSITIONS if row[3]}
EXPORT_POSITIONS = {"president", "secretary", "vp_membership"}
MEMBER_MANAGERS = {"president", "secretary", "vp_membership"}
AUDIT_READERS = {"president"}
OFFICER_MANAGERS = {"president"}
ROLES = ["anonymous", "member", "officer_of_other_chapter", *POSITIONS, "manager_of_other_district",
         "district_manager", "staff"]


@pytest.fixture
def world(app):
    """Chapter #40 (Mid-Atlantic) with a member and every officer position; #31 (Mid-Atlantic); #7 (Southeast)."""
    a = factories.chapter(40, name="Schuylkill Valley", district_code="MA")
    b = factories.chapter(31, name="Pittsburgh", district_code="MA")
    factories.chapter(7, name="Atlanta", district_code="SE")
    member = factories.member(home=a, email="member@example.org", with_user=True, last_name="Zimmerman")
    elsewhere = factories.member(home=b, last_name="Quinn")
    factories.member(home=a, last_name="Hargreaves", email="hargreaves@example.org")
    people = {
        "member": member.user,
        "officer_of_other_chapter": factories.officer(b, "president"),
        "manager_of_other_district": factories.district_manager(factories.district("SE")),
        "district_manager": factories.district_manager(factories.district("MA")),
        "staff": factories.staff(),
    }
    for code in POSITIONS:
        people[code] = factories.officer(a, code)
    db.session.commit()
    return {"member": member, "elsewhere": elsewhere, "people": people}


def expected_for(role: str) -> dict[str, str]:
    """What each route answers `role`: allowed, refused (403) or login (sent to log in)."""
    if role == "anonymous":
        return dict.fromkeys(ROUTES, "login")
    staff = role == "staff"
    district = role == "district_manager"
    position = role if role in POSITIONS else None

    def rule(allowed: bool) -> str:
        return "allowed" if allowed else "refused"

    sees_roster = staff or district or position in ROSTER_POSITIONS
    return {
        "roster": rule(sees_roster),
        "member record": rule(sees_roster),
        "transfers": rule(sees_roster),
        "add note": rule(staff or position in ROSTER_POSITIONS),
        "export": rule(staff or position in EXPORT_POSITIONS),
        "import form": rule(staff or position in MEMBER_MANAGERS),
        "import upload": rule(staff or position in MEMBER_MANAGERS),
        "request transfer": rule(staff or position in MEMBER_MANAGERS),
        "audit log": rule(staff or position in AUDIT_READERS),
        "officers": rule(staff or position in OFFICER_MANAGERS),
        "move members (staff)": rule(staff),
    }


ROUTES = ["roster", "member record", "transfers", "add note", "export", "import form", "import upload",
          "request transfer", "audit log", "officers", "move members (staff)"]


def outcome(response, done_at: str | None = None) -> str:
    """allowed: a page (200), or for a form the redirect to where its success lands (`done_at`)."""
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/login" in location:
        return "login"
    if response.status_code == 403:
        return "refused"
    if done_at is None:
        assert response.status_code == 200, response.status_code
    else:
        assert response.status_code == 302 and re.search(done_at, location), (response.status_code, location)
    return "allowed"


def attempt_every_route(client, world, token_page: str) -> dict[str, str]:
    number = world["member"].member_number
    csv_file = (io.BytesIO(b"First name,Last name,E-mail\nNew,Person,new.person@example.org\n"), "new.csv")
    posts = {  # name: (url, form, where the redirect of a success points)
        "add note": (f"/chapters/40/members/{number}/notes", {"noted_on": "2026-01-15", "body": "Called about renewal."},
                     rf"/chapters/40/members/{number}#notes$"),
        "import upload": ("/chapters/40/import", {"file": csv_file}, r"/chapters/40/import/[^/]+$"),
        "request transfer": ("/chapters/40/transfers", {"member_number": world["elsewhere"].member_number,
                                                        "last_name": "Quinn"}, r"/chapters/40/transfers$"),
        "export": ("/chapters/40/roster.csv?status=active", {}, None),  # logged, so a POST; success is the file (200)
    }
    gets = {
        "roster": "/chapters/40/roster", "member record": f"/chapters/40/members/{number}",
        "transfers": "/chapters/40/transfers",
        "import form": "/chapters/40/import", "audit log": "/chapters/40/audit", "officers": "/chapters/40/officers",
        "move members (staff)": "/admin/transfers",
    }
    seen = {name: outcome(client.get(url)) for name, url in gets.items()}
    for name, (url, data, done_at) in posts.items():
        seen[name] = outcome(client.submit(url, data, form_url=token_page, content_type="multipart/form-data"), done_at)
    return {name: seen[name] for name in ROUTES}


@pytest.mark.parametrize("role", ROLES)
def test_every_roster_tool_route_for(role, world, client):
    if role == "anonymous":
        token_page = "/login"
    else:
        client.login(world["people"][role].email)
        token_page = "/chapters"
    assert attempt_every_route(client, world, token_page) == expected_for(role)


@pytest.mark.parametrize("role", ["member", "officer_of_other_chapter", "webmaster", "district_manager"])
def test_refusals_show_nothing_of_the_roster(role, world, client):
    client.login(world["people"][role].email)
    for url in ("/chapters/40/roster.csv", "/chapters/40/audit", "/chapters/40/import"):
        response = client.submit(url, {}, form_url="/chapters") if url.endswith(".csv") else client.get(url)
        assert response.status_code == 403
        page = response.get_data(as_text=True)
        assert "Hargreaves" not in page and "hargreaves@example.org" not in page


def test_an_upload_is_previewed_and_confirmed_only_by_its_uploader(world, client):
    client.login(world["people"]["secretary"].email)
    response = client.submit("/chapters/40/import", {"file": (io.BytesIO(b"First name,Last name\nAda,Lovelace\n"), "a.csv")},
                             form_url="/chapters/40/import", content_type="multipart/form-data")
    preview = response.headers["Location"]
    assert client.get(preview).status_code == 200
    client.logout()
    for other in ("president", "staff"):  # allowed to import, but this is not their upload
        client.login(world["people"][other].email)
        assert client.get(preview).status_code == 404
        assert client.submit(preview, {}, form_url="/chapters").status_code == 404
        client.logout()
    client.login(world["people"]["treasurer"].email)  # not allowed to import at all
    assert client.get(preview).status_code == 403


def test_district_manager_sees_the_transfers_of_every_chapter_of_the_district_only(world, client):
    client.login(world["people"]["district_manager"].email)
    assert client.get("/chapters/31/transfers").status_code == 200
    assert client.get("/chapters/7/transfers").status_code == 403
