"""Who sees a roster: officers of the chapter, its district manager, staff; nobody else."""
from datetime import timedelta

import pytest

from chapter.core.models import today
from chapter.extensions import db
from tests import factories


@pytest.fixture
def world(app):
    """Chapter A (Mid-Atlantic) with a member, chapter B (Mid-Atlantic), chapter C (Southeast)."""
    a = factories.chapter(40, name="Schuylkill Valley", district_code="MA")
    b = factories.chapter(31, name="Pittsburgh", district_code="MA")
    c = factories.chapter(7, name="Atlanta", district_code="SE")
    member = factories.member(home=a, status="active", email="member@example.org", with_user=True, last_name="Zimmerman")
    people = {
        "member": member.user,
        "officer_of_other_chapter": factories.officer(b, "president"),
        "district_manager": factories.district_manager(factories.district("MA")),
        "manager_of_other_district": factories.district_manager(factories.district("SE")),
        "staff": factories.staff(),
        "past_president": factories.officer(a, "president", starts_on=today() - timedelta(days=400),
                                            ends_on=today() - timedelta(days=1)),
        "future_secretary": factories.officer(a, "secretary", starts_on=today() + timedelta(days=1)),
    }
    for code in ("president", "president_elect", "treasurer", "secretary", "vp_membership", "vp_education"):
        if code == "secretary":
            people[code] = factories.officer(a, code, starts_on=today() - timedelta(days=10), ends_on=today())
        else:
            people[code] = factories.officer(a, code)
    db.session.commit()
    return {"a": a, "b": b, "c": c, "member": member, "people": people}


ALLOWED = ["president", "president_elect", "treasurer", "secretary", "vp_membership", "vp_education",
           "district_manager", "staff"]
REFUSED = ["member", "officer_of_other_chapter", "manager_of_other_district", "past_president", "future_secretary"]


@pytest.mark.parametrize("who", ALLOWED)
def test_roster_and_member_record_are_open_to(who, world, client):
    client.login(world["people"][who].email)
    roster = client.get("/chapters/40/roster")
    assert roster.status_code == 200
    assert "Zimmerman" in roster.get_data(as_text=True)
    record = client.get(f"/chapters/40/members/{world['member'].member_number}")
    assert record.status_code == 200 and "Zimmerman" in record.get_data(as_text=True)


@pytest.mark.parametrize("who", REFUSED)
def test_roster_and_member_record_are_refused_to(who, world, client):
    client.login(world["people"][who].email)
    for url in ("/chapters/40/roster", f"/chapters/40/members/{world['member'].member_number}"):
        response = client.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "Not allowed" in page
        assert "Roster of" not in page and "Chapter history" not in page


def test_anonymous_is_sent_to_log_in(world, client):
    for url in ("/chapters/40/roster", f"/chapters/40/members/{world['member'].member_number}", "/rosters"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_president_of_chapter_a_gets_403_on_chapter_b(world, client):
    client.login(world["people"]["president"].email)
    assert client.get("/chapters/40/roster").status_code == 200
    assert client.get("/chapters/31/roster").status_code == 403


def test_district_manager_sees_every_chapter_of_the_district_only(world, client):
    client.login(world["people"]["district_manager"].email)
    assert client.get("/chapters/40/roster").status_code == 200
    assert client.get("/chapters/31/roster").status_code == 200
    assert client.get("/chapters/7/roster").status_code == 403
    listing = client.get("/rosters").get_data(as_text=True)
    assert "Schuylkill Valley #40" in listing and "Pittsburgh #31" in listing and "Atlanta #7" not in listing


def test_unknown_chapter_or_member_number_is_404(world, client):
    client.login(world["people"]["staff"].email)
    assert client.get("/chapters/999/roster").status_code == 404
    assert client.get("/chapters/40/members/0000000").status_code == 404
    # A member of another chapter is not found through this chapter's roster.
    other = factories.member(home=world["b"])
    db.session.commit()
    assert client.get(f"/chapters/40/members/{other.member_number}").status_code == 404


def test_a_plain_member_has_no_rosters_page(world, client):
    client.login("member@example.org")
    assert client.get("/rosters").status_code == 403
    assert "Rosters" not in client.get("/dashboard").get_data(as_text=True)


def test_officer_rights_follow_the_term_dates(world, client):
    # The secretary's term ends today: still an officer today (inclusive last day).
    client.login(world["people"]["secretary"].email)
    assert client.get("/chapters/40/roster").status_code == 200
