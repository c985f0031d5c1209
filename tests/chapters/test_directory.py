"""The public chapter directory: chapters by district, officers' names and positions only."""
from datetime import timedelta

from chapter.core.models import today
from chapter.extensions import db
from tests import factories


def test_directory_groups_chapters_by_district_with_current_officers(app, client):
    schuylkill = factories.chapter(40, name="Schuylkill Valley", district_code="MA")
    factories.chapter(7, name="Atlanta", district_code="SE")
    factories.officer(schuylkill, "president", holder=factories.user("pres@example.org", name="Paula President"))
    factories.officer(schuylkill, "treasurer", holder=factories.user("old@example.org", name="Olga Oldtreasurer"),
                      starts_on=today() - timedelta(days=500), ends_on=today() - timedelta(days=100))
    db.session.commit()
    page = client.get("/chapters").get_data(as_text=True)
    assert "Mid-Atlantic district" in page and "Southeast district" in page
    assert "Schuylkill Valley #40" in page and "Atlanta #7" in page
    assert "Paula President" in page
    assert "Olga Oldtreasurer" not in page
    assert "pres@example.org" not in page  # names only


def test_directory_search(app, client):
    factories.chapter(40, name="Schuylkill Valley")
    factories.chapter(7, name="Atlanta", district_code="SE")
    db.session.commit()
    page = client.get("/chapters?q=atl").get_data(as_text=True)
    assert "Atlanta #7" in page and "Schuylkill" not in page
    assert "Schuylkill Valley #40" in client.get("/chapters?q=40").get_data(as_text=True)


def test_inactive_chapters_are_not_listed(app, client):
    factories.chapter(99, name="Closed Chapter", is_active=False)
    db.session.commit()
    assert "Closed Chapter" not in client.get("/chapters").get_data(as_text=True)
