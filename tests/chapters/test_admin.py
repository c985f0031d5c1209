"""Staff administration: districts, chapters, officer appointments, membership types."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from chapter.chapters.models import Chapter, District, DistrictManagerTerm, OfficerTerm
from chapter.core.models import today
from chapter.extensions import db
from chapter.members.models import MembershipType
from tests import factories

STAFF_PAGES = ["/admin/districts", "/admin/chapters", "/admin/chapters/new", "/admin/membership-types",
               "/admin/membership-types/new"]


@pytest.fixture
def staff_client(app, client):
    factories.reference_data()
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    return client


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_refuse_everyone_else(app, client, url):
    home = factories.chapter(40)
    president = factories.officer(home, "president")
    db.session.commit()
    assert "/login" in client.get(url).headers["Location"]
    client.login(president.email)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_pages_open_to_staff(staff_client, url):
    assert staff_client.get(url).status_code == 200


def test_staff_adds_a_district_and_duplicate_names_are_refused(staff_client):
    assert staff_client.submit("/admin/districts", {"name": "Caribbean", "code": "car"}).status_code == 302
    assert db.session.scalar(sa.select(District).where(District.code == "CAR")).name == "Caribbean"
    response = staff_client.submit("/admin/districts", {"name": "Caribbean", "code": "CX"})
    assert response.status_code == 400
    assert "Another district already has this code or name." in response.get_data(as_text=True)


def test_staff_appoints_a_district_manager_who_then_sees_the_rosters(staff_client, client):
    home = factories.chapter(40, district_code="MA")
    manager = factories.user("dm@example.org", name="Dana Manager")
    db.session.commit()
    district = factories.district("MA")
    response = staff_client.submit(f"/admin/districts/{district.id}",
                                   {"manager-email": "dm@example.org", "manager-starts_on": today().isoformat()})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(DistrictManagerTerm).where(DistrictManagerTerm.user_id == manager.id))
    staff_client.logout()
    client.login("dm@example.org")
    assert client.get(f"/chapters/{home.number}/roster").status_code == 200


def test_staff_creates_and_edits_a_chapter(staff_client):
    district = factories.district("MA")
    form = {"number": "168", "name": "Central Penn", "district_id": district.id, "city": "Harrisburg",
            "country": "us", "currency": "usd", "dues_share_cents": "35.00", "is_active": "y"}
    assert staff_client.submit("/admin/chapters/new", form).status_code == 302
    chapter = db.session.scalar(sa.select(Chapter).where(Chapter.number == 168))
    assert (chapter.name, chapter.currency, chapter.country, chapter.dues_share_cents) == ("Central Penn", "USD", "US", 3500)
    response = staff_client.submit("/admin/chapters/168/edit", {**form, "name": "Central Pennsylvania", "dues_share_cents": "40"})
    assert response.status_code == 302
    db.session.refresh(chapter)
    assert chapter.name == "Central Pennsylvania" and chapter.dues_share_cents == 4000


def test_chapter_form_errors_keep_the_input(staff_client):
    factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()
    district = factories.district("MA")
    response = staff_client.submit("/admin/chapters/new", {
        "number": "40", "name": "Copycat", "district_id": district.id, "country": "US", "currency": "USD",
        "dues_share_cents": "12.345", "website": "javascript:alert(1)"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most two decimals" in page
    assert "Start with http:// or https://." in page
    assert 'value="Copycat"' in page
    response = staff_client.submit("/admin/chapters/new", {
        "number": "40", "name": "Copycat", "district_id": district.id, "country": "US", "currency": "USD",
        "dues_share_cents": "10"})
    assert "Chapter #40 already exists (Schuylkill Valley)." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chapter)) == 1


def test_staff_chapter_list_is_searchable(staff_client):
    factories.chapter(40, name="Schuylkill Valley")
    factories.chapter(31, name="Pittsburgh")
    db.session.commit()
    page = staff_client.get("/admin/chapters?q=pitt").get_data(as_text=True)
    assert "Pittsburgh" in page and "Schuylkill" not in page


def test_president_appoints_and_ends_officers_of_their_chapter(app, client):
    home = factories.chapter(40)
    other = factories.chapter(31)
    president = factories.officer(home, "president")
    newcomer = factories.user("newcomer@example.org", name="Nina Newcomer")
    db.session.commit()
    client.login(president.email)
    treasurer = factories.position("treasurer")
    response = client.submit("/chapters/40/officers", {"email": "newcomer@example.org", "position_id": treasurer.id,
                                                      "starts_on": today().isoformat()})
    assert response.status_code == 302
    term = db.session.scalar(sa.select(OfficerTerm).where(OfficerTerm.user_id == newcomer.id))
    assert term.chapter_id == home.id and term.ends_on is None
    # The same position cannot have two holders at once.
    again = client.submit("/chapters/40/officers", {"email": president.email, "position_id": treasurer.id,
                                                   "starts_on": today().isoformat()})
    assert again.status_code == 400 and "Nina Newcomer holds Treasurer / VP Finance" in again.get_data(as_text=True)
    # End the term; the officer loses the roster from the next day.
    last_day = today() + timedelta(days=3)
    asked = client.submit(f"/chapters/40/officers/{term.id}/end", {"ends_on": last_day.isoformat()},
                          form_url="/chapters/40/officers")
    assert "End Nina Newcomer&#39;s term as Treasurer / VP Finance" in asked.get_data(as_text=True)
    db.session.refresh(term)
    assert term.ends_on is None  # not before the confirmation
    client.submit(f"/chapters/40/officers/{term.id}/end", {"ends_on": last_day.isoformat(), "confirmed": "yes"},
                  form_url="/chapters/40/officers")
    db.session.refresh(term)
    assert term.ends_on == last_day
    # Another chapter's officers are not theirs to manage.
    assert client.get("/chapters/31/officers").status_code == 403


def test_treasurer_cannot_manage_officers(app, client):
    home = factories.chapter(40)
    treasurer = factories.officer(home, "treasurer")
    db.session.commit()
    client.login(treasurer.email)
    assert client.get("/chapters/40/officers").status_code == 403


def test_appointing_an_unknown_person_is_explained(app, client):
    home = factories.chapter(40)
    president = factories.officer(home, "president")
    db.session.commit()
    client.login(president.email)
    response = client.submit("/chapters/40/officers", {"email": "ghost@example.org",
                                                      "position_id": factories.position("secretary").id,
                                                      "starts_on": today().isoformat()})
    assert response.status_code == 400
    assert "No account uses this e-mail address" in response.get_data(as_text=True)


def test_staff_creates_a_membership_type_with_prices_in_cents(staff_client):
    response = staff_client.submit("/admin/membership-types/new", {
        "code": "young_professional", "name": "Young Professional", "kind": "individual", "currency": "usd",
        "join_price_cents": "99.50", "renewal_price_cents": "99.50", "chapter_share_cents": "20",
        "term_months": "12", "grace_days": "30", "sort_order": "15", "is_public": "y", "is_invoiced": "y",
        "is_available": "y"})
    assert response.status_code == 302
    created = db.session.scalar(sa.select(MembershipType).where(MembershipType.code == "young_professional"))
    assert (created.join_price_cents, created.chapter_share_cents, created.currency) == (9950, 2000, "USD")
    assert "Young Professional" in staff_client.get("/admin/membership-types").get_data(as_text=True)


def test_membership_type_share_above_price_is_refused(staff_client):
    response = staff_client.submit("/admin/membership-types/new", {
        "code": "cheap", "name": "Cheap", "kind": "individual", "currency": "USD", "join_price_cents": "10",
        "renewal_price_cents": "10", "chapter_share_cents": "20", "term_months": "12", "grace_days": "30",
        "sort_order": "1", "is_invoiced": "y"})
    assert response.status_code == 400
    assert "The chapter share cannot exceed the price." in response.get_data(as_text=True)
