"""A chapter's public page tells a visitor what the chapter is, where it meets, whom to write to, and lets them join."""
from chapter.extensions import db
from tests import factories


def test_a_visitor_reads_the_description_meeting_place_and_contact_and_can_join_the_chapter(app, client):
    factories.chapter(40, name="Schuylkill Valley", description="Supply chain people of the Schuylkill valley.",
                      meeting_place="Penn Stater Hotel, State College", contact_email="info@sv40.example.org")
    db.session.commit()
    page = client.get("/chapters/40").get_data(as_text=True)
    assert "Supply chain people of the Schuylkill valley." in page
    assert "Penn Stater Hotel, State College" in page
    assert 'href="mailto:info@sv40.example.org"' in page
    assert 'href="/register?chapter=40">Join this chapter</a>' in page
    form = client.get("/register?chapter=40").get_data(as_text=True)
    assert '<option selected value="' in form and "Schuylkill Valley #40</option>" in form.split("<option selected")[1][:80]


def test_a_member_of_another_chapter_joins_this_one_from_its_page(app, client):
    factories.member(home=factories.chapter(31, name="Pittsburgh"), status="active", email="ada@example.org",
                     with_user=True)
    target = factories.chapter(40, name="Schuylkill Valley")
    db.session.commit()
    client.login("ada@example.org")
    page = client.get("/chapters/40").get_data(as_text=True)
    assert 'href="/home-chapter?chapter=40">Join this chapter</a>' in page
    form = client.get("/home-chapter?chapter=40").get_data(as_text=True)
    assert f'<option selected value="{target.id}">' in form


def test_staff_give_a_chapter_its_description_meeting_place_and_contact(app, client):
    chapter = factories.chapter(40, name="Schuylkill Valley")
    staff = factories.staff()
    db.session.commit()
    client.login(staff.email)
    answer = client.submit("/admin/chapters/40/edit", {
        "number": "40", "name": "Schuylkill Valley", "district_id": str(chapter.district_id), "country": "US",
        "currency": "USD", "dues_share_cents": "35.00", "description": "We meet monthly.",
        "meeting_place": "Reading Public Library", "contact_email": "info@sv40.example.org", "is_active": "y"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:3000]
    db.session.refresh(chapter)
    assert (chapter.description, chapter.meeting_place, chapter.contact_email) == (
        "We meet monthly.", "Reading Public Library", "info@sv40.example.org")
