"""The member's own pages: dashboard, profile, home chapter (with history)."""
import sqlalchemy as sa

from chapter.chapters.models import ChapterTransfer
from chapter.extensions import db
from tests import factories


def test_dashboard_shows_status_end_date_chapter_and_number(app, client):
    home = factories.chapter(31, name="Pittsburgh")
    member = factories.member(home=home, status="active", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Active" in page
    assert member.member_number in page
    assert "Pittsburgh #31" in page
    assert f"{member.paid_through.day} {member.paid_through:%b %Y}" in page


def test_dashboard_of_a_member_in_grace_invites_renewal(app, client):
    factories.member(status="grace", email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    page = client.get("/dashboard").get_data(as_text=True)
    assert "In grace" in page and "renew before" in page


def test_member_edits_the_profile(app, client):
    member = factories.member(email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/profile", {"first_name": "Ada", "last_name": "Byron", "employer": "Babbage & Co",
                                          "country": "GB", "city": "London"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert (member.last_name, member.employer, member.country, member.city) == ("Byron", "Babbage & Co", "GB", "London")


def test_bad_profile_input_comes_back_with_messages_and_input(app, client):
    member = factories.member(email="ada@example.org", with_user=True, last_name="Lovelace")
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/profile", {"first_name": "", "last_name": "Byron", "country": "Britain"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This field is required." in page and "Use a 2-letter code" in page
    assert 'value="Britain"' in page
    db.session.refresh(member)
    assert member.last_name == "Lovelace"


def test_changing_home_chapter_takes_effect_at_once_and_keeps_history(app, client):
    old = factories.chapter(40, name="Schuylkill Valley")
    new = factories.chapter(168, name="Central Penn")
    member = factories.member(home=old, email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/home-chapter", {"home_chapter_id": new.id})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.home_chapter_id == new.id
    moves = db.session.scalars(sa.select(ChapterTransfer).where(ChapterTransfer.member_id == member.id)
                               .order_by(ChapterTransfer.id)).all()
    assert [(m.from_chapter_id, m.to_chapter_id) for m in moves] == [(None, old.id), (old.id, new.id)]
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Central Penn #168" in page and "Schuylkill Valley #40 → Central Penn #168" in page


def test_changing_to_a_chapter_that_does_not_exist_is_refused(app, client):
    home = factories.chapter(40)
    member = factories.member(home=home, email="ada@example.org", with_user=True)
    db.session.commit()
    client.login("ada@example.org")
    response = client.submit("/home-chapter", {"home_chapter_id": 99999})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(member)
    assert member.home_chapter_id == home.id
